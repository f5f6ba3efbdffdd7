/**
 * Demo and benchmark data: realistic jobs generated inside Postgres.
 *
 * Rows are produced server-side by `INSERT ... SELECT ... FROM generate_series(lo, hi)` in batches,
 * so a million jobs never cross the wire. Every random choice is a `random()` draw made once per
 * row in the innermost subquery; the outer levels (which `OFFSET 0` keeps from being flattened
 * and recomputed) derive everything else from those draws, so that each row is consistent with
 * its status: a job that never ran has no `started_at`, a finished one has `finished_at` after its
 * start, a worker-held one has a worker, a lease and a fresh heartbeat, and so on.
 *
 * Distributions are skewed on purpose (a few owners and types dominate, most jobs succeeded,
 * creation follows a daily rhythm) so that the list queries meet the data shapes they will meet
 * in production. Tasks and timeline events are written for the most recent ~5% of the jobs only,
 * in the same statement as those jobs, from the same computed values.
 */
import { availableParallelism } from 'node:os';
import type { Pool, PoolClient } from 'pg';
import { SqlParams } from '../db/sql-params';

export interface SeedOptions {
  /** How many jobs to add. */
  readonly jobs: number;
  /** Empty jobs, tasks and timeline_events first. */
  readonly reset?: boolean;
  readonly log?: (msg: string) => void;
  /** Concurrent connections for loading and for index builds (default: the CPU count, 1 to 4). */
  readonly parallel?: number;
  /** Rows per INSERT statement (default 50,000). */
  readonly batchSize?: number;
  /** Stops after the batches in flight; the indexes are still recreated. */
  readonly signal?: AbortSignal;
  /**
   * How many days back creation times go (default SEED_HISTORY_DAYS). Every seeded job is
   * created, and every finished one finished, within that window: a server whose RETENTION_DAYS
   * is at least this keeps them all (`historyDaysFor` picks the window for a retention).
   */
  readonly historyDays?: number;
}

export interface SeedResult {
  readonly jobs: number;
  readonly seconds: number;
}

const DAY = 86_400;
/**
 * How far back creation times go unless told: three months of history, for benchmarks (which
 * run their server with a retention long enough to keep it). `npm run seed` uses
 * `historyDaysFor(RETENTION_DAYS)` instead, so that a server with the same settings keeps it.
 */
export const SEED_HISTORY_DAYS = 90;
export const MAX_HISTORY_DAYS = 3650;

/**
 * The history a server with this RETENTION_DAYS keeps: the whole retention window, up to
 * SEED_HISTORY_DAYS, and at least one day (with 0, finished jobs are deleted at once anyway).
 */
export function historyDaysFor(retentionDays: number): number {
  return Math.max(1, Math.min(SEED_HISTORY_DAYS, retentionDays));
}
/** The newest share of the jobs that also get tasks and timeline events. */
const RECENT_SHARE = 0.05;
/** Amplitude of the daily rhythm of job creation (0: flat), and its busiest hour (UTC). */
const DAILY_AMPLITUDE = 0.6;
const PEAK_HOUR_UTC = 14;

// ---------------------------------------------------------------------------------------------
// Vocabulary
// ---------------------------------------------------------------------------------------------

interface JobTypeSpec {
  readonly type: string;
  /** Relative frequency. */
  readonly weight: number;
  readonly unit: string;
  readonly verbPast: string;
  readonly verbIng: string;
  /** The phase a worker reports while doing the main work. */
  readonly phase: string;
  /** Median run time in seconds; actual runs vary from ~0.2x to ~4.5x. */
  readonly medianSeconds: number;
  /** Work size range (log-uniform), in `unit`. */
  readonly minTotal: number;
  readonly maxTotal: number;
  /** Three typical failures. */
  readonly errors: readonly [string, string, string];
  /** Stack frames under the error line. */
  readonly frames: string;
}

const frames = (...lines: string[]) => lines.map((line) => `    at ${line}`).join('\n');

