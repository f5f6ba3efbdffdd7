/**
 * The job types of the seed documents (Delphix, Clarive, AnomalyArmor, Akeneo, mail migration):
 * how often each runs, how long, how much work, and how it fails.
 */

export interface JobTypeSpec {
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

export const JOB_TYPES: readonly JobTypeSpec[] = [
  {
    type: 'freshness-check',
    weight: 16,
    unit: 'tables',
    verbPast: 'Checked',
    verbIng: 'Checking',
    phase: 'checking',
    medianSeconds: 8,
    minTotal: 1,
    maxTotal: 200,
    errors: [
      'Table is stale: last update 26 hours ago exceeds the 24 h threshold',
      'Permission denied for schema finance',
      'Query timed out after 60 s (warehouse ANALYTICS_WH is overloaded)',
    ],
    frames: frames(
      'FreshnessCheck.evaluate (checks/freshness.py:118)',
      'Runner.run_check (checks/runner.py:64)',
      'Worker.execute (worker/main.py:203)',
    ),
  },
  {
    type: 'metric-capture',
    weight: 14,
    unit: 'metrics',
    verbPast: 'Captured',
    verbIng: 'Capturing',
    phase: 'capturing',
    medianSeconds: 15,
    minTotal: 1,
    maxTotal: 100,
    errors: [
      'division by zero while computing null_rate',
      'Column "amount" does not exist',
      'Snowflake error 000606: No active warehouse selected',
    ],
    frames: frames(
      'MetricCapture.compute (metrics/capture.py:77)',
      'Runner.run_metric (metrics/runner.py:41)',
      'Worker.execute (worker/main.py:203)',
    ),
  },
  {
    type: 'import',
    weight: 12,
    unit: 'lines',
    verbPast: 'Imported',
    verbIng: 'Importing',
    phase: 'importing',
    medianSeconds: 60,
    minTotal: 100,
    maxTotal: 2_000_000,
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
    type: 'export',
    weight: 10,
    unit: 'products',
    verbPast: 'Exported',
    verbIng: 'Exporting',
    phase: 'exporting',
    medianSeconds: 45,
    minTotal: 100,
    maxTotal: 500_000,
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
    type: 'masking',
    weight: 8,
    unit: 'rows',
    verbPast: 'Masked',
    verbIng: 'Masking',
    phase: 'masking',
    medianSeconds: 600,
    minTotal: 10_000,
    maxTotal: 50_000_000,
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
    type: 'deployment',
    weight: 8,
    unit: 'steps',
    verbPast: 'Completed',
    verbIng: 'Running step',
    phase: 'rolling out',
    medianSeconds: 240,
    minTotal: 4,
    maxTotal: 24,
    errors: [
      'Health check failed: GET /healthz returned 503 for 300 s',
      'Image pull failed: manifest unknown',
      'Database migration 0042_add_index failed: lock timeout',
    ],
    frames: frames(
      'Deploy.rollout (deploy/rollout.pm:211)',
      'Job::Step::run (Job/Step.pm:88)',
      'Job::Daemon::dispatch (Job/Daemon.pm:143)',
    ),
  },
  {
    type: 'asset-discovery',
    weight: 6,
    unit: 'tables',
    verbPast: 'Discovered',
    verbIng: 'Discovering',
    phase: 'scanning',
    medianSeconds: 120,
    minTotal: 20,
    maxTotal: 5_000,
    errors: [
      'Authentication failed for user "armor_reader"',
      'Warehouse ANALYTICS_WH is suspended',
      'Too many tables in schema raw (limit 5000)',
    ],
    frames: frames(
      'Discovery.scan_schema (discovery/scan.py:152)',
      'Discovery.run (discovery/scan.py:61)',
      'Worker.execute (worker/main.py:203)',
    ),
  },
  {
    type: 'tag-generation',
    weight: 5,
    unit: 'columns',
    verbPast: 'Tagged',
    verbIng: 'Tagging',
    phase: 'tagging',
    medianSeconds: 90,
    minTotal: 20,
    maxTotal: 5_000,
    errors: ['Model endpoint returned 429 Too Many Requests', 'Column sample is empty', 'Tag taxonomy "pii-v2" not found'],
    frames: frames(
      'TagGenerator.classify (tags/generate.py:98)',
      'TagGenerator.run (tags/generate.py:40)',
      'Worker.execute (worker/main.py:203)',
    ),
  },
  {
    type: 'lineage-extraction',
    weight: 5,
    unit: 'queries',
    verbPast: 'Parsed',
    verbIng: 'Parsing',
    phase: 'parsing',
    medianSeconds: 180,
    minTotal: 100,
    maxTotal: 100_000,
    errors: ['Query history is not available for this account', 'Unsupported SQL dialect in query 88121', 'Query log export timed out'],
    frames: frames(
      'Lineage.parse_query (lineage/parse.py:233)',
      'Lineage.extract (lineage/extract.py:71)',
      'Worker.execute (worker/main.py:203)',
    ),
  },
  {
    type: 'mass-edit',
    weight: 5,
    unit: 'products',
    verbPast: 'Updated',
    verbIng: 'Updating',
    phase: 'updating',
    medianSeconds: 30,
    minTotal: 10,
    maxTotal: 50_000,
    errors: [
      'Product "SKU-20931" is locked by another process',
      'The value "XXL" is not allowed for attribute size',
      'Elasticsearch bulk request rejected',
    ],
    frames: frames(
      'Akeneo\\Pim\\Enrichment\\Bundle\\MassEditAction\\Tasklet\\EditAttributesTasklet->execute() (EditAttributesTasklet.php:82)',
      'Akeneo\\Tool\\Component\\Batch\\Step\\TaskletStep->doExecute() (TaskletStep.php:67)',
      'Akeneo\\Tool\\Component\\Batch\\Job\\Job->execute() (Job.php:164)',
    ),
  },
  {
    type: 'intelligence-analysis',
    weight: 4,
    unit: 'columns',
    verbPast: 'Analyzed',
    verbIng: 'Analyzing',
    phase: 'analyzing',
    medianSeconds: 300,
    minTotal: 50,
    maxTotal: 20_000,
    errors: ['LLM response could not be parsed as JSON', 'Context window exceeded for table events_raw', 'Schema changed during analysis'],
    frames: frames(
      'Intelligence.analyze_table (intel/analyze.py:187)',
      'Intelligence.run (intel/analyze.py:52)',
      'Worker.execute (worker/main.py:203)',
    ),
  },
  {
    type: 'rules-execution',
    weight: 4,
    unit: 'products',
    verbPast: 'Processed',
    verbIng: 'Applying rules to',
    phase: 'applying',
    medianSeconds: 120,
    minTotal: 100,
    maxTotal: 500_000,
    errors: [
      'Rule "compute_margin" references the unknown attribute cost_price',
      'Condition on "family" is invalid',
      'Memory limit of 512M reached',
    ],
    frames: frames(
      'Akeneo\\Pim\\Automation\\RuleEngine\\Component\\Runner\\ProductRuleRunner->run() (ProductRuleRunner.php:66)',
      'Akeneo\\Pim\\Automation\\RuleEngine\\Bundle\\Command\\RunCommand->execute() (RunCommand.php:121)',
      'Akeneo\\Tool\\Component\\Batch\\Job\\Job->execute() (Job.php:164)',
    ),
  },
  {
    type: 'mail-migration',
    weight: 3,
    unit: 'messages',
    verbPast: 'Migrated',
    verbIng: 'Migrating',
    phase: 'copying',
    medianSeconds: 1_800,
    minTotal: 500,
    maxTotal: 200_000,
    errors: [
      'IMAP login failed for the source mailbox: AUTHENTICATIONFAILED Invalid credentials',
      'Destination quota exceeded (50 GB)',
      'Connection timed out: imap.example.net:993',
    ],
    frames: frames(
      'imapsync::copy_message (imapsync:8842)',
      'imapsync::sync_folder (imapsync:7110)',
      'MigrationWorker.run (migrate/worker.pl:64)',
    ),
  },
];
