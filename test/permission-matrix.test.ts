import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { JobStatus } from '../src/jobs/job-status';
import { createRole, grant, insertJobs } from './support/fixtures';
import { token } from './support/test-server';
import { apiSuite } from './support/api-suite';

/**
 * The permission matrix of DOMAIN.md. What the built-in roles may do is not written here by
 * hand: it is parsed from DOMAIN.md's own sentences (quoted below and checked against the file),
 * with the code's deviations listed explicitly. Every built-in role is granted twice, on the
 * scope `acme/payments` and everywhere; two custom scoped roles add conditions on `type` and
 * `ownerId` and `approve_all`. Each cell acts on a fresh job in a status where the action is
 * legal, so only permissions decide, and checks the answer, the row and the timeline event.
 */

// ---------------------------------------------------------------------------------------------
// DOMAIN.md, "Permissions"

/** The contract as this version implements it, kept in the repository (docs/DOMAIN.md). */
const DOMAIN_MD = process.env['JOBWATCH_DOMAIN_MD'] ?? path.resolve(__dirname, '../docs/DOMAIN.md');
const ACTIONS_SENTENCE =
  'Actions: `view_monitor`, `create`, `restart`, `cancel`, `delete`, `reschedule`, `approve`, `approve_all`, `manage_permissions`, `execute`.';
const ROLES_SENTENCE =
  'Built-in roles: `admin` (everything), `operator` (view, create, restart, cancel, reschedule, approve, delete), ' +
  '`viewer` (view_monitor), `own-jobs` (view, create, cancel own jobs only: Akeneo\'s users without "view all jobs"), `worker` (execute).';

/** `resolve_trap` is an action the code added: DOMAIN.md has pauseTrap and resolveTrap but names no permission for them. */
const ADDED_ACTIONS = ['resolve_trap'] as const;
type Action = string;

/** Where the code gives a built-in role more than DOMAIN.md's sentence says, and why. */
const DEVIATIONS: Record<string, { adds: Action[]; why: string }> = {
  admin: { adds: [...ADDED_ACTIONS], why: '"everything" covers the actions the code added' },
  operator: { adds: ['resolve_trap'], why: 'operators resolve traps (Clarive: whoever operates a job decides its trap)' },
  'own-jobs': {
    adds: ['delete'],
    why: 'DOMAIN.md, Additions: own-jobs may also delete its own jobs once they are terminal (the mail migration seed)',
  },
  // operator also holds manage_alerts (subject Alert): not a job action, tested with alerts.
};

const squash = (text: string) => text.replace(/\s+/g, ' ');
const DOMAIN_ACTIONS: Action[] = [...ACTIONS_SENTENCE.matchAll(/`([a-z_]+)`/g)].map((match) => match[1]!);
const JOB_ACTIONS: Action[] = [...DOMAIN_ACTIONS.filter((action) => action !== 'manage_permissions'), ...ADDED_ACTIONS];

interface RoleSpec {
  readonly actions: ReadonlySet<Action>;
  /** "own jobs only": every action, viewing included, only on jobs the user owns. */
  readonly ownOnly: boolean;
}

/** `name` (words): "everything", or actions ("view" is view_monitor), optionally "own jobs only", then an aside after ":". */
function parseRoles(sentence: string): Record<string, RoleSpec> {
  const body = /^Built-in roles: (.*)\.$/.exec(sentence)?.[1];
  if (body === undefined) throw new Error(`not a roles sentence: ${sentence}`);
  const result: Record<string, RoleSpec> = {};
  for (const [, name, words] of body.matchAll(/`([a-z-]+)` \(([^)]*)\)/g)) {
    let list = words!.split(':')[0]!.trim();
    const ownOnly = list.endsWith(' own jobs only');
    if (ownOnly) list = list.slice(0, -' own jobs only'.length);
    const actions =
      list === 'everything'
        ? JOB_ACTIONS
        : list.split(',').map((word) => {
            const action = word.trim() === 'view' ? 'view_monitor' : word.trim();
            if (!DOMAIN_ACTIONS.includes(action)) throw new Error(`role ${name}: "${word}" is not an action of DOMAIN.md`);
            return action;
          });
    result[name!] = { actions: new Set([...actions, ...(DEVIATIONS[name!]?.adds ?? [])]), ownOnly };
  }
  return result;
}

