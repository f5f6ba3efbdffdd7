/**
 * Realistic jobs for the feeder: names, scopes under the acme / globex / initech trees, owners,
 * configs with the parameters a worker needs (tables, mailboxes, targets...), secrets for the
 * mail migrations. `config.simulate` tells the demo worker how the run should go.
 */
import type { CreateJobInput } from './api';
import type { DemoJobType, Simulate } from './job-types';
import { chance, pick, randomInt, sample } from './util';

export type Owner = 'alice' | 'bob' | 'dave';

export interface PlannedJob {
  /** Who creates it (and owns it). */
  readonly owner: Owner;
  readonly input: CreateJobInput;
}

const COMPANIES = ['acme', 'globex', 'initech'] as const;
type Company = (typeof COMPANIES)[number];

const DOMAINS: Record<Company, string> = { acme: 'acme.example', globex: 'globex.example', initech: 'initech.example' };

const MASKING_SOURCES: ReadonlyArray<{ company: Company; app: string; env: string; connector: string }> = [
  { company: 'acme', app: 'crm', env: 'prod', connector: 'oracle-19c crm-prod-db' },
  { company: 'acme', app: 'payments', env: 'prod', connector: 'postgres-15 payments-prod' },
  { company: 'globex', app: 'billing', env: 'uat', connector: 'sqlserver-2019 billing-uat' },
  { company: 'globex', app: 'analytics', env: 'prod', connector: 'oracle-19c dwh-prod' },
  { company: 'initech', app: 'hr', env: 'dev', connector: 'mysql-8 hr-dev' },
];

const TABLES = [
  'CUSTOMERS',
  'ORDERS',
  'PAYMENTS',
  'ADDRESSES',
  'CONTACTS',
  'INVOICES',
  'CARDS',
  'SHIPMENTS',
  'EMPLOYEES',
  'LOYALTY_ACCOUNTS',
];

const PEOPLE = ['j.smith', 'm.garcia', 'a.nguyen', 'p.kowalski', 'l.rossi', 's.okafor', 'k.tanaka', 'e.martin', 'r.patel', 'h.schmidt'];

const APPLICATIONS: ReadonlyArray<{ company: Company; app: string }> = [
  { company: 'acme', app: 'payments-api' },
  { company: 'acme', app: 'checkout-web' },
  { company: 'globex', app: 'billing-service' },
  { company: 'initech', app: 'ledger' },
];

const WAREHOUSES: ReadonlyArray<{ company: Company; warehouse: string; account: string; database: string; schemas: string[] }> = [
  {
    company: 'globex',
    warehouse: 'snowflake',
    account: 'globex-analytics',
    database: 'ANALYTICS',
    schemas: ['PUBLIC', 'FINANCE', 'MARKETING', 'STAGING'],
  },
  { company: 'acme', warehouse: 'postgres', account: 'acme-orders-replica', database: 'orders', schemas: ['public', 'billing', 'audit'] },
  {
    company: 'initech',
    warehouse: 'bigquery',
    account: 'initech-dwh',
    database: 'warehouse',
    schemas: ['raw', 'staging', 'marts', 'reporting'],
  },
];

let sequence = 0;
const next = () => (sequence += 1);

function randomVersion(): { version: string; previous: string } {
  const major = randomInt(1, 4);
  const minor = randomInt(0, 30);
  const patch = randomInt(1, 9);
  return { version: `${major}.${minor}.${patch}`, previous: `${major}.${minor}.${patch - 1}` };
}

export function masking(simulate: Simulate = 'success'): PlannedJob {
  const source = pick(MASKING_SOURCES);
  const tables = sample(TABLES, randomInt(4, 7)).map((name) => ({ name, rows: randomInt(40, 2_500) * 1_000 }));
  return {
    owner: chance(0.75) ? 'alice' : 'bob',
    input: {
      name: `Mask ${source.app} ${source.env} for ${pick(['the QA refresh', 'UAT', 'the analytics sandbox', 'training', 'the vendor test copy'])}`,
      type: 'masking',
      scope: `${source.company}/${source.app}/${source.env}`,
      asset: source.connector,
      config: {
        environment: `${source.company}-${source.env}`,
        connector: source.connector,
        ruleSet: 'PII - GDPR',
        streams: 2,
        tables,
        simulate,
      },
    },
  };
}

