/**
 * The job row as stored, from the instants of its life (job-life.ts): a name and an asset in the
 * words of its type, the message and error its status calls for, step, progress and rate.
 */
import {
  CHANNELS,
  DATABASES,
  DATASOURCES,
  EDIT_ACTIONS,
  ENTITIES,
  EXPORT_TARGETS,
  EXTENSIONS,
  LAST_NAMES,
  METRICS,
  REJECT_REASONS,
  RULESETS,
  SCHEMAS,
  SERVICES,
  TABLES,
  WORKER_HELD,
} from '../vocabulary';
import { type BoundCatalog, pick, typeIndex } from './catalog-params';

/**
 * The query of the rows as inserted (every `jobs` column of JOB_INSERT_COLUMNS), plus what tasks
 * and timeline events need, from level D of job-life.ts.
 */
export function jobRowsQuery(c: BoundCatalog, t1: string, levelD: string): string {
  const scope = `(${c.tenants})[te] || '/' || (${c.apps})[ai] || '/' || env`;
  const table = pick(c.tables, TABLES.length, 'w1');
  const schemaTable = `${pick(c.schemas, SCHEMAS.length, 'w2')} || '.' || ${table}`;
  const year = `(2019 + floor(w3 * 7)::int)`;
  const mailbox = `substr('abcdefghijklmnopqrstuvwxyz', 1 + floor(w2 * 26)::int, 1) || '.' || ${pick(c.lastNames, LAST_NAMES.length, 'w1')}
    || '@' || (${c.domains})[te]`;
  const version = `'v' || floor(w2 * 4)::int || '.' || floor(w3 * 30)::int || '.' || floor(w4 * 12)::int`;
  const importFile = `${pick(c.entities, ENTITIES.length, 'w1')} || '_' || ${year} || '_' || lpad((1 + floor(w4 * 12)::int)::text, 2, '0')
    || '.' || ${pick(c.extensions, EXTENSIONS.length, 'w2')}`;
  const byType = (cases: Record<string, string>) =>
    `CASE ti ${Object.entries(cases)
      .map(([type, sql]) => `WHEN ${typeIndex(type)} THEN ${sql}`)
      .join(' ')} END`;
  const name = byType({
    masking: `'Mask ' || ${table} || CASE WHEN w3 < 0.25 THEN '_' || ${year} ELSE '' END || ' table'
      || CASE WHEN w4 < 0.3 THEN ' (' || ${pick(c.databases, DATABASES.length, 'w2')} || ')' ELSE '' END`,
    'mail-migration': `'Migrate mailbox ' || ${mailbox}`,
    deployment: `'Deploy ' || ${pick(c.services, SERVICES.length, 'w1')} || ' ' || ${version}`,
    'asset-discovery': `'Discover assets in ' || ${pick(c.datasources, DATASOURCES.length, 'w1')}
      || CASE WHEN w3 < 0.4 THEN ' (schema ' || ${pick(c.schemas, SCHEMAS.length, 'w2')} || ')' ELSE '' END`,
    'intelligence-analysis': `'Analyze ' || ${schemaTable} || CASE WHEN w3 < 0.5 THEN ' for PII' ELSE ' semantics' END`,
    'tag-generation': `'Generate tags for ' || ${schemaTable}`,
    'freshness-check': `'Freshness check ' || ${schemaTable}`,
    'metric-capture': `'Capture ' || ${pick(c.metrics, METRICS.length, 'w3')} || ' on ' || ${schemaTable}`,
    'lineage-extraction': `'Extract lineage from ' || ${pick(c.datasources, DATASOURCES.length, 'w1')} || ' query log'`,
    import: `'Import ' || ${importFile}`,
    export: `'Export ' || ${pick(c.entities, ENTITIES.length, 'w1')} || CASE WHEN w3 < 0.5 THEN '_q' || (1 + floor(w4 * 4)::int) || '_' || ${year}
      ELSE '' END || ' to ' || ${pick(c.exportTargets, EXPORT_TARGETS.length, 'w2')}`,
    'mass-edit': `'Mass edit ' || (10 + floor(w2 * 4990)::int) || CASE WHEN w4 < 0.8 THEN ' products: ' ELSE ' product models: ' END || ${pick(c.editActions, EDIT_ACTIONS.length, 'w1')}`,
    'rules-execution': `'Execute rules ' || ${pick(c.rulesets, RULESETS.length, 'w1')} || ' on channel ' || ${pick(c.channels, CHANNELS.length, 'w2')}`,
  });
  const asset = byType({
    masking: `${pick(c.databases, DATABASES.length, 'w2')} || '.' || ${table}`,
    'mail-migration': mailbox,
    deployment: `'k8s/' || (${c.tenants})[te] || '-' || env || '/' || ${pick(c.services, SERVICES.length, 'w1')}`,
    'asset-discovery': pick(c.datasources, DATASOURCES.length, 'w1'),
    'intelligence-analysis': schemaTable,
    'tag-generation': schemaTable,
    'freshness-check': schemaTable,
    'metric-capture': schemaTable,
    'lineage-extraction': pick(c.datasources, DATASOURCES.length, 'w1'),
    import: `'s3://' || (${c.tenants})[te] || '-imports/' || ${importFile}`,
    export: `'channel:' || ${pick(c.channels, CHANNELS.length, 'w3')}`,
    'mass-edit': `'catalog:' || (${c.tenants})[te]`,
    'rules-execution': `'channel:' || ${pick(c.channels, CHANNELS.length, 'w2')}`,
  });
  const ts = (epoch: string) => `to_timestamp(${epoch})`;
  const unitSql = `(${c.units})[ti]`;
  const message = `CASE status
      WHEN 'CREATED' THEN NULL
      WHEN 'PENDING' THEN CASE WHEN sched > ${t1}
        THEN 'Scheduled for ' || to_char(${ts('sched')} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC'
        ELSE 'Queued: waiting for a worker' END
      WHEN 'WAITING_APPROVAL' THEN 'Waiting for approval by ' || replace(approver_set, ',', ', ')
      WHEN 'RUNNING' THEN CASE WHEN counting
        THEN 'Counting messages: ' || (1 + floor(r_beat2 * 40)::int) || ' folders scanned'
        ELSE (${c.verbIng})[ti] || ' ' || done || ' of ' || total || ' ' || ${unitSql} END
      WHEN 'TRAPPED' THEN 'Trapped: ' || err || ' (waiting for a decision)'
      WHEN 'TRAP_PAUSED' THEN 'Trap timeout paused by bob while investigating'
      WHEN 'CANCELLING' THEN 'Cancel requested by ' || canceller
      WHEN 'ROLLBACK' THEN 'Rolling back after: ' || err
      WHEN 'SUCCEEDED' THEN (${c.verbPast})[ti] || ' ' || total || ' ' || ${unitSql}
      WHEN 'FAILED' THEN split_part(err, E'\n', 1)
      WHEN 'CANCELLED' THEN 'Cancelled by ' || canceller
      WHEN 'REJECTED' THEN 'Rejected by ' || split_part(approver_set, ',', 1) || ': '
        || ${pick(c.rejectReasons, REJECT_REASONS.length, 'r_misc')}
      WHEN 'EXPIRED' THEN 'Not started before its max start time'
      WHEN 'ABENDED' THEN 'No heartbeat from ' || worker || ' for 30 s: the worker is presumed dead'
    END`;
  const failing = `('FAILED','TRAPPED','TRAP_PAUSED','ROLLBACK')`;
  const errorMessage = `CASE WHEN status IN ${failing} THEN err
      WHEN status = 'ABENDED' THEN 'No heartbeat from ' || worker || ' for 30 s: the worker is presumed dead' END`;
  const errorStack = `CASE WHEN status IN ${failing} THEN 'Error: ' || err || E'\\n' || (${c.stacks})[ti]
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
  return `SELECT n, gen_random_uuid() AS id, ${name} AS name, (${c.types})[ti] AS type, ${scope} AS scope,
        (${c.owners})[oi] AS owner_id, (${c.ownerNames})[oi] AS owner_name, status, ${step} AS step, ${message} AS message,
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
          WHEN status = 'ROLLBACK' THEN 'rolling back' ELSE (${c.phases})[ti] END AS progress_phase,
        ${percent} AS progress_percent, ${rate} AS progress_rate, ${ts('prog_at')} AS progress_updated_at,
        CASE WHEN status = 'TRAPPED' THEN ${ts('trapped_at + 3600')} END AS trap_timeout_at,
        ${ts('cancel_at')} AS cancel_requested_at, CASE WHEN cancel_at IS NOT NULL THEN canceller END AS cancel_requested_by,
        -- for tasks and timeline events:
        ti, worker, approver_set, ran_terminal, counting, r_beat2,
        ${ts('trapped_at')} AS trapped_at, ${ts('paused_at')} AS paused_at, ${ts('rollback_at')} AS rollback_at
      FROM (SELECT d.*, ${asset} AS asset FROM (${levelD}) d OFFSET 0) d`;
}