const BUILT_IN = parseRoles(ROLES_SENTENCE);

// ---------------------------------------------------------------------------------------------
// Who acts: each built-in role scoped and unscoped, and two custom scoped roles

const GRANT_SCOPE = 'acme/payments';
const IN_SCOPE = 'acme/payments/prod';
const OUT_OF_SCOPE = 'acme/crm/prod';

/** The job a cell acts on, as the grantee sees it. */
interface JobFacts {
  readonly own: boolean;
  readonly inScope: boolean;
  /** The grantee is among the job's approvers (only varied for approve and reject). */
  readonly named: boolean;
  readonly type: string;
}

interface Grantee {
  readonly user: string;
  readonly role: string;
  readonly scope: string | null;
  /** Types to vary: only the custom roles have conditions on it. */
  readonly types: readonly string[];
  /** What the role's rules allow on a job inside the grant's scope. */
  readonly can: (action: Action, job: JobFacts) => boolean;
}

const fromSpec = (spec: RoleSpec) => (action: Action, job: JobFacts) => spec.actions.has(action) && (!spec.ownOnly || job.own);

/** Custom roles: their rules as stored, and the same rules in words. */
const CUSTOM_RULES: Record<string, unknown[]> = {
  'payments-ops': [
    { action: ['view_monitor', 'cancel', 'reschedule'], subject: 'Job' },
    { action: 'restart', subject: 'Job', conditions: { type: 'deployment' } },
    { action: 'delete', subject: 'Job', conditions: { ownerId: '${user.id}' } },
  ],
  'release-approvers': [
    { action: 'view_monitor', subject: 'Job' },
    { action: 'approve_all', subject: 'Job', conditions: { type: { $in: ['deployment'] } } },
  ],
};

const GRANTEES: Grantee[] = [
  ...Object.entries(BUILT_IN).flatMap(([role, spec]) => [
    { user: `scoped-${role}`, role, scope: GRANT_SCOPE, types: ['deployment'], can: fromSpec(spec) },
    { user: `all-${role}`, role, scope: null, types: ['deployment'], can: fromSpec(spec) },
  ]),
  {
    user: 'payments-ops',
    role: 'payments-ops',
    scope: GRANT_SCOPE,
    types: ['deployment', 'import'],
    can: (action, job) =>
      ['view_monitor', 'cancel', 'reschedule'].includes(action) ||
      (action === 'restart' && job.type === 'deployment') ||
      (action === 'delete' && job.own),
  },
  {
    user: 'release-approver',
    role: 'release-approvers',
    scope: GRANT_SCOPE,
    types: ['deployment', 'import'],
    can: (action, job) => action === 'view_monitor' || (action === 'approve_all' && job.type === 'deployment'),
  },
];

// ---------------------------------------------------------------------------------------------
// What is done: each action, the permission it needs, and what it writes

type Verb = 'start' | 'cancel' | 'restart' | 'reschedule' | 'delete' | 'approve' | 'reject' | 'pauseTrap' | 'resolveTrap';
type Outcome = 'ok' | 'FORBIDDEN' | 'NOT_FOUND';

interface ActionSpec {
  readonly from: JobStatus;
  readonly mutation: (id: string, user: string) => string;
  readonly to: JobStatus | 'gone';
  /** The timeline event of a success, beyond who and the statuses. */
  readonly event: (user: string) => { kind: string; message: string | null; data: unknown; attempt: number };
  /** The permission it needs (approve and reject: `approve` as a named approver, or `approve_all`). */
  readonly needs: Action;
}