/** The job types of the seed documents (Delphix, Clarive, AnomalyArmor, Akeneo, mail migration). */
const JOB_TYPES: readonly JobTypeSpec[] = [
  {
    type: 'freshness-check', weight: 16, unit: 'tables', verbPast: 'Checked', verbIng: 'Checking', phase: 'checking',
    medianSeconds: 8, minTotal: 1, maxTotal: 200,
    errors: [
      'Table is stale: last update 26 hours ago exceeds the 24 h threshold',
      'Permission denied for schema finance',
      'Query timed out after 60 s (warehouse ANALYTICS_WH is overloaded)',
    ],
    frames: frames('FreshnessCheck.evaluate (checks/freshness.py:118)', 'Runner.run_check (checks/runner.py:64)', 'Worker.execute (worker/main.py:203)'),
  },
  {
    type: 'metric-capture', weight: 14, unit: 'metrics', verbPast: 'Captured', verbIng: 'Capturing', phase: 'capturing',
    medianSeconds: 15, minTotal: 1, maxTotal: 100,
    errors: [
      'division by zero while computing null_rate',
      'Column "amount" does not exist',
      'Snowflake error 000606: No active warehouse selected',
    ],
    frames: frames('MetricCapture.compute (metrics/capture.py:77)', 'Runner.run_metric (metrics/runner.py:41)', 'Worker.execute (worker/main.py:203)'),
  },
  {
    type: 'import', weight: 12, unit: 'lines', verbPast: 'Imported', verbIng: 'Importing', phase: 'importing',
    medianSeconds: 60, minTotal: 100, maxTotal: 2_000_000,
    errors: [
      'Invalid file format: line 1284: expected 12 columns, got 11',
      'The attribute "color" does not exist',
      'Duplicate identifier "SKU-10442" in the file',
    ],
    frames: frames(
      'Akeneo\\Tool\\Component\\Connector\\Reader\\File\\Csv\\Reader->read() (Reader.php:112)',
      'Akeneo\\Tool\\Component\\Batch\\Step\\ItemStep->doExecute() (ItemStep.php:143)',
      'Akeneo\\Tool\\Component\\Batch\\Job\\Job->execute() (Job.php:164)',
    ),
  },
  {
    type: 'export', weight: 10, unit: 'products', verbPast: 'Exported', verbIng: 'Exporting', phase: 'exporting',
    medianSeconds: 45, minTotal: 100, maxTotal: 500_000,
    errors: [
      'SFTP upload failed: Permission denied (publickey)',
      'Channel "print" has no locale activated',
      'Disk quota exceeded while writing the archive',
    ],
    frames: frames(
      'Akeneo\\Tool\\Component\\Connector\\Writer\\File\\Csv\\Writer->write() (Writer.php:98)',
      'Akeneo\\Tool\\Component\\Batch\\Step\\ItemStep->doExecute() (ItemStep.php:151)',
      'Akeneo\\Tool\\Component\\Batch\\Job\\Job->execute() (Job.php:164)',
    ),
  },
  {
    type: 'masking', weight: 8, unit: 'rows', verbPast: 'Masked', verbIng: 'Masking', phase: 'masking',
    medianSeconds: 600, minTotal: 10_000, maxTotal: 50_000_000,
    errors: [
      'ORA-01555: snapshot too old: rollback segment number 12 with name "_SYSSMU12$" too small',
      'Algorithm SecureLookup failed on column EMAIL: value too long for type character varying(64)',
      'Connection reset by peer while reading from the source database',
    ],
    frames: frames(
      'com.delphix.masking.engine.TableMasker.maskRow(TableMasker.java:412)',
      'com.delphix.masking.engine.TableMasker.run(TableMasker.java:188)',
      'com.delphix.masking.job.MaskingJob.execute(MaskingJob.java:97)',
    ),
  },
  {
    type: 'deployment', weight: 8, unit: 'steps', verbPast: 'Completed', verbIng: 'Running step', phase: 'rolling out',
    medianSeconds: 240, minTotal: 4, maxTotal: 24,
    errors: [
      'Health check failed: GET /healthz returned 503 for 300 s',
      'Image pull failed: manifest unknown',
      'Database migration 0042_add_index failed: lock timeout',
    ],
    frames: frames('Deploy.rollout (deploy/rollout.pm:211)', 'Job::Step::run (Job/Step.pm:88)', 'Job::Daemon::dispatch (Job/Daemon.pm:143)'),
  },
  {
    type: 'asset-discovery', weight: 6, unit: 'tables', verbPast: 'Discovered', verbIng: 'Discovering', phase: 'scanning',
    medianSeconds: 120, minTotal: 20, maxTotal: 5_000,
    errors: [
      'Authentication failed for user "armor_reader"',
      'Warehouse ANALYTICS_WH is suspended',
      'Too many tables in schema raw (limit 5000)',
    ],
    frames: frames('Discovery.scan_schema (discovery/scan.py:152)', 'Discovery.run (discovery/scan.py:61)', 'Worker.execute (worker/main.py:203)'),
  },
  {
    type: 'tag-generation', weight: 5, unit: 'columns', verbPast: 'Tagged', verbIng: 'Tagging', phase: 'tagging',
    medianSeconds: 90, minTotal: 20, maxTotal: 5_000,
    errors: ['Model endpoint returned 429 Too Many Requests', 'Column sample is empty', 'Tag taxonomy "pii-v2" not found'],
    frames: frames('TagGenerator.classify (tags/generate.py:98)', 'TagGenerator.run (tags/generate.py:40)', 'Worker.execute (worker/main.py:203)'),
  },
  {
    type: 'lineage-extraction', weight: 5, unit: 'queries', verbPast: 'Parsed', verbIng: 'Parsing', phase: 'parsing',
    medianSeconds: 180, minTotal: 100, maxTotal: 100_000,
    errors: ['Query history is not available for this account', 'Unsupported SQL dialect in query 88121', 'Query log export timed out'],
    frames: frames('Lineage.parse_query (lineage/parse.py:233)', 'Lineage.extract (lineage/extract.py:71)', 'Worker.execute (worker/main.py:203)'),
  },
  {
    type: 'mass-edit', weight: 5, unit: 'products', verbPast: 'Updated', verbIng: 'Updating', phase: 'updating',
    medianSeconds: 30, minTotal: 10, maxTotal: 50_000,
    errors: ['Product "SKU-20931" is locked by another process', 'The value "XXL" is not allowed for attribute size', 'Elasticsearch bulk request rejected'],
    frames: frames(
      'Akeneo\\Pim\\Enrichment\\Bundle\\MassEditAction\\Tasklet\\EditAttributesTasklet->execute() (EditAttributesTasklet.php:82)',
      'Akeneo\\Tool\\Component\\Batch\\Step\\TaskletStep->doExecute() (TaskletStep.php:67)',
      'Akeneo\\Tool\\Component\\Batch\\Job\\Job->execute() (Job.php:164)',
    ),
  },
  {
    type: 'intelligence-analysis', weight: 4, unit: 'columns', verbPast: 'Analyzed', verbIng: 'Analyzing', phase: 'analyzing',
    medianSeconds: 300, minTotal: 50, maxTotal: 20_000,
    errors: ['LLM response could not be parsed as JSON', 'Context window exceeded for table events_raw', 'Schema changed during analysis'],
    frames: frames('Intelligence.analyze_table (intel/analyze.py:187)', 'Intelligence.run (intel/analyze.py:52)', 'Worker.execute (worker/main.py:203)'),
  },
  {
    type: 'rules-execution', weight: 4, unit: 'products', verbPast: 'Processed', verbIng: 'Applying rules to', phase: 'applying',
    medianSeconds: 120, minTotal: 100, maxTotal: 500_000,
    errors: ['Rule "compute_margin" references the unknown attribute cost_price', 'Condition on "family" is invalid', 'Memory limit of 512M reached'],
    frames: frames(
      'Akeneo\\Pim\\Automation\\RuleEngine\\Component\\Runner\\ProductRuleRunner->run() (ProductRuleRunner.php:66)',
      'Akeneo\\Pim\\Automation\\RuleEngine\\Bundle\\Command\\RunCommand->execute() (RunCommand.php:121)',
      'Akeneo\\Tool\\Component\\Batch\\Job\\Job->execute() (Job.php:164)',
    ),
  },
  {
    type: 'mail-migration', weight: 3, unit: 'messages', verbPast: 'Migrated', verbIng: 'Migrating', phase: 'copying',
    medianSeconds: 1_800, minTotal: 500, maxTotal: 200_000,
    errors: [
      'IMAP login failed for the source mailbox: AUTHENTICATIONFAILED Invalid credentials',
      'Destination quota exceeded (50 GB)',
      'Connection timed out: imap.example.net:993',
    ],
    frames: frames('imapsync::copy_message (imapsync:8842)', 'imapsync::sync_folder (imapsync:7110)', 'MigrationWorker.run (migrate/worker.pl:64)'),
  },
];

/**
 * Owners from most to least active (the draw favours the first ones: the first owns ~14% of the
 * jobs, the last ~1%), each with a home tenant (0: works across tenants).
 */
