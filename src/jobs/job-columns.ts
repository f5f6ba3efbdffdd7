import { type FieldNode, type FragmentDefinitionNode, type GraphQLResolveInfo, Kind, type SelectionSetNode } from 'graphql';
import { JOB_COLUMNS } from './job.row';

/**
 * Reads select only the columns the asked-for Job fields need: a list page of 50 jobs asking for
 * a dozen fields reads a sixth of the bytes, and pg parses a fraction of the timestamps. The
 * columns left out are not selected at all (pg builds each row column by column: 36 of them cost
 * more than the dozen asked for), so they are absent from the row; `toJob` stays the one mapping
 * from rows to jobs, and what it computes from an absent column is never answered.
 *
 * A field that is not listed here needs every column, so a field added to Job is always right,
 * and only slower until it is listed (test/job-columns.test.ts checks each listed field against
 * `toJob` with every other column NULL).
 */
export const JOB_FIELD_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  __typename: [],
  id: ['id'],
  name: ['name'],
  type: ['type'],
  scope: ['scope'],
  owner: ['owner_id'],
  ownerName: ['owner_name'],
  status: ['status'],
  step: ['step'],
  progress: [
    'status',
    'progress_done',
    'progress_total',
    'progress_unit',
    'progress_phase',
    'progress_percent',
    'progress_rate',
    'progress_updated_at',
    'progress_rate_at',
    'progress_stalled_since',
  ],
  message: ['message'],
  error: ['error_message', 'error_stack'],
  config: ['config'],
  hasSecrets: ['has_secrets'],
  approvers: ['approvers'],
  requiresApproval: ['requires_approval'],
  scheduledAt: ['scheduled_at'],
  maxStartAt: ['max_start_at'],
  createdAt: ['created_at'],
  startedAt: ['started_at'],
  finishedAt: ['finished_at'],
  updatedAt: ['updated_at'],
  duration: ['started_at', 'finished_at'],
  previousRunDuration: ['previous_run_duration_ms'],
  attempt: ['attempt'],
  workerId: ['worker_id'],
  heartbeatAt: ['heartbeat_at'],
  asset: ['asset'],
  attributes: ['attributes'],
  trapExpiresAt: ['status', 'trap_timeout_at'],
  cancelRequestedAt: ['cancel_requested_at'],
  cancelRequestedBy: ['cancel_requested_by'],
  terminal: ['status'],
  // Field resolvers (jobs/job-fields.resolver.ts, actions, stats): what they read of the job.
  tasks: ['id'],
  taskCounts: ['id'],
  timeline: ['id'],
  url: ['id'],
  attempts: ['id', 'attempt', 'status', 'step', 'worker_id', 'started_at', 'finished_at', 'error_message', 'error_stack'],
  viewerCan: ['status', 'scope', 'type', 'owner_id', 'approvers'],
  slowerThanUsual: ['status', 'type', 'started_at', 'finished_at'],
};

interface JobColumn {
  /** What JOB_COLUMNS selects (`secrets IS NOT NULL AS has_secrets`). */
  readonly expression: string;
  /** The row key it lands in (`has_secrets`). */
  readonly name: string;
}

const ALL_COLUMNS: readonly JobColumn[] = JOB_COLUMNS.split(',').map((part) => {
  const expression = part.trim();
  const alias = /\sAS\s+([a-z_][a-z0-9_]*)$/i.exec(expression);
  return { expression, name: alias === null ? expression : (alias[1] as string) };
});

/** The select list for rows that must answer `fields` (undefined: every field), with `always` too. */
export function jobSelectList(fields: ReadonlySet<string> | undefined, always: readonly string[] = []): string {
  if (fields === undefined) return JOB_COLUMNS;
  const needed = new Set<string>(['id', ...always]);
  for (const field of fields) {
    const columns = JOB_FIELD_COLUMNS[field];
    if (columns === undefined) return JOB_COLUMNS;
    for (const column of columns) needed.add(column);
  }
  return ALL_COLUMNS.filter((column) => needed.has(column.name))
    .map((column) => column.expression)
    .join(', ');
}

/** Memoised per field node: Apollo keeps parsed documents, so a hot document's nodes come back each time. */
const cache = new WeakMap<FieldNode, ReadonlySet<string> | undefined>();

/**
 * The Job fields a `jobs` connection (`nodes { … }`, `edges { node { … } }`) or a `job` field
 * asks for, over every alias, fragment and inline fragment; undefined when it cannot tell.
 * `@skip`/`@include` are not evaluated: a field that might be asked for counts.
 */
export function requestedJobFields(info: GraphQLResolveInfo, shape: 'connection' | 'job'): ReadonlySet<string> | undefined {
  const node = info.fieldNodes.length === 1 ? info.fieldNodes[0] : undefined;
  if (node !== undefined && cache.has(node)) return cache.get(node);
  const fields = new Set<string>();
  const complete = info.fieldNodes.every((field) =>
    shape === 'job' ? collect(field.selectionSet, info.fragments, fields) : collectConnection(field.selectionSet, info.fragments, fields),
  );
  const result = complete ? fields : undefined;
  if (node !== undefined) cache.set(node, result);
  return result;
}

type Fragments = Readonly<Record<string, FragmentDefinitionNode>>;

/** Walks a selection set, fragments included, calling `visit` with each field; false when it cannot. */
function eachField(
  selectionSet: SelectionSetNode | undefined,
  fragments: Fragments,
  visit: (field: FieldNode) => boolean,
  depth = 0,
): boolean {
  if (selectionSet === undefined) return true;
  if (depth > 20) return false;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (!visit(selection)) return false;
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      if (!eachField(selection.selectionSet, fragments, visit, depth + 1)) return false;
    } else {
      const fragment = fragments[selection.name.value];
      if (fragment === undefined || !eachField(fragment.selectionSet, fragments, visit, depth + 1)) return false;
    }
  }
  return true;
}

function collect(selectionSet: SelectionSetNode | undefined, fragments: Fragments, into: Set<string>): boolean {
  return eachField(selectionSet, fragments, (field) => {
    into.add(field.name.value);
    return true;
  });
}

function collectConnection(selectionSet: SelectionSetNode | undefined, fragments: Fragments, into: Set<string>): boolean {
  return eachField(selectionSet, fragments, (field) => {
    if (field.name.value === 'nodes') return collect(field.selectionSet, fragments, into);
    if (field.name.value === 'edges') {
      return eachField(
        field.selectionSet,
        fragments,
        (edgeField) => edgeField.name.value !== 'node' || collect(edgeField.selectionSet, fragments, into),
      );
    }
    return true;
  });
}
