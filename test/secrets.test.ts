import { randomBytes } from 'node:crypto';
import { TEST_SECRETS_KEY, token, type GraphQLResponse, type TestServer } from './support/test-server';
import { apiSuite } from './support/api-suite';

/**
 * Job secrets (DOMAIN.md, "Secrets and retention"): encrypted at rest, readable only by the
 * worker that claimed the job, destroyed at every terminal status, at most 16 KB, and a server
 * with another key fails the job clearly instead of handing out garbage.
 */

let otherWorker: string;

const suite = apiSuite({
  grants: [
    ['admin', 'admin'],
    ['worker', 'worker'],
    ['worker-2', 'worker'],
  ],
});
beforeAll(async () => {
  otherWorker = await token('worker-2');
});

const code = (response: Pick<GraphQLResponse, 'errors'>) => response.errors?.[0]?.extensions?.['code'];
/** A value nobody could find by chance. */
const unique = (label: string) => `${label}-${randomBytes(8).toString('hex')}`;

interface CreateInput {
  type: string;
  secrets?: Record<string, unknown> | null;
  requiresApproval?: boolean;
  approvers?: string[];
  maxStartAt?: string;
  name?: string;
}

async function create(input: CreateInput, on: TestServer = suite.server): Promise<string> {
  const response = await on.gql<{ createJob: { id: string; hasSecrets: boolean } }>(
    suite.admin,
    'mutation($input: CreateJobInput!) { createJob(input: $input) { id hasSecrets } }',
    { input: { name: input.name ?? `${input.type} job`, scope: 'acme/secrets', ...input } },
  );
  expect(response.errors).toBeUndefined();
  expect(response.data?.createJob.hasSecrets).toBe(input.secrets != null);
  return response.data!.createJob.id;
}

interface ClaimData {
  claimJob: { lease: string; secrets: Record<string, unknown> | null; job: { id: string; status: string; workerId: string } } | null;
}
const claim = (type: string, bearer = suite.worker, on: TestServer = suite.server, workerId = 'secrets-worker') =>
  on.gql<ClaimData>(
    bearer,
    'mutation($workerId: String!, $types: [String!]) { claimJob(workerId: $workerId, types: $types) { lease secrets job { id status workerId } } }',
    { workerId, types: [type] },
  );

async function claimed(type: string): Promise<{ id: string; lease: string; secrets: Record<string, unknown> | null }> {
  const response = await claim(type);
  expect(response.errors).toBeUndefined();
  const got = response.data!.claimJob!;
  return { id: got.job.id, lease: got.lease, secrets: got.secrets };
}

const workerCall = (mutation: string, lease: string) =>
  suite.server.gql(suite.worker, `mutation($lease: String!) { ${mutation} }`, { lease });
const adminCall = (mutation: string) => suite.server.gql(suite.admin, `mutation { ${mutation} }`);

async function stored(id: string): Promise<{ status: string; secrets: Buffer | null; error_message: string | null } | undefined> {
  const { rows } = await suite.db.pool.query('SELECT status, secrets, error_message FROM jobs WHERE id = $1', [id]);
  return rows[0] as { status: string; secrets: Buffer | null; error_message: string | null } | undefined;
}

async function hasSecrets(id: string): Promise<boolean | undefined> {
  const response = await suite.server.gql<{ job: { hasSecrets: boolean } | null }>(
    suite.admin,
    `query { job(id: "${id}") { hasSecrets } }`,
  );
  return response.data?.job?.hasSecrets;
}

/** Every text form in which a value could leak out of a buffer or a string. */
function forms(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  return [value, bytes.toString('hex'), bytes.toString('base64'), bytes.toString('base64url')];
}

function expectNoLeak(haystack: string, ...values: string[]): void {
  for (const value of values) for (const form of forms(value)) expect(haystack.includes(form) ? `contains ${form}` : 'clean').toBe('clean');
}