const OWNERS: ReadonlyArray<readonly [id: string, name: string, tenant: number]> = [
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
const TENANTS = ['acme', 'globex', 'initech'] as const;
const TENANT_WEIGHTS = [45, 35, 20];
const TENANT_DOMAINS = ['acme.com', 'globex.com', 'initech.com'];
const TENANT_APPS = [
  ['payments', 'crm', 'warehouse', 'storefront'],
  ['billing', 'hr', 'analytics', 'mail'],
  ['reports', 'inventory', 'helpdesk', 'finance'],
];
const ENVS = ['prod', 'staging', 'dev'];
const ENV_WEIGHTS = [55, 28, 17];

/** Status mix of a mature job monitor (percent). */
const STATUS_WEIGHTS: ReadonlyArray<readonly [string, number]> = [
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

const TABLES = [
  'customers', 'customer_addresses', 'orders', 'order_lines', 'invoices', 'payments', 'employees', 'contacts',
  'accounts', 'patients', 'claims', 'transactions', 'products', 'suppliers', 'shipments', 'subscriptions',
  'users', 'leads', 'tickets', 'payroll',
];
const SCHEMAS = ['public', 'sales', 'finance', 'hr', 'crm', 'analytics', 'billing', 'ops'];
const DATABASES = ['crm_prod', 'billing_db', 'erp', 'warehouse', 'hr_system', 'orders_db'];
const ENTITIES = [
  'products', 'customers', 'prices', 'categories', 'attributes', 'families', 'assets', 'suppliers', 'stock_levels',
  'product_models', 'customer_groups', 'translations',
];
const EXTENSIONS = ['csv', 'csv', 'xlsx', 'xml', 'json'];
const EXPORT_TARGETS = ['CSV', 'XLSX', 'Shopify', 'Amazon Marketplace', 'print catalog', 'S3 bucket', 'SFTP partner feed', 'Google Shopping'];
const SERVICES = [
  'billing-api', 'checkout', 'auth-service', 'search-indexer', 'notification-worker', 'payments-gateway', 'catalog-api',
  'reporting', 'web-frontend', 'mobile-bff', 'inventory-sync', 'mail-relay',
];
const DATASOURCES = ['snowflake-prod', 'postgres-orders', 'bigquery-analytics', 'redshift-dw', 'mysql-legacy', 's3-datalake', 'databricks-lakehouse', 'oracle-erp'];
const METRICS = ['row_count', 'null_rate', 'distinct_count', 'freshness_lag', 'avg_amount', 'duplicate_rate'];
const EDIT_ACTIONS = ['set brand', 'add to category "Summer sale"', 'change family to "shoes"', 'update prices', 'enable', 'add 3 attributes'];
const RULESETS = ['set_default_tax', 'copy_description', 'compute_margin', 'normalize_colors', 'assign_categories', 'fill_seo_fields'];
const CHANNELS = ['ecommerce', 'print', 'mobile', 'marketplace'];
const LAST_NAMES = [
  'doe', 'smith', 'martin', 'garcia', 'mueller', 'rossi', 'tanaka', 'nguyen', 'kowalski', 'dubois', 'silva', 'jensen',
  'okafor', 'haddad', 'novak', 'lee', 'brown', 'wilson', 'lopez', 'schmidt',
];
const MAIL_FOLDERS = ['INBOX', 'Sent Items', 'Drafts', 'Archive', 'Deleted Items', 'Junk Email', 'Projects', 'Clients', 'Archive/2023', 'Archive/2024'];
const REJECT_REASONS = ['outside the change window', 'missing change ticket', 'not approved for production', 'duplicate of a running job'];
/** Who approves (bob is the demo operator); comma-joined sets of one or two. */
const APPROVER_SETS = ['bob', 'alice', 'bob,alice', 'frank.li', 'bob,grace.kim', 'grace.kim,frank.li'];
const WORKERS = 12;

// ---------------------------------------------------------------------------------------------
// SQL
// ---------------------------------------------------------------------------------------------

/** The `jobs` columns the generator fills (everything but `secrets`). */
const JOB_INSERT_COLUMNS = [
  'id', 'name', 'type', 'scope', 'owner_id', 'owner_name', 'status', 'step', 'message', 'error_message', 'error_stack',
  'config', 'approvers', 'requires_approval', 'scheduled_at', 'max_start_at', 'created_at', 'started_at', 'finished_at',
  'updated_at', 'previous_run_duration_ms', 'attempt', 'worker_id', 'lease_token', 'heartbeat_at', 'asset',
  'progress_done', 'progress_total', 'progress_unit', 'progress_phase', 'progress_percent', 'progress_rate',
  'progress_updated_at', 'trap_timeout_at', 'cancel_requested_at', 'cancel_requested_by',
].join(', ');

const WORKER_HELD = `('RUNNING','TRAPPED','TRAP_PAUSED','CANCELLING','ROLLBACK')`;

function thresholds(weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const result: number[] = [];
  let running = 0;
  for (const weight of weights.slice(0, -1)) {
    running += weight;
    result.push(running / sum);
  }
  return result;
}

interface Batch {
  readonly lo: number;
  readonly hi: number;
  /** Whether these rows also get tasks and timeline events. */
  readonly recent: boolean;
}

/**
 * The statement for one batch of rows `lo..hi` out of `total` (row numbers drive creation
 * time, oldest first). `now` is the seed's reference time in epoch seconds.
 */
function batchStatement(batch: Batch, total: number, now: number, historyDays: number): { text: string; values: unknown[] } {
  const p = new SqlParams();
  const text = (values: readonly string[]) => `${p.add(values)}::text[]`;
  const floats = (values: readonly number[]) => `${p.add(values)}::float8[]`;
  /** `arr[1 + floor(r * len)]`: a uniform pick. */
  const pick = (array: string, length: number, r: string) => `(${array})[1 + floor(${r} * ${length})::int]`;

  const types = text(JOB_TYPES.map((t) => t.type));
  const typeThresholds = floats(thresholds(JOB_TYPES.map((t) => t.weight)));
  const units = text(JOB_TYPES.map((t) => t.unit));
  const verbPast = text(JOB_TYPES.map((t) => t.verbPast));
  const verbIng = text(JOB_TYPES.map((t) => t.verbIng));
  const phases = text(JOB_TYPES.map((t) => t.phase));
  const medians = floats(JOB_TYPES.map((t) => t.medianSeconds));
  const minTotals = floats(JOB_TYPES.map((t) => t.minTotal));
  const maxTotals = floats(JOB_TYPES.map((t) => t.maxTotal));
  const errors = text(JOB_TYPES.flatMap((t) => t.errors));
  const stacks = text(JOB_TYPES.map((t) => t.frames));
  const owners = text(OWNERS.map((o) => o[0]));
  const ownerNames = text(OWNERS.map((o) => o[1]));
  const ownerTenants = `${p.add(OWNERS.map((o) => o[2]))}::int[]`;
  const tenants = text(TENANTS);
  const tenantThresholds = floats(thresholds(TENANT_WEIGHTS));
  const domains = text(TENANT_DOMAINS);
  const apps = text(TENANT_APPS.flat());
  const envs = text(ENVS);
  const envThresholds = floats(thresholds(ENV_WEIGHTS));
  const statuses = text(STATUS_WEIGHTS.map((s) => s[0]));
  const statusThresholds = floats(thresholds(STATUS_WEIGHTS.map((s) => s[1])));
  const tables = text(TABLES);
  const schemas = text(SCHEMAS);
  const databases = text(DATABASES);
  const entities = text(ENTITIES);
  const extensions = text(EXTENSIONS);
  const exportTargets = text(EXPORT_TARGETS);
  const services = text(SERVICES);
  const datasources = text(DATASOURCES);
  const metrics = text(METRICS);
  const editActions = text(EDIT_ACTIONS);
  const rulesets = text(RULESETS);
  const channels = text(CHANNELS);
  const lastNames = text(LAST_NAMES);
  const rejectReasons = text(REJECT_REASONS);
  const approverSets = text(APPROVER_SETS);

  const typeIndex = (type: string) => JOB_TYPES.findIndex((t) => t.type === type) + 1;
  const t1 = p.add(now);
  const span = historyDays * DAY;
  const t0 = now - span;
  // The daily rhythm: t = tl - A/(2π)·DAY·sin(2π(tl/DAY - peak/24))·g(tl) moves creation times
  // toward the peak hour of each day (densest there, by 1/(1 - A)); g ramps from 0 to 1 over the
  // first and last day so that both ends stay in place. Monotonic since A + A/(2π) < 1.
  const sinOf = (t: string) => `sin(2 * pi() * (${t} / ${DAY} - ${PEAK_HOUR_UTC / 24}))`;

  const draws = [
    'r_type', 'r_owner', 'r_tenant', 'r_app', 'r_env', 'r_status', 'r_jitter', 'w1', 'w2', 'w3', 'w4', 'r_queue',
    'r_dur', 'r_prog', 'r_attempt', 'r_sched', 'r_sched2', 'r_early', 'r_wait', 'r_beat', 'r_beat2', 'r_err',
    'r_total', 'r_approve', 'r_misc',
  ];

  // A: one row per job number with its random draws (random() is volatile: computed once per row).
  const levelA = `SELECT n, ${draws.map((d) => `random() AS ${d}`).join(', ')}
      FROM generate_series(${p.add(batch.lo)}::bigint, ${p.add(batch.hi)}::bigint) AS n`;

  // B: the choices (type, owner, scope, drawn status) and creation time.
  const levelB = `SELECT a.*, ti, oi, te, env, sd, tc, ${t1} - tc AS age,
        1 + floor(r_app * 4)::int + (te - 1) * 4 AS ai,
        CASE WHEN sd = 'CREATED' OR r_attempt < 0.9 THEN 1 WHEN r_attempt < 0.98 THEN 2 ELSE 3 END AS attempt,
        (${medians})[ti] * exp((r_dur - 0.5) * 3) AS dur,
        floor((${minTotals})[ti] * power((${maxTotals})[ti] / (${minTotals})[ti], r_total)) AS total_full,
        r_sched < 0.1 AS has_schedule,
        sd = 'CANCELLED' AND r_early < 0.35 AS cancelled_early,
        CASE sd WHEN 'SUCCEEDED' THEN 1 ELSE 0.02 + 0.96 * r_prog END AS frac
      FROM (${levelA}) a
      CROSS JOIN LATERAL (SELECT
        1 + width_bucket(r_type, ${typeThresholds}) AS ti,
        1 + floor(r_owner * r_owner * ${OWNERS.length})::int AS oi,
        (${statuses})[1 + width_bucket(r_status, ${statusThresholds})] AS sd,
        (${envs})[1 + width_bucket(r_env, ${envThresholds})] AS env) c
      CROSS JOIN LATERAL (SELECT
        coalesce(nullif((${ownerTenants})[oi], 0), 1 + width_bucket(r_tenant, ${tenantThresholds})) AS te) d
      CROSS JOIN LATERAL (SELECT ${t0} + (n - 1 + r_jitter) / ${total} * ${span} AS tl) e
      CROSS JOIN LATERAL (SELECT tl - ${DAILY_AMPLITUDE} / (2 * pi()) * ${DAY}
        * ${sinOf('tl')} * least(1, (tl - ${t0}) / ${DAY}, (${now} - tl) / ${DAY}) AS tc) f
      OFFSET 0`;

  // C: queueing and run times, the final status (a job drawn as finished that cannot have
  // finished by now is still running, or still queued), then every instant of its life, in
  // epoch seconds.
  const levelC = `SELECT b.*, g.*, h.status
      FROM (${levelB}) b
      CROSS JOIN LATERAL (SELECT
        (CASE WHEN has_schedule THEN 600 * exp(r_queue * 5.5) ELSE 0.3 * exp(r_queue * 6) END)
          + CASE WHEN attempt > 1 THEN dur * (0.4 + r_misc) * (attempt - 1) + 120 + r_wait * 7200 ELSE 0 END AS qd,
        CASE WHEN attempt > 1 THEN dur * (0.4 + r_misc) END AS prev_dur,
        sd IN ('SUCCEEDED','FAILED','ABENDED') OR (sd = 'CANCELLED' AND NOT cancelled_early) AS ran_terminal,
        dur * frac + CASE WHEN sd = 'ABENDED' THEN 30 ELSE 0 END AS run_s) g
      CROSS JOIN LATERAL (SELECT CASE
        WHEN ran_terminal AND tc + qd > ${t1} THEN 'PENDING'
        WHEN ran_terminal AND tc + qd + run_s > ${t1} THEN 'RUNNING'
        ELSE sd END AS status) h
      OFFSET 0`;

  const levelC2 = `SELECT c.*, i.*
      FROM (${levelC}) c
      CROSS JOIN LATERAL (SELECT
        CASE
          WHEN status IN ('SUCCEEDED','FAILED','ABENDED','CANCELLED') AND ran_terminal THEN tc + qd
          WHEN status IN ${WORKER_HELD} AND ran_terminal THEN tc + qd
          WHEN status IN ${WORKER_HELD} THEN greatest(tc + least(qd, age * 0.5), ${t1} - dur * frac)
        END AS st,
        CASE
          WHEN status = 'RUNNING' AND ran_terminal THEN least((${t1} - tc - qd) / dur, 0.99)
          WHEN status IN ${WORKER_HELD} OR (ran_terminal AND status NOT IN ('PENDING')) THEN frac
          ELSE 0
        END AS pf,
        CASE
          WHEN status = 'CANCELLED' AND cancelled_early THEN tc + least(60 * exp(r_wait * 6), age * 0.9)
          WHEN status = 'REJECTED' THEN tc + least(300 * exp(r_wait * 5), age * 0.9)
          WHEN status = 'EXPIRED' THEN tc + least(3600 * exp(r_wait * 3), age * 0.9)
          WHEN status IN ('SUCCEEDED','FAILED','ABENDED','CANCELLED') THEN tc + qd + run_s
        END AS fin,
        status = 'RUNNING' AND ti = ${typeIndex('mail-migration')} AND r_misc < 0.35 AS counting,
        (${errors})[(ti - 1) * 3 + 1 + floor(r_err * 3)::int] AS err,
        'worker-' || (1 + floor(r_beat2 * ${WORKERS})::int) AS worker,
        CASE WHEN r_approve < 0.6 THEN (${owners})[oi] ELSE 'bob' END AS canceller,
        (ti = ${typeIndex('deployment')} AND env = 'prod') OR sd IN ('WAITING_APPROVAL','REJECTED')
          OR (ti IN (${typeIndex('masking')}, ${typeIndex('mass-edit')}) AND env = 'prod' AND r_approve < 0.3) AS requires_approval,
        (${approverSets})[1 + floor(r_approve * ${APPROVER_SETS.length})::int] AS approver_set) i
      OFFSET 0`;

  // D: the remaining instants, then the row as stored.
  const levelD = `SELECT c.*, j.*, k.*
      FROM (${levelC2}) c
      CROSS JOIN LATERAL (SELECT
        CASE
          WHEN status IN ('TRAPPED','TRAP_PAUSED') THEN greatest(st, ${t1} - 60 - r_beat * 1800)
        END AS trapped_at,
        CASE
          WHEN status = 'CANCELLING' THEN greatest(st, ${t1} - 2 - r_beat * 20)
          WHEN status = 'CANCELLED' AND st IS NULL THEN fin
          WHEN status = 'CANCELLED' THEN greatest(st, fin - 1 - r_beat * 10)
        END AS cancel_at,
        CASE WHEN status = 'ROLLBACK' THEN greatest(st, ${t1} - 30 - r_beat * 300) END AS rollback_at,
        CASE
          WHEN status = 'ABENDED' THEN fin - 30
          WHEN status IN ${WORKER_HELD} THEN greatest(st, ${t1} - r_beat * 10)
          WHEN st IS NOT NULL THEN greatest(st, fin - r_beat * 5)
        END AS hb,
        CASE
          WHEN status = 'PENDING' AND ran_terminal AND has_schedule THEN tc + qd
          WHEN status = 'PENDING' AND r_sched2 < 0.4 THEN ${t1} + 300 + r_wait * 129600
          WHEN status = 'WAITING_APPROVAL' AND r_sched2 < 0.3 THEN ${t1} + 3600 + r_wait * 172800
          WHEN status = 'EXPIRED' THEN tc + (fin - tc) * 0.4
          WHEN st IS NOT NULL AND has_schedule THEN greatest(tc, st - 1 - r_beat2 * 5)
        END AS sched) j
      CROSS JOIN LATERAL (SELECT
        CASE
          WHEN status = 'EXPIRED' THEN tc + (fin - tc) * 0.999
          WHEN status IN ('PENDING','WAITING_APPROVAL') AND sched > ${t1} THEN sched + 3600 * (1 + floor(r_misc * 8))
          WHEN st IS NOT NULL AND has_schedule AND r_sched2 < 0.5 THEN sched + 14400
        END AS max_start,
        CASE
          WHEN status IN ('TRAPPED','TRAP_PAUSED') THEN trapped_at
          WHEN status = 'ROLLBACK' THEN rollback_at
          WHEN status = 'ABENDED' THEN fin - 30
          WHEN status IN ${WORKER_HELD} THEN greatest(st, ${t1} - r_beat * 15)
          WHEN st IS NOT NULL THEN fin
        END AS prog_at,
        CASE WHEN st IS NULL OR counting THEN NULL ELSE total_full END AS total,
        CASE WHEN st IS NULL OR counting THEN 0 ELSE floor(total_full * pf) END AS done,
        CASE WHEN status = 'TRAP_PAUSED' THEN trapped_at + (${t1} - trapped_at) * (0.2 + 0.6 * r_beat2) END AS paused_at) k
      OFFSET 0`;

  const scope = `(${tenants})[te] || '/' || (${apps})[ai] || '/' || env`;
  const table = pick(tables, TABLES.length, 'w1');
  const schemaTable = `${pick(schemas, SCHEMAS.length, 'w2')} || '.' || ${table}`;
  const year = `(2019 + floor(w3 * 7)::int)`;
  const mailbox = `substr('abcdefghijklmnopqrstuvwxyz', 1 + floor(w2 * 26)::int, 1) || '.' || ${pick(lastNames, LAST_NAMES.length, 'w1')}
    || '@' || (${domains})[te]`;
  const version = `'v' || floor(w2 * 4)::int || '.' || floor(w3 * 30)::int || '.' || floor(w4 * 12)::int`;
  const importFile = `${pick(entities, ENTITIES.length, 'w1')} || '_' || ${year} || '_' || lpad((1 + floor(w4 * 12)::int)::text, 2, '0')
    || '.' || ${pick(extensions, EXTENSIONS.length, 'w2')}`;
  const byType = (cases: Record<string, string>) =>
    `CASE ti ${Object.entries(cases)
      .map(([type, sql]) => `WHEN ${typeIndex(type)} THEN ${sql}`)
      .join(' ')} END`;
  const name = byType({
    masking: `'Mask ' || ${table} || CASE WHEN w3 < 0.25 THEN '_' || ${year} ELSE '' END || ' table'
      || CASE WHEN w4 < 0.3 THEN ' (' || ${pick(databases, DATABASES.length, 'w2')} || ')' ELSE '' END`,
    'mail-migration': `'Migrate mailbox ' || ${mailbox}`,
    deployment: `'Deploy ' || ${pick(services, SERVICES.length, 'w1')} || ' ' || ${version}`,
    'asset-discovery': `'Discover assets in ' || ${pick(datasources, DATASOURCES.length, 'w1')}
      || CASE WHEN w3 < 0.4 THEN ' (schema ' || ${pick(schemas, SCHEMAS.length, 'w2')} || ')' ELSE '' END`,
    'intelligence-analysis': `'Analyze ' || ${schemaTable} || CASE WHEN w3 < 0.5 THEN ' for PII' ELSE ' semantics' END`,
    'tag-generation': `'Generate tags for ' || ${schemaTable}`,
    'freshness-check': `'Freshness check ' || ${schemaTable}`,
    'metric-capture': `'Capture ' || ${pick(metrics, METRICS.length, 'w3')} || ' on ' || ${schemaTable}`,
    'lineage-extraction': `'Extract lineage from ' || ${pick(datasources, DATASOURCES.length, 'w1')} || ' query log'`,
    import: `'Import ' || ${importFile}`,
    export: `'Export ' || ${pick(entities, ENTITIES.length, 'w1')} || CASE WHEN w3 < 0.5 THEN '_q' || (1 + floor(w4 * 4)::int) || '_' || ${year}
      ELSE '' END || ' to ' || ${pick(exportTargets, EXPORT_TARGETS.length, 'w2')}`,
    'mass-edit': `'Mass edit ' || (10 + floor(w2 * 4990)::int) || CASE WHEN w4 < 0.8 THEN ' products: ' ELSE ' product models: ' END || ${pick(editActions, EDIT_ACTIONS.length, 'w1')}`,
    'rules-execution': `'Execute rules ' || ${pick(rulesets, RULESETS.length, 'w1')} || ' on channel ' || ${pick(channels, CHANNELS.length, 'w2')}`,
  });
  const asset = byType({
    masking: `${pick(databases, DATABASES.length, 'w2')} || '.' || ${table}`,
    'mail-migration': mailbox,
    deployment: `'k8s/' || (${tenants})[te] || '-' || env || '/' || ${pick(services, SERVICES.length, 'w1')}`,
    'asset-discovery': pick(datasources, DATASOURCES.length, 'w1'),
    'intelligence-analysis': schemaTable,
    'tag-generation': schemaTable,
    'freshness-check': schemaTable,
    'metric-capture': schemaTable,
    'lineage-extraction': pick(datasources, DATASOURCES.length, 'w1'),
    import: `'s3://' || (${tenants})[te] || '-imports/' || ${importFile}`,
    export: `'channel:' || ${pick(channels, CHANNELS.length, 'w3')}`,
    'mass-edit': `'catalog:' || (${tenants})[te]`,
    'rules-execution': `'channel:' || ${pick(channels, CHANNELS.length, 'w2')}`,
  });
  const ts = (epoch: string) => `to_timestamp(${epoch})`;
  const unitSql = `(${units})[ti]`;
  const message = `CASE status
      WHEN 'CREATED' THEN NULL
      WHEN 'PENDING' THEN CASE WHEN sched > ${t1}
        THEN 'Scheduled for ' || to_char(${ts('sched')} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC'
        ELSE 'Queued: waiting for a worker' END
      WHEN 'WAITING_APPROVAL' THEN 'Waiting for approval by ' || replace(approver_set, ',', ', ')
      WHEN 'RUNNING' THEN CASE WHEN counting
        THEN 'Counting messages: ' || (1 + floor(r_beat2 * 40)::int) || ' folders scanned'
        ELSE (${verbIng})[ti] || ' ' || done || ' of ' || total || ' ' || ${unitSql} END
      WHEN 'TRAPPED' THEN 'Trapped: ' || err || ' (waiting for a decision)'
      WHEN 'TRAP_PAUSED' THEN 'Trap timeout paused by bob while investigating'
      WHEN 'CANCELLING' THEN 'Cancel requested by ' || canceller
      WHEN 'ROLLBACK' THEN 'Rolling back after: ' || err
      WHEN 'SUCCEEDED' THEN (${verbPast})[ti] || ' ' || total || ' ' || ${unitSql}
      WHEN 'FAILED' THEN 'Failed: ' || err
      WHEN 'CANCELLED' THEN 'Cancelled by ' || canceller
      WHEN 'REJECTED' THEN 'Rejected by ' || split_part(approver_set, ',', 1) || ': '
        || ${pick(rejectReasons, REJECT_REASONS.length, 'r_misc')}
      WHEN 'EXPIRED' THEN 'Not started before its max start time'
      WHEN 'ABENDED' THEN 'Worker ' || worker || ' lost: no heartbeat for 30 s'
    END`;
  const failing = `('FAILED','TRAPPED','TRAP_PAUSED','ROLLBACK')`;
  const errorMessage = `CASE WHEN status IN ${failing} THEN err
      WHEN status = 'ABENDED' THEN 'No heartbeat from ' || worker || ' for 30 s: the worker is presumed dead' END`;
  const errorStack = `CASE WHEN status IN ${failing} THEN 'Error: ' || err || E'\\n' || (${stacks})[ti]
      WHEN status = 'ABENDED' THEN 'HeartbeatLost: no heartbeat from ' || worker || E' for 30 s\\n    at Daemon.abendStaleJobs (daemon/tick.ts:88)' END`;
  const step = `CASE
      WHEN status = 'SUCCEEDED' THEN 'POST'
      WHEN st IS NULL THEN CASE WHEN attempt > 1 AND r_misc < 0.5 THEN 'RUN' ELSE 'PRE' END
      WHEN pf < 0.08 THEN 'PRE'
      WHEN pf > 0.97 THEN 'POST'
      ELSE 'RUN' END`;
  const percent = `CASE WHEN total IS NULL THEN NULL WHEN status = 'SUCCEEDED' THEN 100 ELSE floor(done * 1000 / total) / 10 END`;
  const progressEnd = `coalesce(prog_at, ${t1})`;
  const rate = `CASE WHEN total IS NULL OR st IS NULL THEN NULL ELSE round((done / greatest((${progressEnd} - st) / 60, 1.0 / 60))::numeric, 1) END`;
  const updated = `CASE
      WHEN fin IS NOT NULL THEN fin
      WHEN status = 'TRAP_PAUSED' THEN paused_at
      WHEN status = 'CANCELLING' THEN greatest(cancel_at, prog_at)
      WHEN status IN ${WORKER_HELD} THEN prog_at
      WHEN attempt > 1 THEN tc + age * 0.5
      ELSE tc END`;

  // The row as inserted, plus what tasks and timeline events need.
  const rows = `SELECT n, gen_random_uuid() AS id, ${name} AS name, (${types})[ti] AS type, ${scope} AS scope,
        (${owners})[oi] AS owner_id, (${ownerNames})[oi] AS owner_name, status, ${step} AS step, ${message} AS message,
        ${errorMessage} AS error_message, ${errorStack} AS error_stack,
        jsonb_build_object('target', asset, 'env', env, 'batchSize', (ARRAY[100, 500, 1000, 5000])[1 + floor(w4 * 4)::int],
          'notify', r_misc < 0.3) AS config,
        CASE WHEN requires_approval THEN string_to_array(approver_set, ',') ELSE '{}' END AS approvers, requires_approval,
        ${ts('sched')} AS scheduled_at, ${ts('max_start')} AS max_start_at, ${ts('tc')} AS created_at, ${ts('st')} AS started_at,
        ${ts('fin')} AS finished_at, ${ts(updated)} AS updated_at, round(prev_dur * 1000)::bigint AS previous_run_duration_ms,
        attempt, CASE WHEN st IS NOT NULL THEN worker END AS worker_id,
        CASE WHEN status IN ${WORKER_HELD} THEN gen_random_uuid() END AS lease_token, ${ts('hb')} AS heartbeat_at,
        asset, done AS progress_done, total AS progress_total,
        CASE WHEN st IS NOT NULL THEN ${unitSql} END AS progress_unit,
        CASE WHEN st IS NULL THEN NULL WHEN counting THEN 'counting' WHEN status = 'SUCCEEDED' THEN 'completed'
          WHEN status = 'ROLLBACK' THEN 'rolling back' ELSE (${phases})[ti] END AS progress_phase,
        ${percent} AS progress_percent, ${rate} AS progress_rate, ${ts('prog_at')} AS progress_updated_at,
        CASE WHEN status = 'TRAPPED' THEN ${ts('trapped_at + 3600')} END AS trap_timeout_at,
        ${ts('cancel_at')} AS cancel_requested_at, CASE WHEN cancel_at IS NOT NULL THEN canceller END AS cancel_requested_by,
        -- for tasks and timeline events:
        ti, worker, approver_set, ran_terminal, counting, r_beat2,
        ${ts('trapped_at')} AS trapped_at, ${ts('paused_at')} AS paused_at, ${ts('rollback_at')} AS rollback_at
      FROM (SELECT d.*, ${asset} AS asset FROM (${levelD}) d OFFSET 0) d`;

  if (!batch.recent) {
    return { text: `INSERT INTO jobs (${JOB_INSERT_COLUMNS}) SELECT ${JOB_INSERT_COLUMNS} FROM (${rows}) r`, values: p.values };
  }
  const recentText = `WITH s AS MATERIALIZED (${rows}),
    inserted_jobs AS (INSERT INTO jobs (${JOB_INSERT_COLUMNS}) SELECT ${JOB_INSERT_COLUMNS} FROM s),
    inserted_tasks AS (${tasksInsert(p, typeIndex('masking'), typeIndex('mail-migration'))})
    ${timelineInsert()}`;
  return { text: recentText, values: p.values };
}

/**
 * 3 to 8 tasks per masking job (tables) and mail migration (folders). Their sizes split the job's
 * total, and the job's `done` fills them in order: completed ones, then the one in progress (or
 * the one that failed), then waiting ones, so that tasks always agree with the job's progress.
 */
function tasksInsert(p: SqlParams, masking: number, mail: number): string {
  const tables = `${p.add(TABLES)}::text[]`;
  const folders = `${p.add(MAIL_FOLDERS)}::text[]`;
  return `INSERT INTO tasks (job_id, name, position, status, done, total, unit, rate_per_minute, message, started_at, finished_at, updated_at)
    SELECT id, task_name, i - 1, task_status, task_done, task_total, progress_unit,
      CASE WHEN task_done > 0
        THEN round((task_done / greatest(extract(epoch FROM coalesce(task_finished, progress_updated_at) - task_started) / 60, 1.0 / 60))::numeric, 1) END,
      CASE task_status WHEN 'FAILED' THEN CASE status WHEN 'FAILED' THEN error_message WHEN 'ABENDED' THEN 'The worker was lost'
        ELSE 'Stopped: the job was cancelled' END END,
      task_started, task_finished, coalesce(task_finished, task_started, created_at)
    FROM (
      SELECT s.id, s.status, s.created_at, s.started_at, s.finished_at, s.progress_done, s.progress_total, s.progress_unit,
          s.progress_updated_at, s.error_message, s.counting, k.i, k.k,
          CASE WHEN s.ti = ${masking} THEN (${tables})[1 + (s.n + k.i) % ${TABLES.length}]
            ELSE (${folders})[1 + (s.n + k.i) % ${MAIL_FOLDERS.length}] END AS task_name,
          sum(k.w) OVER w_all AS wsum, sum(k.w) OVER w_before - k.w AS wbefore, k.w
        FROM s
        CROSS JOIN LATERAL (
          SELECT i, 3 + (s.n % 6)::int AS k, 1 + (hashint8(s.n * 16 + i) & 7) AS w
            FROM generate_series(1, 3 + (s.n % 6)::int) AS i
        ) k
        WHERE s.ti IN (${masking}, ${mail})
        WINDOW w_all AS (PARTITION BY s.id), w_before AS (PARTITION BY s.id ORDER BY k.i ROWS UNBOUNDED PRECEDING)
    ) x
    -- The task's share of the job's total, and how much of the job's done falls into it.
    CROSS JOIN LATERAL (SELECT
      round(progress_total * wbefore / wsum) AS before,
      CASE
        WHEN progress_total IS NOT NULL THEN round(progress_total * (wbefore + w) / wsum) - round(progress_total * wbefore / wsum)
        WHEN counting AND i <= k / 2 THEN 200 + (hashint8(i * 7919 + wsum) & 4095)
      END AS task_total) y0
    CROSS JOIN LATERAL (SELECT
      CASE WHEN progress_total IS NULL THEN 0 ELSE least(greatest(progress_done - before, 0), task_total) END AS task_done) y
    CROSS JOIN LATERAL (SELECT CASE
        WHEN progress_total IS NOT NULL AND progress_done > 0 AND task_done = task_total THEN 'COMPLETED'
        WHEN task_done > 0 AND status IN ${WORKER_HELD} THEN 'PROCESSING'
        WHEN task_done > 0 THEN 'FAILED'
        ELSE 'WAITING'
      END AS task_status) z
    -- Tasks run one after the other over the job's elapsed time, in proportion to their work.
    CROSS JOIN LATERAL (SELECT
      CASE WHEN task_status <> 'WAITING'
        THEN started_at + (coalesce(finished_at, progress_updated_at) - started_at) * (before / greatest(progress_done, 1)) END AS task_started,
      CASE WHEN task_status IN ('COMPLETED', 'FAILED')
        THEN started_at + (coalesce(finished_at, progress_updated_at) - started_at) * ((before + task_done) / greatest(progress_done, 1)) END
        AS task_finished) t`;
}

/**
 * CREATED, the approval, a restart, CLAIMED, the 25/50/75 % milestones, traps, rollback and
 * cancel requests, and the terminal event: each only when the job's row says it happened.
 */
function timelineInsert(): string {
  const e = (
    ord: number,
    condition: string,
    at: string,
    kind: string,
    actor: string,
    actorKind: string,
    from: string,
    to: string,
    step: string,
    message = 'NULL',
    data = 'NULL',
  ) =>
    `SELECT ${ord} AS ord, ${at} AS at, '${kind}' AS kind, ${actor} AS actor_id, '${actorKind}' AS actor_kind,
       ${from}::text AS from_status, ${to}::text AS to_status, ${step}::text AS step, ${message}::text AS message,
       ${data}::jsonb AS data WHERE ${condition}`;
  const ran = 's.started_at IS NOT NULL';
  const progressAt = (pct: number) => `s.started_at + (coalesce(s.finished_at, s.progress_updated_at) - s.started_at) * ${pct / 100}
    / greatest(coalesce(s.progress_percent, 0) / 100, ${pct / 100})`;
  const milestones = [25, 50, 75].map((pct) =>
    e(
      10 + pct,
      `${ran} AND s.progress_percent >= ${pct} AND s.progress_total IS NOT NULL`,
      progressAt(pct),
      'PROGRESS',
      's.worker_id',
      'WORKER',
      'NULL',
      'NULL',
      `'RUN'`,
      `'${pct} %'`,
      `'{"percent": ${pct}}'`,
    ),
  );
  const approvedAt = `CASE WHEN ${ran} THEN s.created_at + (s.started_at - s.created_at) * 0.5
    ELSE s.created_at + (s.updated_at - s.created_at) * 0.5 END`;
  const events = [
    e(
      1,
      'TRUE',
      's.created_at',
      'CREATED',
      's.owner_id',
      'USER',
      'NULL',
      `CASE WHEN s.status = 'CREATED' THEN 'CREATED' WHEN s.requires_approval THEN 'WAITING_APPROVAL' ELSE 'PENDING' END`,
      `'PRE'`,
    ),
    e(
      2,
      `s.requires_approval AND s.status NOT IN ('CREATED','WAITING_APPROVAL','REJECTED','EXPIRED')
        AND NOT (s.status = 'CANCELLED' AND s.started_at IS NULL)`,
      approvedAt,
      'APPROVED',
      `split_part(s.approver_set, ',', 1)`,
      'USER',
      `'WAITING_APPROVAL'`,
      `'PENDING'`,
      `'PRE'`,
    ),
    e(3, `s.status = 'REJECTED'`, 's.finished_at', 'REJECTED', `split_part(s.approver_set, ',', 1)`, 'USER', `'WAITING_APPROVAL'`, `'REJECTED'`, 's.step', 's.message'),
    e(
      4,
      `s.attempt > 1 AND s.status <> 'CREATED'`,
      `coalesce(s.started_at - interval '1 minute', s.created_at + (coalesce(s.finished_at, s.updated_at) - s.created_at) * 0.5)`,
      'RESTARTED',
      's.owner_id',
      'USER',
      `'FAILED'`,
      `CASE WHEN s.requires_approval THEN 'WAITING_APPROVAL' ELSE 'PENDING' END`,
      's.step',
      'NULL',
      `jsonb_build_object('attempt', s.attempt)`,
    ),
    e(5, ran, 's.started_at', 'CLAIMED', 's.worker_id', 'WORKER', `'PENDING'`, `'RUNNING'`, `'PRE'`),
    ...milestones,
    e(
      90,
      `s.status IN ('TRAPPED','TRAP_PAUSED')`,
      's.trapped_at',
      'TRAPPED',
      's.worker_id',
      'WORKER',
      `'RUNNING'`,
      `'TRAPPED'`,
      's.step',
      's.error_message',
    ),
    e(91, `s.status = 'TRAP_PAUSED'`, 's.paused_at', 'TRAP_PAUSED', `'bob'`, 'USER', `'TRAPPED'`, `'TRAP_PAUSED'`, 's.step'),
    e(92, `s.status = 'ROLLBACK'`, 's.rollback_at', 'ROLLBACK_STARTED', 's.worker_id', 'WORKER', `'RUNNING'`, `'ROLLBACK'`, 's.step', 's.message'),
    e(
      93,
      `s.cancel_requested_at IS NOT NULL AND ${ran}`,
      's.cancel_requested_at',
      'CANCEL_REQUESTED',
      's.cancel_requested_by',
      'USER',
      `'RUNNING'`,
      `'CANCELLING'`,
      's.step',
    ),
    e(99, `s.status = 'SUCCEEDED'`, 's.finished_at', 'SUCCEEDED', 's.worker_id', 'WORKER', `'RUNNING'`, `'SUCCEEDED'`, 's.step', 's.message'),
    e(99, `s.status = 'FAILED'`, 's.finished_at', 'FAILED', 's.worker_id', 'WORKER', `'RUNNING'`, `'FAILED'`, 's.step', 's.error_message'),
    e(99, `s.status = 'ABENDED'`, 's.finished_at', 'ABENDED', 'NULL', 'SYSTEM', `'RUNNING'`, `'ABENDED'`, 's.step', 's.error_message'),
    e(99, `s.status = 'EXPIRED'`, 's.finished_at', 'EXPIRED', 'NULL', 'SYSTEM', `'PENDING'`, `'EXPIRED'`, 's.step', 's.message'),
    e(
      99,
      `s.status = 'CANCELLED'`,
      's.finished_at',
      'CANCELLED',
      `CASE WHEN ${ran} THEN s.worker_id ELSE s.cancel_requested_by END`,
      'USER',
      `CASE WHEN ${ran} THEN 'CANCELLING' WHEN s.requires_approval THEN 'WAITING_APPROVAL' ELSE 'PENDING' END`,
      `'CANCELLED'`,
      's.step',
      's.message',
    ),
  ];
  return `INSERT INTO timeline_events (job_id, at, kind, actor_id, actor_kind, from_status, to_status, attempt, step, message, data,
      job_scope, job_type, job_owner_id)
    SELECT s.id, ev.at, ev.kind, ev.actor_id,
      CASE WHEN ev.kind = 'CANCELLED' AND s.started_at IS NOT NULL THEN 'WORKER' ELSE ev.actor_kind END,
      ev.from_status, ev.to_status, CASE WHEN ev.ord = 1 THEN 1 ELSE s.attempt END, ev.step, ev.message, ev.data,
      s.scope, s.type, s.owner_id
    FROM s CROSS JOIN LATERAL (${events.join('\n      UNION ALL ')}) ev
    ORDER BY ev.at, ev.ord`;
}

// ---------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------

interface IndexDefinition {
  readonly name: string;
  readonly definition: string;
}

/** Runs `work` in a transaction whose settings suit bulk work (no timeout, asynchronous commit). */
async function bulk<T>(client: PoolClient, settings: Record<string, string>, work: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    for (const [name, value] of Object.entries({ statement_timeout: '0', synchronous_commit: 'off', ...settings })) {
      await client.query('SELECT set_config($1, $2, true)', [name, value]);
    }
    const result = await work();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Runs the tasks on `parallel` pooled connections, each taking the next task when done. */
async function onConnections<T>(
  pool: Pool,
  parallel: number,
  tasks: readonly T[],
  run: (client: PoolClient, task: T) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  let next = 0;
  let failed = false;
  const lane = async () => {
    const client = await pool.connect();
    try {
      while (!failed && signal?.aborted !== true && next < tasks.length) {
        const task = tasks[next++] as T;
        try {
          await run(client, task);
        } catch (error) {
          failed = true;
          throw error;
        }
      }
    } finally {
      client.release();
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(parallel, tasks.length) }, lane));
  const rejected = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (rejected !== undefined) throw rejected.reason;
}

async function jobIndexes(pool: Pool): Promise<IndexDefinition[]> {
  const result = await pool.query<{ indexname: string; indexdef: string }>(
    `SELECT indexname, indexdef FROM pg_indexes
      WHERE schemaname = current_schema() AND tablename = 'jobs' AND indexname <> 'jobs_pkey' ORDER BY indexname`,
  );
  return result.rows.map((row) => ({ name: row.indexname, definition: row.indexdef }));
}

/**
 * Recreates dropped indexes from their catalog definitions, on parallel connections, slowest
 * (GIN) first so that it overlaps the B-trees. `IF NOT EXISTS` makes a retry after a partial
 * failure safe.
 */
async function recreateIndexes(pool: Pool, indexes: readonly IndexDefinition[], parallel: number, log: (msg: string) => void) {
  const ordered = [...indexes].sort((a, b) => Number(/USING gin/i.test(b.definition)) - Number(/USING gin/i.test(a.definition)));
  await onConnections(pool, parallel, ordered, async (client, index) => {
    const started = Date.now();
    const statement = index.definition.replace(/^CREATE (UNIQUE )?INDEX /i, 'CREATE $1INDEX IF NOT EXISTS ');
    // Concurrent builds share the CPUs; parallel workers would only compete with each other.
    const settings: Record<string, string> = { maintenance_work_mem: '512MB' };
    if (parallel > 1) settings['max_parallel_maintenance_workers'] = '0';
    await bulk(client, settings, () => client.query(statement));
    log(`  index ${index.name}: ${seconds(started)} s`);
  });
}

function seconds(since: number): string {
  return ((Date.now() - since) / 1000).toFixed(1);
}

function defaultParallel(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

/**
 * Adds `options.jobs` generated jobs (with tasks and timeline events for the newest ~5%).
 * When the table starts empty, its secondary indexes are dropped for the load and rebuilt
 * afterwards from their own definitions, whatever happens in between.
 */
export async function seedJobs(pool: Pool, options: SeedOptions): Promise<SeedResult> {
  const log = options.log ?? (() => undefined);
  const total = Math.floor(options.jobs);
  if (!Number.isSafeInteger(total) || total < 0) throw new Error(`jobs must be a non-negative integer, got ${options.jobs}`);
  const parallel = Math.max(1, Math.floor(options.parallel ?? defaultParallel()));
  const batchSize = Math.max(1, Math.floor(options.batchSize ?? 50_000));
  const historyDays = options.historyDays ?? SEED_HISTORY_DAYS;
  if (!Number.isInteger(historyDays) || historyDays < 1 || historyDays > MAX_HISTORY_DAYS) {
    throw new Error(`historyDays must be an integer from 1 to ${MAX_HISTORY_DAYS}, got ${options.historyDays}`);
  }
  const started = Date.now();

  if (options.reset === true) {
    const phase = Date.now();
    await pool.query('TRUNCATE jobs, tasks, timeline_events');
    log(`truncated jobs, tasks and timeline_events: ${seconds(phase)} s`);
  }
  if (total === 0) return { jobs: 0, seconds: (Date.now() - started) / 1000 };

  const empty = (await pool.query('SELECT NOT EXISTS (SELECT 1 FROM jobs) AS empty')).rows[0]?.empty === true;
  let dropped: IndexDefinition[] = [];
  if (empty) {
    const phase = Date.now();
    const indexes = await jobIndexes(pool);
    if (indexes.length > 0) {
      await pool.query(`DROP INDEX ${indexes.map((index) => `"${index.name.replace(/"/g, '""')}"`).join(', ')}`);
      dropped = indexes;
    }
    log(`jobs is empty: dropped ${dropped.length} secondary indexes for the load: ${seconds(phase)} s`);
  } else {
    log('jobs already holds rows: loading with its indexes in place (slower)');
  }

  let loadError: unknown;
  try {
    const phase = Date.now();
    const recentFrom = total - Math.max(1, Math.ceil(total * RECENT_SHARE)) + 1;
    const batches: Batch[] = [];
    for (const [from, to, recent] of [
      [1, recentFrom - 1, false],
      [recentFrom, total, true],
    ] as const) {
      for (let lo = from; lo <= to; lo += batchSize) batches.push({ lo, hi: Math.min(to, lo + batchSize - 1), recent });
    }
    // The newest rows (with tasks and events) go first: they take longest per row.
    batches.sort((a, b) => Number(b.recent) - Number(a.recent));
    const now = Date.now() / 1000;
    let loaded = 0;
    await onConnections(
      pool,
      parallel,
      batches,
      async (client, batch) => {
        const statement = batchStatement(batch, total, now, historyDays);
        await bulk(client, { jit: 'off', work_mem: '64MB' }, () => client.query(statement.text, statement.values));
        loaded += batch.hi - batch.lo + 1;
        log(`  ${loaded.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} jobs (${seconds(phase)} s)`);
      },
      options.signal,
    );
    if (options.signal?.aborted === true) throw new Error(`interrupted after ${loaded} of ${total} jobs`);
    const counts = await pool.query<{ tasks: string; events: string }>(
      `SELECT (SELECT count(*) FROM tasks) AS tasks, (SELECT count(*) FROM timeline_events) AS events`,
    );
    log(
      `loaded ${total.toLocaleString('en-US')} jobs on ${parallel} connections in ${seconds(phase)} s ` +
        `(tables now hold ${Number(counts.rows[0]?.tasks).toLocaleString('en-US')} tasks, ` +
        `${Number(counts.rows[0]?.events).toLocaleString('en-US')} timeline events)`,
    );
  } catch (error) {
    loadError = error;
  } finally {
    if (dropped.length > 0) {
      const phase = Date.now();
      try {
        await recreateIndexes(pool, dropped, parallel, log);
        log(`recreated ${dropped.length} indexes: ${seconds(phase)} s`);
      } catch (error) {
        log(`could not recreate every index; create the missing ones by hand:\n${dropped.map((i) => `  ${i.definition};`).join('\n')}`);
        throw loadError ?? error;
      }
    }
  }
  if (loadError !== undefined) throw loadError;

  const phase = Date.now();
  const client = await pool.connect();
  try {
    await bulk(client, {}, () => client.query('ANALYZE jobs, tasks, timeline_events'));
  } finally {
    client.release();
  }
  log(`analyzed: ${seconds(phase)} s`);
  return { jobs: total, seconds: (Date.now() - started) / 1000 };
}

/** The demo users' grants (DOMAIN.md's built-in roles), idempotent. */
const DEMO_GRANTS: ReadonlyArray<readonly [user: string, role: string, scope: string | null]> = [
  ['alice', 'admin', null],
  ['bob', 'operator', null],
  ['carol', 'viewer', null],
  ['dave', 'own-jobs', null],
  ['erin', 'viewer', 'acme'],
  ['worker-1', 'worker', null],
];

/** Grants the demo users their roles; answers how many grants were new. */
export async function seedDemoGrants(pool: Pool): Promise<number> {
  let added = 0;
  for (const [user, role, scope] of DEMO_GRANTS) {
    const result = await pool.query(
      `INSERT INTO grants (user_id, role_name, scope, granted_by) VALUES ($1, $2, $3, 'seed')
       ON CONFLICT (user_id, role_name, (coalesce(scope, ''))) DO NOTHING`,
      [user, role, scope],
    );
    added += result.rowCount ?? 0;
  }
  return added;
}
