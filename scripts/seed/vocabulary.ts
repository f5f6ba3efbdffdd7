/**
 * What seeded jobs are made of besides their type: owners, tenants and their apps, environments,
 * the status mix, and the names that job names and assets are built from.
 */
import type { JobStatus } from '../../src/jobs/job-status';

/**
 * Owners from most to least active (the draw favours the first ones: the first owns ~14% of the
 * jobs, the last ~1%), each with a home tenant (0: works across tenants).
 */
export const OWNERS: ReadonlyArray<readonly [id: string, name: string, tenant: number]> = [
  ['svc-scheduler', 'Scheduler', 0],
  ['svc-ci', 'CI pipeline', 0],
  ['alice', 'Alice Martin', 1],
  ['j.doe', 'John Doe', 2],
  ['bob', 'Bob Dubois', 1],
  ['m.garcia', 'Maria Garcia', 3],
  ['svc-dataops', 'DataOps bot', 0],
  ['k.tanaka', 'Kenji Tanaka', 2],
  ['carol', 'Carol Nguyen', 1],
  ['dave', 'Dave Wilson', 1],
  ['p.rossi', 'Paolo Rossi', 2],
  ['erin', 'Erin Okafor', 1],
  ['s.mueller', 'Sabine Müller', 3],
  ['a.kowalski', 'Anna Kowalski', 1],
  ['l.silva', 'Lucas Silva', 2],
  ['frank.li', 'Frank Li', 1],
  ['grace.kim', 'Grace Kim', 2],
  ['h.jensen', 'Henrik Jensen', 3],
  ['i.haddad', 'Ines Haddad', 1],
  ['t.novak', 'Tomas Novak', 2],
  ['svc-etl', 'ETL service', 0],
  ['n.brown', 'Nora Brown', 1],
  ['o.lopez', 'Oscar Lopez', 3],
  ['r.schmidt', 'Ralf Schmidt', 2],
  ['u.patel', 'Uma Patel', 1],
  ['v.ivanova', 'Vera Ivanova', 2],
  ['w.chen', 'Wei Chen', 3],
  ['y.sato', 'Yuki Sato', 1],
  ['z.ali', 'Zara Ali', 2],
  ['c.dupont', 'Claire Dupont', 1],
  ['d.moreau', 'Denis Moreau', 3],
  ['e.fischer', 'Eva Fischer', 2],
  ['f.romano', 'Franco Romano', 1],
  ['g.berg', 'Greta Berg', 2],
  ['h.yilmaz', 'Hakan Yilmaz', 3],
  ['i.costa', 'Iris Costa', 1],
  ['j.murphy', 'Jack Murphy', 2],
  ['k.larsen', 'Karin Larsen', 1],
  ['m.weber', 'Max Weber', 3],
  ['n.ahmed', 'Nadia Ahmed', 2],
  ['o.berg', 'Ola Berg', 1],
  ['p.kumar', 'Priya Kumar', 2],
  ['q.zhang', 'Qing Zhang', 3],
  ['r.evans', 'Rhys Evans', 1],
  ['s.kaur', 'Simran Kaur', 2],
  ['t.walker', 'Tom Walker', 1],
  ['u.suzuki', 'Umi Suzuki', 3],
  ['v.rey', 'Victor Rey', 2],
  ['svc-backup', 'Backup service', 0],
  ['x.meyer', 'Xenia Meyer', 1],
];

/** Tenants (with the share of cross-tenant work each gets), their mail domains and four apps each. */
export const TENANTS = ['acme', 'globex', 'initech'] as const;
export const TENANT_WEIGHTS = [45, 35, 20];
export const TENANT_DOMAINS = ['acme.com', 'globex.com', 'initech.com'];
export const TENANT_APPS = [
  ['payments', 'crm', 'warehouse', 'storefront'],
  ['billing', 'hr', 'analytics', 'mail'],
  ['reports', 'inventory', 'helpdesk', 'finance'],
];
export const ENVS = ['prod', 'staging', 'dev'];
export const ENV_WEIGHTS = [55, 28, 17];