const ACTIONS: Record<Verb, ActionSpec> = {
  start: {
    from: 'CREATED',
    mutation: (id) => `startJob(id: "${id}") { status }`,
    to: 'PENDING',
    event: () => ({ kind: 'SUBMITTED', message: null, data: null, attempt: 1 }),
    needs: 'create',
  },
  cancel: {
    from: 'PENDING',
    mutation: (id, user) => `cancelJob(id: "${id}", reason: "stopped by ${user}") { status }`,
    to: 'CANCELLED',
    event: (user) => ({ kind: 'CANCELLED', message: `stopped by ${user}`, data: null, attempt: 1 }),
    needs: 'cancel',
  },
  restart: {
    from: 'FAILED',
    mutation: (id) => `restartJob(id: "${id}") { status }`,
    to: 'PENDING',
    event: () => ({ kind: 'RESTARTED', message: null, data: { step: 'PRE', runNow: false, newSecrets: false }, attempt: 2 }),
    needs: 'restart',
  },
  reschedule: {
    from: 'PENDING',
    mutation: (id) => `rescheduleJob(id: "${id}", scheduledAt: "2099-01-01T00:00:00Z") { status }`,
    to: 'PENDING',
    event: () => ({ kind: 'RESCHEDULED', message: null, data: { scheduledAt: '2099-01-01T00:00:00.000Z', maxStartAt: null }, attempt: 1 }),
    needs: 'reschedule',
  },
  delete: {
    from: 'SUCCEEDED',
    mutation: (id) => `deleteJob(id: "${id}")`,
    to: 'gone',
    event: () => ({ kind: 'DELETED', message: null, data: null, attempt: 1 }),
    needs: 'delete',
  },
  approve: {
    from: 'WAITING_APPROVAL',
    mutation: (id, user) => `approveJob(id: "${id}", comment: "looks right to ${user}") { status }`,
    to: 'PENDING',
    event: (user) => ({ kind: 'APPROVED', message: `looks right to ${user}`, data: null, attempt: 1 }),
    needs: 'approve',
  },
  reject: {
    from: 'WAITING_APPROVAL',
    mutation: (id, user) => `rejectJob(id: "${id}", comment: "not today, says ${user}") { status }`,
    to: 'REJECTED',
    event: (user) => ({ kind: 'REJECTED', message: `not today, says ${user}`, data: null, attempt: 1 }),
    needs: 'approve',
  },
  pauseTrap: {
    from: 'TRAPPED',
    mutation: (id) => `pauseTrap(id: "${id}") { status }`,
    to: 'TRAP_PAUSED',
    event: () => ({ kind: 'TRAP_PAUSED', message: null, data: null, attempt: 1 }),
    needs: 'resolve_trap',
  },
  resolveTrap: {
    from: 'TRAPPED',
    mutation: (id) => `resolveTrap(id: "${id}", decision: RETRY) { status }`,
    to: 'RUNNING',
    event: () => ({ kind: 'TRAP_RESOLVED', message: null, data: { decision: 'RETRY' }, attempt: 1 }),
    needs: 'resolve_trap',
  },
};
const VERBS = Object.keys(ACTIONS) as Verb[];
const isApproval = (verb: Verb) => ACTIONS[verb].needs === 'approve';

/** DOMAIN.md: "A user in a job's approvers may approve it; approve_all approves any job in scope." */
function expected(grantee: Grantee, verb: Verb, job: JobFacts): Outcome {
  if ((grantee.scope !== null && !job.inScope) || !grantee.can('view_monitor', job)) return 'NOT_FOUND';
  const allowed = isApproval(verb)
    ? (grantee.can('approve', job) && job.named) || grantee.can('approve_all', job)
    : grantee.can(ACTIONS[verb].needs, job);
  return allowed ? 'ok' : 'FORBIDDEN';
}

interface Cell {
  readonly label: string;
  readonly grantee: Grantee;
  readonly verb: Verb;
  readonly job: JobFacts;
}

const bools = [true, false];
const CELLS: Cell[] = GRANTEES.flatMap((grantee) =>
  VERBS.flatMap((verb) =>
    grantee.types.flatMap((type) =>
      bools.flatMap((own) =>
        bools.flatMap((inScope) =>
          (isApproval(verb) ? bools : [false]).map((named) => ({
            label: `${grantee.user}: ${verb} ${own ? 'own' : "someone else's"} ${type} job ${inScope ? 'in' : 'out of'} scope${
              isApproval(verb) ? (named ? ', named approver' : ', not named') : ''
            }`,
            grantee,
            verb,
            job: { own, inScope, named, type },
          })),
        ),
      ),
    ),
  ),
);

// ---------------------------------------------------------------------------------------------

const tokens = new Map<string, string>();
const tokenOf = async (user: string) => tokens.get(user) ?? tokens.set(user, await token(user)).get(user)!;

