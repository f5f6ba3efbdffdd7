/**
 * The kinds of job the demo runs, one per seed monitor, and which worker process runs which.
 *
 *   masking          Delphix: one task per table, WAITING → PROCESSING → COMPLETED, rows per minute
 *   mail-migration   mail migration tool: counts messages first (indeterminate), then copies them
 *   deployment       Clarive: needs bob's approval, then PRE / RUN / POST steps; may roll back
 *   schema-migration Clarive: traps an error and waits for a person to decide (RETRY / SKIP)
 *   asset-discovery  AnomalyArmor: sometimes fails with a real error and stack trace
 *   flaky-import     Akeneo product import, run by a worker process that crashes mid-job (ABENDED)
 */
export const JOB_TYPES = ['masking', 'mail-migration', 'deployment', 'schema-migration', 'asset-discovery', 'flaky-import'] as const;
export type DemoJobType = (typeof JOB_TYPES)[number];

/**
 * What the feeder asks a job to do, in `config.simulate` (visible in the API, so a newcomer can
 * see why a job failed). Jobs without it (created by hand) get a random outcome.
 */
export type Simulate = 'success' | 'failure' | 'trap' | 'crash';

export interface WorkerPool {
  /** Also the worker id prefix: "demo-<name>". */
  readonly name: string;
  readonly types: readonly DemoJobType[];
  readonly concurrency: number;
  /** The process kills itself in the middle of some jobs; the demo restarts it. */
  readonly flaky?: boolean;
}

export const WORKER_POOLS: readonly WorkerPool[] = [
  { name: 'etl', types: ['masking', 'mail-migration'], concurrency: 3 },
  { name: 'ops', types: ['deployment', 'schema-migration', 'asset-discovery'], concurrency: 3 },
  { name: 'flaky', types: ['flaky-import'], concurrency: 2, flaky: true },
];