/** Builds a selection of every field of a type (to a depth) from the live schema: a new field cannot slip by. */
async function everyField(typeName: string, depth: number): Promise<string> {
  interface TypeRef {
    kind: string;
    name: string | null;
    ofType: TypeRef | null;
  }
  interface FieldInfo {
    name: string;
    args: Array<{ type: TypeRef; defaultValue: string | null }>;
    type: TypeRef;
  }
  const ref = 'kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } }';
  const response = await suite.server.gql<{ __schema: { types: Array<{ name: string; fields: FieldInfo[] | null }> } }>(
    suite.admin,
    `query { __schema { types { name fields { name args { defaultValue type { ${ref} } } type { ${ref} } } } } }`,
  );
  const types = new Map(response.data!.__schema.types.map((type) => [type.name, type.fields ?? []]));
  const named = (type: TypeRef): TypeRef => (type.ofType === null ? type : named(type.ofType));
  const build = (name: string, left: number): string =>
    (types.get(name) ?? [])
      .filter((field) => field.args.every((arg) => arg.type.kind !== 'NON_NULL' || arg.defaultValue !== null))
      .map((field) => {
        const inner = named(field.type);
        if (inner.kind !== 'OBJECT') return inner.kind === 'INTERFACE' || inner.kind === 'UNION' ? '' : field.name;
        if (left === 0) return '';
        const sub = build(inner.name!, left - 1);
        return sub === '' ? '' : `${field.name} { ${sub} }`;
      })
      .filter((part) => part !== '')
      .join(' ');
  return build(typeName, depth);
}

describe('encrypted at rest', () => {
  test('the stored bytes hold no form of the plaintext, and equal secrets encrypt differently', async () => {
    const password = unique('hunter2');
    const secrets = { password, dsn: `postgres://app:${password}@db.internal/prod` };
    const first = await create({ type: 'at-rest', secrets });
    const second = await create({ type: 'at-rest', secrets });
    const { rows } = await suite.db.pool.query<{ id: string; secrets: Buffer; escaped: string; whole: string }>(
      `SELECT id, secrets, encode(secrets, 'escape') AS escaped, to_jsonb(j)::text AS whole FROM jobs j WHERE id = ANY($1::uuid[]) ORDER BY id`,
      [[first, second]],
    );
    expect(rows).toHaveLength(2);
    const json = JSON.stringify(secrets);
    for (const row of rows) {
      // AES-GCM: version, 12-byte IV, 16-byte tag, then as many bytes as the JSON.
      expect(row.secrets[0]).toBe(1);
      expect(row.secrets.length).toBe(1 + 12 + 16 + Buffer.byteLength(json));
      for (const haystack of [
        row.secrets.toString('latin1'),
        row.secrets.toString('utf8'),
        row.secrets.toString('hex'),
        row.secrets.toString('base64'),
        row.escaped,
        row.whole,
      ]) {
        expectNoLeak(haystack, password, json);
      }
    }
    const [a, b] = rows as [(typeof rows)[0], (typeof rows)[0]];
    expect(a.secrets.equals(b.secrets)).toBe(false);
    expect(a.secrets.subarray(1, 13).equals(b.secrets.subarray(1, 13))).toBe(false); // a fresh IV each time
    const events = await suite.db.pool.query<{ all: string }>(
      `SELECT coalesce(string_agg(to_jsonb(e)::text, ''), '') AS all FROM timeline_events e`,
    );
    expectNoLeak(events.rows[0]!.all, password);
  });

  test('a ciphertext copied onto another job does not decrypt: the claim fails that job clearly and goes on', async () => {
    const [sourcePassword, targetPassword, nextPassword] = [unique('source'), unique('target'), unique('next')];
    const source = await create({ type: 'copy-source', secrets: { password: sourcePassword } });
    const target = await create({ type: 'copy', secrets: { password: targetPassword } });
    const next = await create({ type: 'copy', secrets: { password: nextPassword } });
    await suite.db.pool.query(
      `UPDATE jobs SET secrets = (SELECT secrets FROM jobs WHERE id = $1), created_at = now() - interval '1 minute' WHERE id = $2`,
      [source, target],
    );

    const response = await claim('copy');
    expect(response.errors).toBeUndefined();
    expect(response.data?.claimJob?.job.id).toBe(next);
    expect(response.data?.claimJob?.secrets).toEqual({ password: nextPassword });
    expectNoLeak(JSON.stringify(response), sourcePassword, targetPassword);

    const failed = await stored(target);
    expect(failed).toMatchObject({ status: 'FAILED', secrets: null });
    expect(failed!.error_message).toMatch(/secrets/i);
    expect(failed!.error_message).toMatch(/decrypt/i);
    expectNoLeak(failed!.error_message!, sourcePassword, targetPassword);
    const { rows } = await suite.db.pool.query<{ kind: string; actor_kind: string; to_status: string | null; text: string }>(
      'SELECT kind, actor_kind, to_status, to_jsonb(e)::text AS text FROM timeline_events e WHERE job_id = $1 ORDER BY id',
      [target],
    );
    expect(rows.map(({ kind, actor_kind, to_status }) => ({ kind, actor_kind, to_status }))).toEqual([
      { kind: 'CREATED', actor_kind: 'USER', to_status: 'PENDING' },
      { kind: 'CLAIMED', actor_kind: 'WORKER', to_status: 'RUNNING' },
      { kind: 'FAILED', actor_kind: 'SYSTEM', to_status: 'FAILED' },
    ]);
    for (const row of rows) expectNoLeak(row.text, sourcePassword, targetPassword);
    // Nothing is left to claim; the original still opens on its own job.
    expect((await claim('copy')).data?.claimJob).toBeNull();
    expect((await claim('copy-source')).data?.claimJob?.secrets).toEqual({ password: sourcePassword });
  });

  test('unreadable bytes (another format, truncated) fail the job the same way; a lone job answers null', async () => {
    const garbled = await create({ type: 'garbled', secrets: { password: unique('g') } });
    const truncated = await create({ type: 'truncated', secrets: { password: unique('t') } });
    await suite.db.pool.query(`UPDATE jobs SET secrets = set_byte(secrets, 0, 7) WHERE id = $1`, [garbled]);
    await suite.db.pool.query(`UPDATE jobs SET secrets = substring(secrets from 1 for 20) WHERE id = $1`, [truncated]);
    for (const [type, id] of [
      ['garbled', garbled],
      ['truncated', truncated],
    ] as const) {
      const response = await claim(type);
      expect([type, response.errors, response.data?.claimJob]).toEqual([type, undefined, null]);
      const job = await stored(id);
      expect(job).toMatchObject({ status: 'FAILED', secrets: null });
      expect(job!.error_message).toMatch(/secrets/i);
    }
  });
});