const suite = apiSuite({ grants: [] });
beforeAll(async () => {
  for (const [name, rules] of Object.entries(CUSTOM_RULES)) await createRole(suite.db.pool, name, rules);
  for (const grantee of GRANTEES) await grant(suite.db.pool, grantee.user, grantee.role, grantee.scope);
});

async function insertJob(grantee: Grantee, job: JobFacts, status: JobStatus) {
  const [row] = await insertJobs(suite.db.pool, [
    {
      status,
      type: job.type,
      owner_id: job.own ? grantee.user : 'someone-else',
      scope: job.inScope ? IN_SCOPE : OUT_OF_SCOPE,
      approvers: job.named ? [grantee.user, 'another-approver'] : ['another-approver'],
      requires_approval: status === 'WAITING_APPROVAL',
    },
  ]);
  return row!;
}

const jobRow = async (id: string) =>
  (await suite.db.pool.query('SELECT * FROM jobs WHERE id = $1', [id])).rows[0] as Record<string, unknown> | undefined;
const eventRows = async (id: string) =>
  (await suite.db.pool.query('SELECT * FROM timeline_events WHERE job_id = $1 ORDER BY id', [id])).rows as Array<Record<string, unknown>>;

describe('DOMAIN.md is the source of the expectations', () => {
  test("the sentences quoted here are DOMAIN.md's, word for word", () => {
    expect([DOMAIN_MD, existsSync(DOMAIN_MD)]).toEqual([DOMAIN_MD, true]);
    const text = squash(readFileSync(DOMAIN_MD, 'utf8'));
    expect(text).toContain(ACTIONS_SENTENCE);
    expect(text).toContain(ROLES_SENTENCE);
  });

  test("the parse gives every built-in role of the database, with DOMAIN.md's actions", async () => {
    const { rows } = await suite.db.pool.query<{ name: string }>('SELECT name FROM roles WHERE built_in ORDER BY name');
    expect(Object.keys(BUILT_IN).sort()).toEqual(rows.map((row) => row.name));
    const summary = Object.fromEntries(
      Object.entries(BUILT_IN).map(([name, spec]) => [name, { actions: [...spec.actions].sort(), ownOnly: spec.ownOnly }]),
    );
    expect(summary).toEqual({
      admin: { actions: [...JOB_ACTIONS].sort(), ownOnly: false },
      operator: {
        actions: ['approve', 'cancel', 'create', 'delete', 'reschedule', 'resolve_trap', 'restart', 'view_monitor'],
        ownOnly: false,
      },
      viewer: { actions: ['view_monitor'], ownOnly: false },
      'own-jobs': { actions: ['cancel', 'create', 'delete', 'view_monitor'], ownOnly: true },
      worker: { actions: ['execute'], ownOnly: false },
    });
  });

  test('the matrix is not vacuous: every outcome occurs, for built-in and custom roles alike', () => {
    const outcomes = (custom: boolean) =>
      new Set(
        CELLS.filter((cell) => cell.grantee.role in CUSTOM_RULES === custom).map((cell) => expected(cell.grantee, cell.verb, cell.job)),
      );
    expect([...outcomes(false)].sort()).toEqual(['FORBIDDEN', 'NOT_FOUND', 'ok']);
    expect([...outcomes(true)].sort()).toEqual(['FORBIDDEN', 'NOT_FOUND', 'ok']);
  });
});