/** Status mix of a mature job monitor (percent): every status of the data, each once (the type checks the names). */
export const STATUS_WEIGHTS: ReadonlyArray<readonly [JobStatus, number]> = [
  ['SUCCEEDED', 70.4],
  ['FAILED', 8],
  ['CANCELLED', 4],
  ['ABENDED', 1],
  ['EXPIRED', 1],
  ['REJECTED', 1],
  ['CREATED', 1],
  ['PENDING', 5],
  ['WAITING_APPROVAL', 1],
  ['RUNNING', 6],
  ['TRAPPED', 0.6],
  ['TRAP_PAUSED', 0.3],
  ['CANCELLING', 0.4],
  ['ROLLBACK', 0.3],
];

export const TABLES = [
  'customers',
  'customer_addresses',
  'orders',
  'order_lines',
  'invoices',
  'payments',
  'employees',
  'contacts',
  'accounts',
  'patients',
  'claims',
  'transactions',
  'products',
  'suppliers',
  'shipments',
  'subscriptions',
  'users',
  'leads',
  'tickets',
  'payroll',
];
export const SCHEMAS = ['public', 'sales', 'finance', 'hr', 'crm', 'analytics', 'billing', 'ops'];
export const DATABASES = ['crm_prod', 'billing_db', 'erp', 'warehouse', 'hr_system', 'orders_db'];
export const ENTITIES = [
  'products',
  'customers',
  'prices',
  'categories',
  'attributes',
  'families',
  'assets',
  'suppliers',
  'stock_levels',
  'product_models',
  'customer_groups',
  'translations',
];
export const EXTENSIONS = ['csv', 'csv', 'xlsx', 'xml', 'json'];
export const EXPORT_TARGETS = [
  'CSV',
  'XLSX',
  'Shopify',
  'Amazon Marketplace',
  'print catalog',
  'S3 bucket',
  'SFTP partner feed',
  'Google Shopping',
];
export const SERVICES = [
  'billing-api',
  'checkout',
  'auth-service',
  'search-indexer',
  'notification-worker',
  'payments-gateway',
  'catalog-api',
  'reporting',
  'web-frontend',
  'mobile-bff',
  'inventory-sync',
  'mail-relay',
];
export const DATASOURCES = [
  'snowflake-prod',
  'postgres-orders',
  'bigquery-analytics',
  'redshift-dw',
  'mysql-legacy',
  's3-datalake',
  'databricks-lakehouse',
  'oracle-erp',
];
export const METRICS = ['row_count', 'null_rate', 'distinct_count', 'freshness_lag', 'avg_amount', 'duplicate_rate'];
export const EDIT_ACTIONS = [
  'set brand',
  'add to category "Summer sale"',
  'change family to "shoes"',
  'update prices',
  'enable',
  'add 3 attributes',
];
export const RULESETS = [
  'set_default_tax',
  'copy_description',
  'compute_margin',
  'normalize_colors',
  'assign_categories',
  'fill_seo_fields',
];
export const CHANNELS = ['ecommerce', 'print', 'mobile', 'marketplace'];
export const LAST_NAMES = [
  'doe',
  'smith',
  'martin',
  'garcia',
  'mueller',
  'rossi',
  'tanaka',
  'nguyen',
  'kowalski',
  'dubois',
  'silva',
  'jensen',
  'okafor',
  'haddad',
  'novak',
  'lee',
  'brown',
  'wilson',
  'lopez',
  'schmidt',
];
export const MAIL_FOLDERS = [
  'INBOX',
  'Sent Items',
  'Drafts',
  'Archive',
  'Deleted Items',
  'Junk Email',
  'Projects',
  'Clients',
  'Archive/2023',
  'Archive/2024',
];
export const REJECT_REASONS = [
  'outside the change window',
  'missing change ticket',
  'not approved for production',
  'duplicate of a running job',
];
/** Who approves (bob is the demo operator); comma-joined sets of one or two. */
export const APPROVER_SETS = ['bob', 'alice', 'bob,alice', 'frank.li', 'bob,grace.kim', 'grace.kim,frank.li'];
export const WORKERS = 12;

/** The statuses in which a worker holds the job (a lease, a heartbeat), as an SQL list. */
export const WORKER_HELD = `('RUNNING','TRAPPED','TRAP_PAUSED','CANCELLING','ROLLBACK')`;