describe('readable only by the worker that claimed the job', () => {
  test('the claim answer has them; no other worker, no user field and no timeline event does', async () => {
    const password = unique('only-claimer');
    const secrets = { password, nested: { token: unique('nested') } };
    const id = await create({ type: 'only-claimer', secrets });
    const mine = await claimed('only-claimer');
    expect(mine).toMatchObject({ id, secrets });

    const theirs = await claim('only-claimer', otherWorker, suite.server, 'worker-2');
    expect(theirs.errors).toBeUndefined();
    expect(theirs.data?.claimJob).toBeNull();
    const heartbeat = await suite.server.gql(otherWorker, 'mutation($lease: String!) { heartbeat(lease: $lease) { status } }', {
      lease: `${id}.00000000-0000-4000-8000-000000000000`,
    });
    expect(heartbeat.errors?.[0]?.extensions?.['reason']).toBe('LEASE_LOST');

    // Through a full attempt and a restart with new secrets: progress, a log line, completion.
    const reported = await suite.server.gql<{ reportProgress: number }>(
      suite.worker,
      'mutation($r: [ProgressReport!]!) { reportProgress(reports: $r) }',
      {
        r: [{ lease: mine.lease, done: 10, total: 10, unit: 'rows', message: 'copied', log: ['all rows copied'] }],
      },
    );
    expect(reported.data?.reportProgress).toBe(1);
    await suite.server.services.progress.flush();
    expect((await workerCall('completeJob(lease: $lease) { status }', mine.lease)).errors).toBeUndefined();
    const newPassword = unique('second-attempt');
    const restarted = await suite.server.gql(
      suite.admin,
      'mutation($id: ID!, $s: JSONObject) { restartJob(id: $id, secrets: $s) { status } }',
      {
        id,
        s: { password: newPassword },
      },
    );
    expect(restarted.errors).toBeUndefined();

    const selection = await everyField('Job', 3);
    expect(selection).toContain('hasSecrets');
    expect(selection).toContain('timeline {');
    const asAdmin = await suite.server.gql(suite.admin, `query($id: ID!) { job(id: $id) { ${selection} } }`, { id });
    expect(asAdmin.errors).toBeUndefined();
    expect((asAdmin.data as { job: { hasSecrets: boolean } }).job.hasSecrets).toBe(true);
    const listed = await suite.server.gql(
      suite.admin,
      `query { jobs(filter: { types: ["only-claimer"] }, first: 5) { nodes { ${selection} } } }`,
    );
    expect(listed.errors).toBeUndefined();
    for (const answer of [asAdmin, listed]) expectNoLeak(JSON.stringify(answer), password, secrets.nested.token, newPassword);

    const { rows } = await suite.db.pool.query<{ text: string }>(
      `SELECT to_jsonb(e)::text AS text FROM timeline_events e WHERE job_id = $1`,
      [id],
    );
    expect(rows.length).toBeGreaterThanOrEqual(5);
    for (const row of rows) expectNoLeak(row.text, password, secrets.nested.token, newPassword);
  });

  test('workers racing for one job: exactly one receives its secrets', async () => {
    for (let round = 0; round < 5; round += 1) {
      const password = unique('race');
      const id = await create({ type: 'secret-race', secrets: { password } });
      const answers = await Promise.all(
        Array.from({ length: 8 }, (_, i) => claim('secret-race', i % 2 === 0 ? suite.worker : otherWorker, suite.server, `racer-${i}`)),
      );
      for (const answer of answers) expect(answer.errors).toBeUndefined();
      const winners = answers.map((answer) => answer.data?.claimJob).filter((got) => got != null);
      expect(winners).toHaveLength(1);
      expect(winners[0]).toMatchObject({ job: { id }, secrets: { password } });
      const { rows } = await suite.db.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM timeline_events WHERE job_id = $1 AND kind = 'CLAIMED'`,
        [id],
      );
      expect(rows[0]?.n).toBe(1);
      await workerCall('completeJob(lease: $lease) { status }', winners[0]!.lease);
    }
  });

  test('the schema has no readable secrets field on Job or TimelineEvent, only hasSecrets; the claim has them', async () => {
    const fields = async (name: string) =>
      (
        await suite.server.gql<{ __type: { fields: Array<{ name: string }> } }>(
          suite.admin,
          `query { __type(name: "${name}") { fields { name } } }`,
        )
      ).data!.__type.fields.map((field) => field.name);
    expect((await fields('Job')).filter((name) => /secret/i.test(name))).toEqual(['hasSecrets']);
    expect((await fields('TimelineEvent')).filter((name) => /secret/i.test(name))).toEqual([]);
    expect(await fields('Claim')).toContain('secrets');
  });
});

describe('destroyed at every terminal status', () => {
  type Case = [string, string, (type: string, id: string) => Promise<void>];
  const driveClaimed = (then: (job: { id: string; lease: string }) => Promise<void>) => async (type: string) => {
    const job = await claimed(type);
    expect(job.secrets).not.toBeNull();
    await then(job);
  };
  const cases: Case[] = [
    [
      'completeJob',
      'SUCCEEDED',
      driveClaimed(async ({ lease }) => void (await workerCall('completeJob(lease: $lease) { status }', lease))),
    ],
    [
      'failJob',
      'FAILED',
      driveClaimed(async ({ lease }) => void (await workerCall('failJob(lease: $lease, error: "boom") { status }', lease))),
    ],
    [
      'confirmCancel',
      'CANCELLED',
      driveClaimed(async ({ id, lease }) => {
        await adminCall(`cancelJob(id: "${id}") { status }`);
        await workerCall('confirmCancel(lease: $lease) { status }', lease);
      }),
    ],
    ['cancelJob of a PENDING job', 'CANCELLED', async (_type, id) => void (await adminCall(`cancelJob(id: "${id}") { status }`))],
    ['rejectJob', 'REJECTED', async (_type, id) => void (await adminCall(`rejectJob(id: "${id}") { status }`))],
    [
      'expiry by the daemon',
      'EXPIRED',
      async (_type, id) => {
        await suite.db.pool.query(`UPDATE jobs SET max_start_at = now() - interval '1 second' WHERE id = $1`, [id]);
        await suite.server.services.daemon.tick();
      },
    ],
    [
      'abend by the daemon',
      'ABENDED',
      driveClaimed(async ({ id }) => {
        await suite.db.pool.query(`UPDATE jobs SET heartbeat_at = now() - interval '1 hour' WHERE id = $1`, [id]);
        await suite.server.services.daemon.tick();
      }),
    ],
    [
      'cancel grace elapsed (daemon)',
      'CANCELLED',
      driveClaimed(async ({ id }) => {
        await adminCall(`cancelJob(id: "${id}") { status }`);
        await suite.db.pool.query(`UPDATE jobs SET cancel_requested_at = now() - interval '1 hour', heartbeat_at = now() WHERE id = $1`, [
          id,
        ]);
        await suite.server.services.daemon.tick();
      }),
    ],
    [
      'trap timeout (daemon)',
      'FAILED',
      driveClaimed(async ({ id, lease }) => {
        await workerCall('trapJob(lease: $lease, error: "stuck") { status }', lease);
        await suite.db.pool.query(`UPDATE jobs SET trap_timeout_at = now() - interval '1 second', heartbeat_at = now() WHERE id = $1`, [
          id,
        ]);
        await suite.server.services.daemon.tick();
      }),
    ],
    [
      'resolveTrap ABORT',
      'FAILED',
      driveClaimed(async ({ id, lease }) => {
        await workerCall('trapJob(lease: $lease, error: "stuck") { status }', lease);
        await adminCall(`resolveTrap(id: "${id}", decision: ABORT) { status }`);
      }),
    ],
  ];

  test.each(cases)('%s → %s: secrets NULL, hasSecrets false', async (name, status, drive) => {
    const type = `destroy-${name.replace(/[^a-z]+/gi, '-')}`.slice(0, 60);
    const needsApproval = name === 'rejectJob';
    const id = await create({
      type,
      secrets: { password: unique('destroy') },
      requiresApproval: needsApproval,
      approvers: ['admin'],
      ...(name.startsWith('expiry') ? { maxStartAt: new Date(Date.now() + 3600_000).toISOString() } : {}),
    });
    expect((await stored(id))!.secrets).not.toBeNull();
    await drive(type, id);
    const job = await stored(id);
    expect(job).toMatchObject({ status, secrets: null });
    expect(await hasSecrets(id)).toBe(false);
  });

  test('a restart without new secrets has none; restartJob(secrets) gives the next claim the new ones', async () => {
    const [first, second] = [unique('first'), unique('second')];
    const id = await create({ type: 'restart-secrets', secrets: { password: first } });
    const one = await claimed('restart-secrets');
    expect(one.secrets).toEqual({ password: first });
    await workerCall('failJob(lease: $lease, error: "boom") { status }', one.lease);

    const plain = await suite.server.gql<{ restartJob: { status: string; hasSecrets: boolean; attempt: number } }>(
      suite.admin,
      `mutation { restartJob(id: "${id}") { status hasSecrets attempt } }`,
    );
    expect(plain.data?.restartJob).toEqual({ status: 'PENDING', hasSecrets: false, attempt: 2 });
    expect((await stored(id))!.secrets).toBeNull();
    const two = await claimed('restart-secrets');
    expect(two).toMatchObject({ id, secrets: null });
    await workerCall('failJob(lease: $lease, error: "boom") { status }', two.lease);

    const renewed = await suite.server.gql<{ restartJob: { hasSecrets: boolean; attempt: number } }>(
      suite.admin,
      'mutation($id: ID!, $s: JSONObject) { restartJob(id: $id, secrets: $s) { hasSecrets attempt } }',
      { id, s: { password: second } },
    );
    expect(renewed.data?.restartJob).toEqual({ hasSecrets: true, attempt: 3 });
    const sealed = (await stored(id))!.secrets!;
    expectNoLeak(sealed.toString('latin1') + sealed.toString('hex') + sealed.toString('base64'), second);
    const three = await claimed('restart-secrets');
    expect(three).toMatchObject({ id, secrets: { password: second } });
    expectNoLeak(JSON.stringify(three), first);
  });
});

describe('size', () => {
  const countJobs = async (name: string) =>
    (await suite.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM jobs WHERE name = $1', [name])).rows[0]!.n;
  const overhead = JSON.stringify({ blob: '' }).length;

  test('secrets above 16 KB of JSON are BAD_USER_INPUT and nothing is stored; exactly 16 KB is fine', async () => {
    const eventsBefore = (await suite.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM timeline_events')).rows[0]!.n;
    for (const [label, blob] of [
      ['one byte over', 'x'.repeat(16 * 1024 - overhead + 1)],
      ['over in bytes, not in characters', 'é'.repeat(8200)],
      ['far over', 'x'.repeat(100_000)],
    ] as const) {
      const name = `too big: ${label}`;
      const response = await suite.server.gql(suite.admin, 'mutation($input: CreateJobInput!) { createJob(input: $input) { id } }', {
        input: { name, type: 'big-secrets', scope: 'acme/secrets', secrets: { blob } },
      });
      expect([label, code(response)]).toEqual([label, 'BAD_USER_INPUT']);
      expect(await countJobs(name)).toBe(0);
    }
    expect((await suite.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM timeline_events')).rows[0]!.n).toBe(eventsBefore);

    const blob = 'y'.repeat(16 * 1024 - overhead);
    await create({ type: 'big-secrets-ok', name: 'exactly 16 KB', secrets: { blob } });
    expect((await claimed('big-secrets-ok')).secrets).toEqual({ blob });
  });

  test('restartJob refuses secrets above 16 KB too, and the job stays as it was', async () => {
    const id = await create({ type: 'big-restart', secrets: { password: unique('p') } });
    const job = await claimed('big-restart');
    await workerCall('failJob(lease: $lease, error: "boom") { status }', job.lease);
    const before = (await suite.db.pool.query('SELECT * FROM jobs WHERE id = $1', [id])).rows[0];
    const response = await suite.server.gql(
      suite.admin,
      'mutation($id: ID!, $s: JSONObject) { restartJob(id: $id, secrets: $s) { attempt } }',
      {
        id,
        s: { blob: 'x'.repeat(16 * 1024) },
      },
    );
    expect(code(response)).toBe('BAD_USER_INPUT');
    expect((await suite.db.pool.query('SELECT * FROM jobs WHERE id = $1', [id])).rows[0]).toEqual(before);
  });
});

describe('another SECRETS_KEY', () => {
  test('a server with a different key fails the job clearly instead of handing out garbage', async () => {
    const otherKey = 'ab'.repeat(32);
    expect(otherKey).not.toBe(TEST_SECRETS_KEY);
    const password = unique('rekeyed');
    const id = await create({ type: 'rekey', secrets: { password } });
    const readable = await create({ type: 'rekey-fine', secrets: { password: 'fine' } });
    const other = await suite.startServer({ SECRETS_KEY: otherKey });
    try {
      const response = await claim('rekey', suite.worker, other);
      expect(response.errors).toBeUndefined();
      expect(response.data?.claimJob).toBeNull();
      expectNoLeak(JSON.stringify(response), password);
    } finally {
      await other.close();
    }
    const job = await stored(id);
    expect(job).toMatchObject({ status: 'FAILED', secrets: null });
    expect(job!.error_message).toMatch(/secrets/i);
    expect(job!.error_message).toMatch(/SECRETS_KEY/);
    const { rows } = await suite.db.pool.query('SELECT kind, actor_kind FROM timeline_events WHERE job_id = $1 ORDER BY id DESC LIMIT 1', [
      id,
    ]);
    expect(rows[0]).toEqual({ kind: 'FAILED', actor_kind: 'SYSTEM' });
    // The right key still reads what it sealed.
    expect(await claimed('rekey-fine')).toMatchObject({ id: readable, secrets: { password: 'fine' } });
  });
});
