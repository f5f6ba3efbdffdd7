/**
 * What the demo's workers do for each kind of job: simulated work with realistic pacing (a job
 * takes 20 to 90 seconds), reported through the worker SDK the way a real worker would.
 * Every wait goes through `sleep(ms, ctx.signal)`, so a cancel stops any job within a heartbeat.
 * One file per kind of job in handlers/; this table is what worker.ts looks them up in.
 */
import type { DemoJobType } from './job-types';
import { assetDiscovery } from './handlers/asset-discovery';
import type { Handler } from './handlers/config';
import { deployment } from './handlers/deployment';
import { flakyImport } from './handlers/flaky-import';
import { mailMigration } from './handlers/mail-migration';
import { masking } from './handlers/masking';
import { schemaMigration } from './handlers/schema-migration';

export type { Handler } from './handlers/config';

export const HANDLERS: Readonly<Record<DemoJobType, Handler>> = {
  masking,
  'mail-migration': mailMigration,
  deployment,
  'schema-migration': schemaMigration,
  'asset-discovery': assetDiscovery,
  'flaky-import': flakyImport,
};