export function mailMigration(simulate: Simulate = 'success'): PlannedJob {
  const company = pick(COMPANIES);
  const mailbox = `${pick(PEOPLE)}@${DOMAINS[company]}`;
  return {
    owner: chance(0.6) ? 'dave' : 'alice',
    input: {
      name: `Migrate mailbox ${mailbox}`,
      type: 'mail-migration',
      scope: `${company}/mail`,
      asset: mailbox,
      config: {
        mailbox,
        sourceHost: `imap.${DOMAINS[company]}:993`,
        destinationHost: 'outlook.office365.com',
        folders: [
          'INBOX',
          'Sent Items',
          'Drafts',
          ...sample(['Archive/2022', 'Archive/2023', 'Archive/2024', 'Projects', 'Receipts', 'Newsletters'], 4),
        ],
        progressUpdates: true,
        simulate,
      },
      // Write-only: encrypted at rest, handed only to the worker that claims the job, destroyed when it ends.
      secrets: { sourcePassword: `demo-${Math.random().toString(36).slice(2, 14)}`, destinationToken: `eyJ0eXAiOiJKV1Qi.demo.${next()}` },
    },
  };
}

export function deployment(simulate: Simulate = 'success'): PlannedJob {
  const { company, app } = pick(APPLICATIONS);
  const environment = chance(0.7) ? 'prod' : 'staging';
  const { version, previous } = randomVersion();
  const changeset = `CS-${randomInt(4000, 4999)}`;
  return {
    owner: 'bob',
    input: {
      name: `Deploy ${app} ${version} to ${environment}`,
      type: 'deployment',
      scope: `${company}/${app.split('-')[0] ?? app}/${environment}`,
      asset: `${app}@${environment}`,
      requiresApproval: true,
      approvers: ['bob'],
      config: {
        application: app,
        version,
        previousVersion: previous,
        changeset,
        environment,
        targets: ['web-1', 'web-2', 'web-3'].slice(0, randomInt(2, 3)),
        simulate,
      },
    },
  };
}

export function schemaMigration(simulate: Simulate = 'trap'): PlannedJob {
  const { company, app } = pick(APPLICATIONS);
  const first = randomInt(40, 90);
  const migrations = ['add_refund_reason', 'index_orders_customer', 'split_addresses', 'backfill_currency', 'drop_legacy_flags']
    .slice(0, randomInt(4, 5))
    .map((name, index) => `${String(first + index).padStart(4, '0')}_${name}`);
  return {
    owner: 'bob',
    input: {
      name: `Migrate ${app} database schema`,
      type: 'schema-migration',
      scope: `${company}/${app.split('-')[0] ?? app}/staging`,
      asset: `${app}-db`,
      config: { database: `${app}-db`, migrations, lockTimeout: '5s', simulate },
    },
  };
}

export function assetDiscovery(simulate: Simulate = 'success'): PlannedJob {
  const source = pick(WAREHOUSES);
  return {
    owner: 'alice',
    input: {
      name: `Asset discovery: ${source.account}/${source.database}`,
      type: 'asset-discovery',
      scope: `${source.company}/analytics/prod`,
      asset: `${source.warehouse}://${source.account}/${source.database}`,
      config: {
        warehouse: source.warehouse,
        database: source.database,
        schemas: source.schemas,
        role: 'ANOMALYARMOR_READER',
        trigger: 'scheduled refresh',
        simulate,
      },
    },
  };
}

export function flakyImport(simulate: Simulate = 'success'): PlannedJob {
  const day = new Date().toISOString().slice(0, 10);
  const channel = pick(['ecommerce', 'print', 'mobile']);
  return {
    owner: 'dave',
    input: {
      name: `Import products (${channel}) ${day}`,
      type: 'flaky-import',
      scope: `initech/pim/${channel}`,
      asset: `products_${channel}_${day}.csv`,
      config: {
        file: `products_${channel}_${day}.csv`,
        format: 'csv',
        rows: randomInt(20, 60) * 1_000,
        channel,
        locale: pick(['en_US', 'fr_FR', 'de_DE']),
        simulate,
      },
    },
  };
}

/** A job of `type`, with the outcome drawn from the demo's mix when none is given. */
export function plan(type: DemoJobType, simulate?: Simulate): PlannedJob {
  switch (type) {
    case 'masking':
      return masking(simulate ?? (chance(0.1) ? 'failure' : 'success'));
    case 'mail-migration':
      return mailMigration(simulate ?? 'success');
    case 'deployment':
      return deployment(simulate ?? (chance(0.2) ? 'failure' : 'success'));
    case 'schema-migration':
      return schemaMigration(simulate ?? 'trap');
    case 'asset-discovery':
      return assetDiscovery(simulate ?? (chance(0.35) ? 'failure' : 'success'));
    case 'flaky-import':
      return flakyImport(simulate ?? (chance(0.5) ? 'crash' : 'success'));
  }
}