test.each(CELLS)('$label', async ({ grantee, verb, job }) => {
  const action = ACTIONS[verb];
  const { id } = await insertJob(grantee, job, action.from);
  const before = await jobRow(id);
  const startedAt = new Date(Date.now() - 1000);
  const response = await suite.server.gql<Record<string, { status?: string } | string>>(
    await tokenOf(grantee.user),
    `mutation { ${action.mutation(id, grantee.user)} }`,
  );
  const outcome = expected(grantee, verb, job);
  const after = await jobRow(id);
  const events = await eventRows(id);

  if (outcome !== 'ok') {
    expect(response.errors?.[0]?.extensions?.['code']).toBe(outcome);
    expect(after).toEqual(before);
    expect(events).toEqual([]);
    return;
  }
  expect(response.errors).toBeUndefined();
  if (action.to === 'gone') {
    expect(response.data).toEqual({ deleteJob: id });
    expect(after).toBeUndefined();
  } else {
    expect(Object.values(response.data!)[0]).toEqual({ status: action.to });
    expect(after?.['status']).toBe(action.to);
  }
  // The whole event row: who, what, from and to, why, and the job facts it keeps.
  expect(events).toHaveLength(1);
  const { id: eventId, at, ...event } = events[0]!;
  expect(typeof eventId).toBe('string');
  expect((at as Date).getTime()).toBeGreaterThanOrEqual(startedAt.getTime());
  expect(event).toEqual({
    job_id: id,
    ...action.event(grantee.user),
    actor_id: grantee.user,
    actor_kind: 'USER',
    from_status: action.from,
    to_status: action.to === 'gone' ? null : action.to,
    step: 'PRE',
    job_scope: job.inScope ? IN_SCOPE : OUT_OF_SCOPE,
    job_type: job.type,
    job_owner_id: job.own ? grantee.user : 'someone-else',
  });
});

describe('approving: named approvers need approve, approve_all needs no naming', () => {
  // The decision: `approve` is the permission to approve the jobs that name you. Being named by
  // a job's creator grants nothing by itself, or anyone who may create a job could hand out
  // approval rights the admins never assigned.
  const cases: Array<[string, boolean, Outcome]> = [
    ['scoped-viewer', true, 'FORBIDDEN'],
    ['scoped-operator', true, 'ok'],
    ['scoped-operator', false, 'FORBIDDEN'],
    ['release-approver', false, 'ok'],
    ['release-approver', true, 'ok'],
  ];
  test.each(cases)('%s, named: %s → %s', async (user, named, outcome) => {
    const grantee = GRANTEES.find((candidate) => candidate.user === user)!;
    const facts = { own: false, inScope: true, named, type: 'deployment' };
    expect(expected(grantee, 'approve', facts)).toBe(outcome);
    const { id } = await insertJob(grantee, facts, 'WAITING_APPROVAL');
    const response = await suite.server.gql(await tokenOf(user), `mutation { approveJob(id: "${id}") { status } }`);
    expect(response.errors?.[0]?.extensions?.['code']).toBe(outcome === 'ok' ? undefined : outcome);
    expect((await jobRow(id))?.['status']).toBe(outcome === 'ok' ? 'PENDING' : 'WAITING_APPROVAL');
  });
});

test.each(GRANTEES.flatMap((grantee) => bools.map((inScope) => [grantee.user, inScope] as const)))(
  '%s: createJob, in scope: %s',
  async (user, inScope) => {
    const grantee = GRANTEES.find((candidate) => candidate.user === user)!;
    const name = `created by ${user} ${inScope}`;
    const response = await suite.server.gql(
      await tokenOf(user),
      `mutation { createJob(input: { name: "${name}", type: "deployment", scope: "${inScope ? IN_SCOPE : OUT_OF_SCOPE}" }) { id } }`,
    );
    const allowed = (grantee.scope === null || inScope) && grantee.can('create', { own: true, inScope, named: false, type: 'deployment' });
    if (allowed) expect(response.errors).toBeUndefined();
    else expect(response.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    const { rows } = await suite.db.pool.query('SELECT owner_id FROM jobs WHERE name = $1', [name]);
    expect(rows).toEqual(allowed ? [{ owner_id: user }] : []);
  },
);

test('viewerCan answers the same as the mutations do, cell for cell', async () => {
  const answers: unknown[] = [];
  const wanted: unknown[] = [];
  for (const { grantee, verb, job, label } of CELLS) {
    const { id } = await insertJob(grantee, job, ACTIONS[verb].from);
    const response = await suite.server.gql<{ job: { viewerCan: Record<Verb, boolean> } | null }>(
      await tokenOf(grantee.user),
      `{ job(id: "${id}") { viewerCan { ${verb} } } }`,
    );
    const outcome = expected(grantee, verb, job);
    answers.push([label, response.data?.job === null ? 'invisible' : response.data?.job?.viewerCan[verb]]);
    wanted.push([label, outcome === 'NOT_FOUND' ? 'invisible' : outcome === 'ok']);
  }
  expect(answers).toEqual(wanted);
  // Hundreds of requests one after another: on a busy machine, more than a minute.
}, 180_000);
