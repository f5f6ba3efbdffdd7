import { createHmac } from 'node:crypto';
import { Client as PgClient } from 'pg';
import { verifySignature } from '../src/alerts/signature';
import { insertJobs } from './support/fixtures';
import { apiSuite } from './support/api-suite';
import { killServerProcesses, startServerProcess } from './support/server-process';
import { gqlOk, type TestServer } from './support/test-server';
import { eventually, startWebhookReceiver, type ReceivedRequest, type WebhookReceiver } from './support/webhook-receiver';

/**
 * Alert rules and their webhooks, against a real HTTP receiver on loopback. Most tests drive
 * the dispatcher and the delivery worker by hand (`alerts: false`); some run them on their
 * timers, on two instances at once, and one kills a server process between the commit of a
 * status change and its delivery. Time is never waited out: rows are backdated in SQL.
 */
const USERS = ['admin', 'worker', 'oscar', 'vic', 'vera', 'olga', 'scopy'] as const;
type User = (typeof USERS)[number];

/**
 * On `a`: short timeouts, a long backoff (so "not due yet" is unambiguous), three attempts. The
 * timeout is short for the receivers that hang, yet long enough that a healthy receiver on
 * loopback always answers within it on a busy machine (a stalled event loop fires the timer first).
 */
const A_ENV = { ALERT_TIMEOUT_MS: '2000', ALERT_RETRY_BASE_MS: '60000', ALERT_MAX_ATTEMPTS: '3' };

/**
 * `a` (suite.server) and handDrivenServer(): servers whose dispatcher and delivery worker only run
 * when the test says so (`alerts: false`; the "alerts: false" tests below check that they really
 * stay still), so each step can be seen.
 */
const suite = apiSuite({
  env: A_ENV,
  daemon: false,
  alerts: false,
  grants: [
    ['admin', 'admin'],
    ['worker', 'worker'],
    ['oscar', 'operator'],
    ['vic', 'viewer'],
    ['scopy', 'operator', 'acme'],
  ],
  users: USERS,
});
let receiver: WebhookReceiver;

async function handDrivenServer(env: Record<string, string> = {}): Promise<TestServer> {
  return suite.startServer(env, { daemon: false, alerts: false });
}

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  suite.disposeFirst(() => receiver.close());
});
afterEach(async () => {
  // Rules of one test never fire for the next one's jobs.
  await suite.db.pool.query('DELETE FROM alert_rules');
});

const RULE_FIELDS = 'id owner name filter events webhookUrl enabled createdAt updatedAt';
const CREATE_RULE = `mutation($i: AlertRuleInput!) { createAlertRule(input: $i) { secret rule { ${RULE_FIELDS} } } }`;
const UPDATE_RULE = `mutation($id: ID!, $i: AlertRuleInput!) { updateAlertRule(id: $id, input: $i) { ${RULE_FIELDS} } }`;
const DELIVERIES = `query($r: ID!) { alertDeliveries(ruleId: $r) { id event jobId status attempts lastError lastStatusCode createdAt nextAttemptAt deliveredAt } }`;

interface Rule {
  id: string;
  owner: string;
  name: string;
  filter: Record<string, unknown>;
  events: string[];
  webhookUrl: string;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
}
interface Delivery {
  id: string;
  event: string;
  jobId: string;
  status: string;
  attempts: number;
  lastError: string | null;
  lastStatusCode: number | null;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
}
interface Body {
  id: string;
  event: string;
  actor: string | null;
  message: string | null;
  occurredAt: string;
  rule: { id: string; name: string };
  job: Record<string, unknown> & { id: string; status: string; attempt: number };
}

async function createRule(
  user: User,
  input: Record<string, unknown>,
  server: TestServer = suite.server,
): Promise<{ rule: Rule; secret: string }> {
  const data = gqlOk(
    await server.gql<{ createAlertRule: { rule: Rule; secret: string } }>(suite.tokens[user], CREATE_RULE, {
      i: { name: 'a rule', ...input },
    }),
  );
  return data.createAlertRule;
}

let typeCounter = 0;
const uniqueType = (label: string) => `al-${label}-${++typeCounter}`;

/** A job created by oscar (or inserted for another owner), claimed by the worker: answers its lease. */
async function runningJob(
  type: string,
  options: { scope?: string; name?: string; secrets?: Record<string, unknown> } = {},
  server: TestServer = suite.server,
) {
  const created = gqlOk(
    await server.gql<{ createJob: { id: string } }>(suite.tokens.oscar, 'mutation($i: CreateJobInput!) { createJob(input: $i) { id } }', {
      i: { name: options.name ?? 'alerting job', type, scope: options.scope ?? 'acme/payments/prod', secrets: options.secrets },
    }),
  ).createJob.id;
  const claim = gqlOk(
    await server.gql<{ claimJob: { lease: string; job: { id: string } } | null }>(
      suite.tokens.worker,
      'mutation($t: [String!]) { claimJob(workerId: "w1", types: $t) { lease job { id } } }',
      { t: [type] },
    ),
  ).claimJob;
  if (claim === null || claim.job.id !== created) throw new Error(`claimed ${JSON.stringify(claim)} instead of ${created}`);
  return { id: created, lease: claim.lease };
}

async function finish(lease: string, outcome: 'complete' | 'fail', server: TestServer = suite.server): Promise<number> {
  const started = Date.now();
  const mutation =
    outcome === 'complete'
      ? 'mutation($l: String!) { completeJob(lease: $l) { status } }'
      : 'mutation($l: String!) { failJob(lease: $l, error: "disk full", stack: "at copy (x.ts:1)") { status } }';
  gqlOk(await server.gql(suite.tokens.worker, mutation, { l: lease }));
  return Date.now() - started;
}

/** A job that runs to `outcome` through the worker mutations. */
async function jobThat(
  outcome: 'complete' | 'fail',
  type: string,
  options: { scope?: string; name?: string } = {},
  server: TestServer = suite.server,
) {
  const job = await runningJob(type, options, server);
  await finish(job.lease, outcome, server);
  return job.id;
}

/** Dispatches every recorded event, then attempts every due delivery (on `server`). */
async function pump(server: TestServer = suite.server): Promise<void> {
  await server.services.alerts.dispatcher.drain();
  await server.services.alerts.deliveries.drain();
}

interface DeliveryRow {
  id: string;
  rule_id: string;
  job_id: string;
  event: string;
  status: string;
  attempts: number;
  last_error: string | null;
  last_status_code: number | null;
  due_in_s: number;
  locked_for_s: number | null;
}
async function deliveryRows(ruleId: string): Promise<DeliveryRow[]> {
  const { rows } = await suite.db.pool.query<DeliveryRow>(
    `SELECT id::text, rule_id, job_id, event, status, attempts, last_error, last_status_code,
            extract(epoch FROM next_attempt_at - now())::float8 AS due_in_s,
            extract(epoch FROM locked_until - now())::float8 AS locked_for_s
       FROM alert_deliveries WHERE rule_id = $1 ORDER BY job_event_id, id`,
    [ruleId],
  );
  return rows;
}

/** Makes every PENDING delivery of these rules due now (instead of waiting out the backoff). */
async function makeDue(ruleIds: string[]): Promise<void> {
  await suite.db.pool.query(
    `UPDATE alert_deliveries SET next_attempt_at = now() - interval '1 second' WHERE rule_id = ANY($1::uuid[]) AND status = 'PENDING'`,
    [ruleIds],
  );
}

const bodyOf = (request: ReceivedRequest) => JSON.parse(request.rawBody) as Body;
const header = (request: ReceivedRequest, name: string) => String(request.headers[name]);

/** An HMAC computed here, without the app's code: `t=<ts>,v1=hex(HMAC-SHA256(secret, "<ts>.<raw body>"))`. */
function independentlyVerified(secret: string, request: ReceivedRequest): boolean {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header(request, 'x-jobwatch-signature'));
  if (match === null) return false;
  const expected = createHmac('sha256', secret).update(`${match[1]}.${request.rawBody}`).digest('hex');
  return expected === match[2] && Math.abs(Date.now() / 1000 - Number(match[1])) < 300;
}

describe('who may write alert rules, and what they may write', () => {
  test('manage_alerts: operators and admins have it, a viewer does not, an admin can grant it', async () => {
    const input = { name: 'r', events: ['FAILED'], webhookUrl: receiver.url('/perm') };
    for (const operation of [
      [CREATE_RULE, { i: input }],
      [UPDATE_RULE, { id: '00000000-0000-4000-8000-000000000000', i: input }],
    ] as const) {
      const refused = await suite.server.gql(suite.tokens.vic, operation[0], operation[1]);
      expect(refused.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    }
    // Seeing (and deleting) one's own rules needs no permission: a viewer simply has none.
    expect(gqlOk(await suite.server.gql<{ alertRules: Rule[] }>(suite.tokens.vic, '{ alertRules { id } }')).alertRules).toEqual([]);
    const noRule = await suite.server.gql(suite.tokens.vic, DELIVERIES, { r: '00000000-0000-4000-8000-000000000000' });
    expect(noRule.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    expect((await createRule('oscar', input)).rule.owner).toBe('oscar');
    expect((await createRule('admin', input)).rule.owner).toBe('admin');
    // A scope-limited operator may write rules too (the rule sees what they see).
    expect((await createRule('scopy', input)).rule.owner).toBe('scopy');

    const refusedVera = await suite.server.gql(suite.tokens.vera, CREATE_RULE, { i: input });
    expect(refusedVera.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    gqlOk(
      await suite.server.gql(suite.tokens.admin, 'mutation($i: RoleInput!) { createRole(input: $i) { name } }', {
        i: {
          name: 'alerter',
          rules: [
            { action: 'view_monitor', subject: 'Job' },
            { action: 'manage_alerts', subject: 'Alert' },
          ],
        },
      }),
    );
    gqlOk(await suite.server.gql(suite.tokens.admin, 'mutation { grantRole(userId: "vera", role: "alerter") { id } }'));
    const created = await eventually(
      () => suite.server.gql<{ createAlertRule: { rule: Rule } }>(suite.tokens.vera, CREATE_RULE, { i: input }),
      (response) => response.errors === undefined,
      5_000,
      'the grant to take effect',
    );
    expect(created.data?.createAlertRule.rule.owner).toBe('vera');
  });

  test.each([
    ['a webhook URL that is not http(s): ftp', { webhookUrl: 'ftp://127.0.0.1/hook' }, 'webhookUrl'],
    ['a webhook URL that is not http(s): javascript', { webhookUrl: 'javascript:alert(1)' }, 'webhookUrl'],
    ['a webhook URL that is not http(s): file', { webhookUrl: 'file:///etc/passwd' }, 'webhookUrl'],
    ['a webhook URL that is not a URL', { webhookUrl: 'not a url' }, 'webhookUrl'],
    ['a webhook URL with credentials (fetch refuses them)', { webhookUrl: 'http://user:pass@127.0.0.1/hook' }, 'webhookUrl'],
    ['a webhook URL with a user name only', { webhookUrl: 'https://token@hooks.example.com/x' }, 'webhookUrl'],
    ['a webhook URL that is too long', { webhookUrl: `http://127.0.0.1/${'x'.repeat(2100)}` }, undefined],
    ['a filter scope that does not parse', { filter: { scope: 'acme//x y' } }, 'filter.scope'],
    ['a filter date that does not parse', { filter: { createdAfter: 'yesterday' } }, undefined],
    ['a filter with an unknown status', { filter: { statuses: ['DONE'] } }, undefined],
    ['a filter with an unknown field', { filter: { color: 'red' } }, undefined],
    ['an unknown event', { events: ['EXPLODED'] }, undefined],
    ['no events', { events: [] }, undefined],
    ['an empty name', { name: '' }, undefined],
  ])('%s: BAD_USER_INPUT, nothing stored', async (_label, change, field) => {
    const before = (await suite.db.pool.query('SELECT count(*)::int AS n FROM alert_rules')).rows[0];
    const response = await suite.server.gql(suite.tokens.oscar, CREATE_RULE, {
      i: { name: 'bad', events: ['FAILED'], webhookUrl: receiver.url('/bad'), ...change },
    });
    expect(response.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(response.errors?.[0]?.message).not.toMatch(/internal/i);
    if (field !== undefined) expect(response.errors?.[0]?.extensions?.['field']).toBe(field);
    expect((await suite.db.pool.query('SELECT count(*)::int AS n FROM alert_rules')).rows[0]).toEqual(before);
  });

  test('an unknown event written inline in the document: BAD_USER_INPUT', async () => {
    const response = await suite.server.gql(
      suite.tokens.oscar,
      `mutation { createAlertRule(input: { name: "x", events: [EXPLODED], webhookUrl: "${receiver.url('/x')}" }) { secret } }`,
    );
    expect(response.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
  });

  test('updateAlertRule validates the same way and leaves the rule as it was', async () => {
    const { rule } = await createRule('oscar', { events: ['FAILED'], webhookUrl: receiver.url('/upd') });
    for (const change of [{ webhookUrl: 'gopher://x' }, { filter: { scope: '/nope' } }, { events: ['NOPE'] }]) {
      const response = await suite.server.gql(suite.tokens.oscar, UPDATE_RULE, {
        id: rule.id,
        i: { name: 'changed', events: ['FAILED'], webhookUrl: receiver.url('/upd'), ...change },
      });
      expect(response.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    }
    const [stored] = gqlOk(
      await suite.server.gql<{ alertRules: Rule[] }>(suite.tokens.oscar, `{ alertRules { ${RULE_FIELDS} } }`),
    ).alertRules;
    expect(stored).toEqual(rule);
  });

  test("create, list, update, delete: the secret is shown once and stored sealed; rules are their owner's alone", async () => {
    const created = await createRule('oscar', {
      name: 'payments failures',
      filter: { types: ['x'], scope: 'acme/payments', createdAfter: '2020-01-01T00:00:00.000Z' },
      events: ['FAILED', 'ABENDED', 'FAILED'],
      webhookUrl: receiver.url('/crud'),
    });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9_-]{40,}$/);
    expect(created.rule).toMatchObject({
      owner: 'oscar',
      name: 'payments failures',
      events: ['FAILED', 'ABENDED'],
      enabled: true,
      filter: { types: ['x'], scope: 'acme/payments' },
    });
    const { rows } = await suite.db.pool.query<{ secret: Buffer }>('SELECT secret FROM alert_rules WHERE id = $1', [created.rule.id]);
    expect(rows[0]!.secret.toString('latin1')).not.toContain(created.secret);
    expect(rows[0]!.secret.toString('latin1')).not.toContain(created.secret.slice(6));
    // The secret is not a field of a rule: it cannot be read back.
    const readBack = await suite.server.gql(suite.tokens.oscar, '{ alertRules { id secret } }');
    expect(readBack.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');

    expect(
      gqlOk(await suite.server.gql<{ alertRules: Rule[] }>(suite.tokens.oscar, '{ alertRules { id } }')).alertRules.map((rule) => rule.id),
    ).toEqual([created.rule.id]);
    expect(gqlOk(await suite.server.gql<{ alertRules: Rule[] }>(suite.tokens.admin, '{ alertRules { id } }')).alertRules).toEqual([]);

    // Someone else's rule does not exist for them, not even for an admin.
    for (const [operation, variables] of [
      [UPDATE_RULE, { id: created.rule.id, i: { name: 'mine now', events: ['FAILED'], webhookUrl: receiver.url('/other') } }],
      ['mutation($id: ID!) { deleteAlertRule(id: $id) }', { id: created.rule.id }],
      [DELIVERIES, { r: created.rule.id }],
    ] as const) {
      const response = await suite.server.gql(suite.tokens.admin, operation, variables);
      expect(response.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    }
    const badId = await suite.server.gql(suite.tokens.oscar, 'mutation { deleteAlertRule(id: "nope") }');
    expect(badId.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');

    const updated = gqlOk(
      await suite.server.gql<{ updateAlertRule: Rule }>(suite.tokens.oscar, UPDATE_RULE, {
        id: created.rule.id,
        i: { name: 'renamed', events: ['SUCCEEDED'], webhookUrl: receiver.url('/crud2'), enabled: false },
      }),
    ).updateAlertRule;
    expect(updated).toMatchObject({ id: created.rule.id, name: 'renamed', events: ['SUCCEEDED'], enabled: false, filter: {} });
    expect(Date.parse(updated.updatedAt)).toBeGreaterThanOrEqual(Date.parse(created.rule.updatedAt));
    expect(
      (await suite.db.pool.query<{ secret: Buffer }>('SELECT secret FROM alert_rules WHERE id = $1', [created.rule.id])).rows[0]!.secret,
    ).toEqual(rows[0]!.secret);

    expect(
      gqlOk(
        await suite.server.gql<{ deleteAlertRule: boolean }>(suite.tokens.oscar, 'mutation($id: ID!) { deleteAlertRule(id: $id) }', {
          id: created.rule.id,
        }),
      ).deleteAlertRule,
    ).toBe(true);
    const again = await suite.server.gql(suite.tokens.oscar, 'mutation($id: ID!) { deleteAlertRule(id: $id) }', { id: created.rule.id });
    expect(again.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    expect(gqlOk(await suite.server.gql<{ alertRules: Rule[] }>(suite.tokens.oscar, '{ alertRules { id } }')).alertRules).toEqual([]);
  });
});

describe('deliveries', () => {
  test('a signed JSON delivery whose signature verifies (verifySignature and an independent HMAC over the raw body); no secrets in it', async () => {
    const type = uniqueType('sig');
    const { rule, secret } = await createRule('oscar', {
      name: 'sig rule',
      filter: { types: [type] },
      events: ['FAILED'],
      webhookUrl: receiver.url('/sig'),
    });
    const job = await runningJob(type, { secrets: { password: 'hunter2-do-not-leak' } });
    await finish(job.lease, 'fail');
    await pump();
    const [request] = receiver.to('/sig');
    expect(receiver.to('/sig')).toHaveLength(1);
    expect(request!.method).toBe('POST');
    expect(request!.headers['content-type']).toMatch(/^application\/json/);
    expect(header(request!, 'x-jobwatch-event')).toBe('FAILED');

    // Verified with the secret from createAlertRule, over the raw body, two ways.
    const signature = header(request!, 'x-jobwatch-signature');
    expect(verifySignature(secret, request!.rawBody, signature)).toBe(true);
    expect(independentlyVerified(secret, request!)).toBe(true);
    // And it fails as it should: another body, another secret, an old timestamp.
    expect(verifySignature(secret, request!.rawBody.replace('FAILED', 'SUCCEEDED'), signature)).toBe(false);
    expect(verifySignature(`${secret}x`, request!.rawBody, signature)).toBe(false);
    expect(verifySignature(secret, request!.rawBody, signature, 300, Date.now() + 3_600_000)).toBe(false);
    const tampered = { ...request!, rawBody: `${request!.rawBody} ` };
    expect(independentlyVerified(secret, tampered)).toBe(false);

    const body = bodyOf(request!);
    expect(body.id).toBe(header(request!, 'x-jobwatch-delivery'));
    expect(body).toMatchObject({
      event: 'FAILED',
      actor: 'worker',
      message: 'disk full',
      rule: { id: rule.id, name: 'sig rule' },
      job: { id: job.id, type, scope: 'acme/payments/prod', owner: 'oscar', status: 'FAILED', attempt: 1 },
    });
    expect(JSON.stringify(body.job.error)).toContain('disk full');
    expect(request!.rawBody).not.toContain('hunter2');
    expect(request!.rawBody).not.toMatch(/lease/i);
    // The outbox snapshots (written while the job still had its sealed secrets and a lease) keep neither.
    const { rows: snapshots } = await suite.db.pool.query(
      `SELECT event, job ? 'secrets' AS secrets, job ? 'lease_token' AS lease FROM job_events WHERE job_id = $1 ORDER BY id`,
      [job.id],
    );
    expect(snapshots).toEqual([
      { event: 'STARTED', secrets: false, lease: false },
      { event: 'FAILED', secrets: false, lease: false },
    ]);

    const [logged] = gqlOk(
      await suite.server.gql<{ alertDeliveries: Delivery[] }>(suite.tokens.oscar, DELIVERIES, { r: rule.id }),
    ).alertDeliveries;
    expect(logged).toMatchObject({
      id: body.id,
      event: 'FAILED',
      jobId: job.id,
      status: 'DELIVERED',
      attempts: 1,
      lastError: null,
      lastStatusCode: 200,
      nextAttemptAt: null,
    });
    expect(logged!.deliveredAt).not.toBeNull();
    // Pumping again sends nothing more.
    await pump();
    expect(receiver.to('/sig')).toHaveLength(1);
  });

  test('a receiver failing twice then succeeding gets exactly one accepted delivery: attempts 3, DELIVERED, growing backoff', async () => {
    const type = uniqueType('retry');
    receiver.behave('/retry', ['error500', 'error500'], 'ok');
    const { rule, secret } = await createRule('oscar', {
      filter: { types: [type] },
      events: ['SUCCEEDED'],
      webhookUrl: receiver.url('/retry'),
    });
    await jobThat('complete', type);
    await suite.server.services.alerts.dispatcher.drain();
    expect(await suite.server.services.alerts.deliveries.runOnce()).toBe(1);

    let [row] = await deliveryRows(rule.id);
    expect(row).toMatchObject({ status: 'PENDING', attempts: 1, last_error: 'HTTP 500', last_status_code: 500 });
    // About ALERT_RETRY_BASE_MS (60 s, with jitter) away: not due, nothing is sent.
    expect(row!.due_in_s).toBeGreaterThan(40);
    expect(row!.due_in_s).toBeLessThan(80);
    expect(await suite.server.services.alerts.deliveries.runOnce()).toBe(0);
    const [pending] = gqlOk(
      await suite.server.gql<{ alertDeliveries: Delivery[] }>(suite.tokens.oscar, DELIVERIES, { r: rule.id }),
    ).alertDeliveries;
    expect(pending).toMatchObject({ status: 'PENDING', attempts: 1, lastError: 'HTTP 500', lastStatusCode: 500 });
    expect(pending!.nextAttemptAt).not.toBeNull();

    await makeDue([rule.id]);
    expect(await suite.server.services.alerts.deliveries.runOnce()).toBe(1);
    [row] = await deliveryRows(rule.id);
    expect(row).toMatchObject({ status: 'PENDING', attempts: 2, last_error: 'HTTP 500' });
    // Doubled: about 120 s.
    expect(row!.due_in_s).toBeGreaterThan(90);
    expect(row!.due_in_s).toBeLessThan(150);

    await makeDue([rule.id]);
    expect(await suite.server.services.alerts.deliveries.drain()).toBe(1);
    [row] = await deliveryRows(rule.id);
    expect(row).toMatchObject({ status: 'DELIVERED', attempts: 3, last_error: null, last_status_code: 200 });
    const requests = receiver.to('/retry');
    expect(requests.map((request) => request.behaviour)).toEqual(['error500', 'error500', 'ok']);
    expect(new Set(requests.map((request) => header(request, 'x-jobwatch-delivery')))).toEqual(new Set([row!.id]));
    expect(receiver.accepted('/retry')).toHaveLength(1);
    for (const request of requests) expect(verifySignature(secret, request.rawBody, header(request, 'x-jobwatch-signature'))).toBe(true);
    const [logged] = gqlOk(
      await suite.server.gql<{ alertDeliveries: Delivery[] }>(suite.tokens.oscar, DELIVERIES, { r: rule.id }),
    ).alertDeliveries;
    expect(logged).toMatchObject({ status: 'DELIVERED', attempts: 3, lastError: null, nextAttemptAt: null });
    await makeDue([rule.id]);
    expect(await suite.server.services.alerts.deliveries.drain()).toBe(0);
  });

  test('receivers that hang past ALERT_TIMEOUT_MS, answer 500 or close the connection: retried with growing backoff, then FAILED; a healthy rule is delivered meanwhile', async () => {
    const type = uniqueType('bad');
    const later = uniqueType('bad-later');
    receiver.behave('/b-hang', 'hang');
    receiver.behave('/b-500', 'error500');
    receiver.behave('/b-destroy', 'destroy');
    const rules: Record<string, Rule> = {};
    for (const name of ['/b-hang', '/b-500', '/b-destroy']) {
      rules[name] = (
        await createRule('oscar', { name, filter: { types: [type] }, events: ['SUCCEEDED'], webhookUrl: receiver.url(name) })
      ).rule;
    }
    rules['/b-healthy'] = (
      await createRule('oscar', { filter: { types: [type, later] }, events: ['SUCCEEDED'], webhookUrl: receiver.url('/b-healthy') })
    ).rule;
    const bad = ['/b-hang', '/b-500', '/b-destroy'].map((name) => rules[name]!.id);
    await jobThat('complete', type);
    await suite.server.services.alerts.dispatcher.drain();

    const dues: Record<string, number[]> = { '/b-hang': [], '/b-500': [], '/b-destroy': [] };
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      const started = Date.now();
      await suite.server.services.alerts.deliveries.drain();
      // One round waits for the slowest receiver only as long as the timeout (2 s), not until
      // it answers (never): the bound leaves room for a busy machine, the hang's "timed out" is checked below.
      expect(Date.now() - started).toBeLessThan(15_000);
      for (const name of Object.keys(dues)) {
        const [row] = await deliveryRows(rules[name]!.id);
        expect(row!.attempts).toBe(attempt);
        if (attempt < 3) {
          expect(row!.status).toBe('PENDING');
          dues[name]!.push(row!.due_in_s);
        } else {
          expect(row!.status).toBe('FAILED');
        }
      }
      if (attempt < 3) {
        // Meanwhile a new event: a job transition answers, and the healthy rule's delivery goes through.
        const job = await runningJob(later);
        await finish(job.lease, 'complete');
        await suite.server.services.alerts.dispatcher.drain();
        expect(await suite.server.services.alerts.deliveries.drain()).toBe(1);
        expect(receiver.accepted('/b-healthy')).toHaveLength(attempt + 1);
        await makeDue(bad);
      }
    }
    for (const name of Object.keys(dues)) {
      const [first, second] = dues[name] as [number, number];
      expect(first).toBeGreaterThan(40); // ~60 s
      expect(second).toBeGreaterThan(first + 20); // ~120 s: growing
    }
    const [hang] = await deliveryRows(rules['/b-hang']!.id);
    const [error500] = await deliveryRows(rules['/b-500']!.id);
    const [destroyed] = await deliveryRows(rules['/b-destroy']!.id);
    expect(hang).toMatchObject({ status: 'FAILED', attempts: 3, last_status_code: null });
    // "timed out" in a plain process; under jest the abort error comes from another realm and keeps its own text.
    expect(hang!.last_error).toMatch(/timed out|timeout/i);
    expect(error500).toMatchObject({ status: 'FAILED', attempts: 3, last_error: 'HTTP 500', last_status_code: 500 });
    expect(destroyed).toMatchObject({ status: 'FAILED', attempts: 3, last_status_code: null });
    expect(destroyed!.last_error).toMatch(/\S/);
    expect(destroyed!.last_error).not.toMatch(/HTTP/);
    for (const name of ['/b-hang', '/b-500', '/b-destroy']) expect(receiver.to(name)).toHaveLength(3);
    // FAILED is final: nothing is retried again.
    await suite.db.pool.query(`UPDATE alert_deliveries SET next_attempt_at = now() - interval '1 hour' WHERE rule_id = ANY($1::uuid[])`, [
      bad,
    ]);
    expect(await suite.server.services.alerts.deliveries.drain()).toBe(0);
    const logged = gqlOk(
      await suite.server.gql<{ alertDeliveries: Delivery[] }>(suite.tokens.oscar, DELIVERIES, { r: rules['/b-hang']!.id }),
    ).alertDeliveries;
    expect(logged).toEqual([expect.objectContaining({ status: 'FAILED', attempts: 3, lastError: hang!.last_error, nextAttemptAt: null })]);
    expect(receiver.accepted('/b-healthy')).toHaveLength(3);
    expect((await deliveryRows(rules['/b-healthy'].id)).map((row) => [row.status, row.attempts])).toEqual([
      ['DELIVERED', 1],
      ['DELIVERED', 1],
      ['DELIVERED', 1],
    ]);
  });

  test('while a delivery hangs in flight, job transitions answer promptly and other deliveries still go out', async () => {
    const slow = await handDrivenServer({ ALERT_TIMEOUT_MS: '60000' });
    try {
      const type = uniqueType('inflight');
      receiver.behave('/if-hang', 'hang');
      const hanging = (
        await createRule(
          'oscar',
          { filter: { types: [type], name: 'hang-me' }, events: ['STARTED'], webhookUrl: receiver.url('/if-hang') },
          slow,
        )
      ).rule;
      const healthy = (
        await createRule('oscar', { filter: { types: [type] }, events: ['SUCCEEDED'], webhookUrl: receiver.url('/if-ok') }, slow)
      ).rule;
      const job = await runningJob(type, { name: 'hang-me' }, slow);
      await slow.services.alerts.dispatcher.drain();
      const inFlight = slow.services.alerts.deliveries.runOnce();
      await receiver.until((requests) => requests.some((request) => request.path === '/if-hang' && request.hanging), 10_000);

      // The job moves on while its STARTED delivery hangs: a transition does not wait for webhooks.
      // Waiting for it would take until the receiver is released below (or the minute's timeout), so
      // the hang is still open once both transitions have answered; the time bound only keeps that legible.
      expect(await finish(job.lease, 'complete', slow)).toBeLessThan(10_000);
      const next = await runningJob(type, { name: 'another' }, slow);
      expect(await finish(next.lease, 'fail', slow)).toBeLessThan(10_000);
      expect(receiver.to('/if-hang').map((request) => request.hanging)).toEqual([true]);
      await slow.services.alerts.dispatcher.drain();
      // Another round (another instance would do the same) delivers the healthy rule's event now.
      expect(await slow.services.alerts.deliveries.runOnce()).toBeGreaterThanOrEqual(1);
      expect(receiver.accepted('/if-ok')).toHaveLength(1);
      expect((await deliveryRows(hanging.id)).map((row) => row.status)).toEqual(['DELIVERING']);
      expect((await deliveryRows(healthy.id)).map((row) => row.status)).toEqual(['DELIVERED']);

      receiver.release(200);
      await inFlight;
      expect((await deliveryRows(hanging.id))[0]).toMatchObject({ status: 'DELIVERED', attempts: 1 });
    } finally {
      receiver.release('destroy');
      await slow.close();
    }
  });

  test('filters and events: a rule fires only for matching jobs and events; a disabled rule never fires', async () => {
    const typeA = uniqueType('fm-a');
    const typeB = uniqueType('fm-b');
    const byScope = await createRule('oscar', {
      name: 'F',
      filter: { types: [typeA], scope: 'acme/payments' },
      events: ['FAILED', 'SUCCEEDED'],
      webhookUrl: receiver.url('/fm-F'),
    });
    const byEvent = await createRule('oscar', {
      name: 'E',
      filter: { types: [typeA, typeB] },
      events: ['SUCCEEDED'],
      webhookUrl: receiver.url('/fm-E'),
    });
    const disabled = await createRule('oscar', {
      name: 'D',
      filter: { types: [typeA] },
      events: ['STARTED', 'FAILED', 'SUCCEEDED'],
      webhookUrl: receiver.url('/fm-D'),
      enabled: false,
    });
    const byName = await createRule('oscar', {
      name: 'N',
      filter: { types: [typeA], name: 'SPECIAL' },
      events: ['STARTED'],
      webhookUrl: receiver.url('/fm-N'),
    });
    const byStatus = await createRule('oscar', {
      name: 'S',
      filter: { types: [typeA], statuses: ['FAILED'] },
      events: ['STARTED', 'FAILED'],
      webhookUrl: receiver.url('/fm-S'),
    });

    const j1 = await jobThat('complete', typeA, { scope: 'acme/payments/prod' });
    const j2 = await jobThat('fail', typeA, { scope: 'globex/shop' });
    const j3 = await jobThat('fail', typeB, { scope: 'acme/payments/prod' });
    const j4 = await jobThat('fail', typeA, { scope: 'acme/payments/eu', name: 'a special one' });
    const j5 = await jobThat('complete', typeA, { scope: 'acme/paymentsx' }); // a sibling that shares a prefix
    await pump();

    const fired = async (ruleId: string) => (await deliveryRows(ruleId)).map((row) => [row.job_id, row.event]);
    expect(await fired(byScope.rule.id)).toEqual([
      [j1, 'SUCCEEDED'],
      [j4, 'FAILED'],
    ]);
    expect(await fired(byEvent.rule.id)).toEqual([
      [j1, 'SUCCEEDED'],
      [j5, 'SUCCEEDED'],
    ]);
    expect(await fired(disabled.rule.id)).toEqual([]);
    expect(await fired(byName.rule.id)).toEqual([[j4, 'STARTED']]);
    expect(await fired(byStatus.rule.id)).toEqual([
      [j2, 'FAILED'],
      [j4, 'FAILED'],
    ]);
    expect(j3).toBeDefined();
    // What the receivers got is what the log says, each once.
    expect(receiver.to('/fm-F').map((request) => [bodyOf(request).job.id, bodyOf(request).event])).toEqual([
      [j1, 'SUCCEEDED'],
      [j4, 'FAILED'],
    ]);
    expect(receiver.to('/fm-D')).toEqual([]);

    // Enabled later: it fires for what happens from then on, nothing retroactive. Disabling F stops it.
    gqlOk(
      await suite.server.gql(suite.tokens.oscar, UPDATE_RULE, {
        id: disabled.rule.id,
        i: {
          name: 'D',
          filter: { types: [typeA] },
          events: ['STARTED', 'FAILED', 'SUCCEEDED'],
          webhookUrl: receiver.url('/fm-D'),
          enabled: true,
        },
      }),
    );
    gqlOk(
      await suite.server.gql(suite.tokens.oscar, UPDATE_RULE, {
        id: byScope.rule.id,
        i: {
          name: 'F',
          filter: { types: [typeA], scope: 'acme/payments' },
          events: ['FAILED', 'SUCCEEDED'],
          webhookUrl: receiver.url('/fm-F'),
          enabled: false,
        },
      }),
    );
    const j6 = await jobThat('complete', typeA, { scope: 'acme/payments/prod' });
    await pump();
    expect(await fired(disabled.rule.id)).toEqual([
      [j6, 'STARTED'],
      [j6, 'SUCCEEDED'],
    ]);
    expect((await fired(byScope.rule.id)).map(([job]) => job)).not.toContain(j6);
    expect(receiver.to('/fm-D').map((request) => bodyOf(request).event)).toEqual(['STARTED', 'SUCCEEDED']);
  });

  test("a rule sees only what its owner may view: a scoped owner's rule skips jobs outside the scope; a lost grant stops deliveries", async () => {
    const type = uniqueType('vis');
    const scoped = await createRule('scopy', { filter: { types: [type] }, events: ['SUCCEEDED'], webhookUrl: receiver.url('/vis-scoped') });
    const inside = await jobThat('complete', type, { scope: 'acme/x' });
    const outside = await jobThat('complete', type, { scope: 'globex/y' });
    await pump();
    expect((await deliveryRows(scoped.rule.id)).map((row) => row.job_id)).toEqual([inside]);
    expect(receiver.to('/vis-scoped').map((request) => bodyOf(request).job.id)).toEqual([inside]);
    expect(outside).toBeDefined();

    // olga's rule fires while she may view the jobs, and stops once her grant is revoked.
    const granted = gqlOk(
      await suite.server.gql<{ grantRole: { id: string } }>(
        suite.tokens.admin,
        'mutation { grantRole(userId: "olga", role: "viewer") { id } }',
      ),
    ).grantRole.id;
    gqlOk(await suite.server.gql(suite.tokens.admin, 'mutation { grantRole(userId: "olga", role: "operator", scope: "acme") { id } }'));
    const olgas = await eventually(
      () =>
        suite.server.gql<{ createAlertRule: { rule: Rule } }>(suite.tokens.olga, CREATE_RULE, {
          i: { name: 'o', filter: { types: [type] }, events: ['SUCCEEDED'], webhookUrl: receiver.url('/vis-olga') },
        }),
      (response) => response.errors === undefined,
      5_000,
      'olga to be allowed',
    );
    const olgaRule = olgas.data!.createAlertRule.rule.id;
    const seen = await jobThat('complete', type, { scope: 'globex/z' });
    await pump();
    expect((await deliveryRows(olgaRule)).map((row) => row.job_id)).toEqual([seen]);

    gqlOk(await suite.server.gql(suite.tokens.admin, 'mutation($id: ID!) { revokeGrant(id: $id) }', { id: granted }));
    // Once the revocation reached this instance, olga no longer sees globex jobs ...
    await eventually(
      () => suite.server.gql<{ job: { id: string } | null }>(suite.tokens.olga, 'query($id: ID!) { job(id: $id) { id } }', { id: seen }),
      (response) => response.data?.job === null,
      5_000,
      'the revocation',
    );
    const unseen = await jobThat('complete', type, { scope: 'globex/z' });
    const stillSeen = await jobThat('complete', type, { scope: 'acme/z' });
    await pump();
    // ... nor does her rule: the globex job is not delivered; the acme one is.
    expect((await deliveryRows(olgaRule)).map((row) => row.job_id)).toEqual([seen, stillSeen]);
    expect(receiver.to('/vis-olga').map((request) => bodyOf(request).job.id)).not.toContain(unseen);
    const { rows } = await suite.db.pool.query(`SELECT count(*)::int AS n FROM job_events WHERE job_id = $1 AND processed_at IS NULL`, [
      unseen,
    ]);
    expect(rows[0]).toEqual({ n: 0 });
  });

  test('alerts: false: the dispatcher does not run on its own (job events wait for drain())', async () => {
    const manual = await suite.startServer({}, { daemon: false, alerts: false });
    try {
      const type = uniqueType('manual-dispatch');
      await createRule('oscar', { filter: { types: [type] }, events: ['SUCCEEDED'], webhookUrl: receiver.url('/manual-d') }, manual);
      const job = await jobThat('complete', type, {}, manual);
      // Nothing dispatches them for a while (a woken dispatcher does so within milliseconds).
      const deadline = Date.now() + 1_000;
      while (Date.now() < deadline) {
        const { rows } = await suite.db.pool.query(
          `SELECT count(*)::int AS n FROM job_events WHERE job_id = $1 AND processed_at IS NOT NULL`,
          [job],
        );
        expect(rows[0]).toEqual({ n: 0 });
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(await manual.services.alerts.dispatcher.drain()).toBe(2);
    } finally {
      await manual.close();
    }
  });

  test('alerts: false: the delivery worker does not run on its own (deliveries wait for drain())', async () => {
    const manual = await suite.startServer({}, { daemon: false, alerts: false });
    try {
      const type = uniqueType('manual-deliver');
      const { rule } = await createRule(
        'oscar',
        { filter: { types: [type] }, events: ['SUCCEEDED'], webhookUrl: receiver.url('/manual-w') },
        manual,
      );
      await jobThat('complete', type, {}, manual);
      expect(await manual.services.alerts.dispatcher.drain()).toBe(2);
      const deadline = Date.now() + 1_000;
      while (Date.now() < deadline) {
        expect(receiver.to('/manual-w').map((request) => `delivery ${header(request, 'x-jobwatch-delivery')} was sent`)).toEqual([]);
        expect((await deliveryRows(rule.id)).map((row) => row.status)).toEqual(['PENDING']);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(await manual.services.alerts.deliveries.drain()).toBe(1);
      expect(receiver.accepted('/manual-w')).toHaveLength(1);
    } finally {
      await manual.close();
    }
  });

  test('SLOWER_THAN_USUAL fires once per attempt, after 10 finished runs of the type, once running past the p95', async () => {
    const type = uniqueType('slow');
    const few = uniqueType('few');
    const now = Date.now();
    const finished = (t: string, count: number) =>
      Array.from({ length: count }, (_, i) => ({
        type: t,
        status: 'SUCCEEDED' as const,
        owner_id: 'oscar',
        created_at: new Date(now - 3_600_000 + i),
        started_at: new Date(now - 3_000_000),
        finished_at: new Date(now - 3_000_000 + (10 + i) * 1000), // 10 .. 21 s
      }));
    await insertJobs(suite.db.pool, [...finished(type, 12), ...finished(few, 9)]);
    const { rule } = await createRule('oscar', {
      filter: { types: [type, few] },
      events: ['SLOWER_THAN_USUAL'],
      webhookUrl: receiver.url('/slow'),
    });

    const job = await runningJob(type);
    const other = await runningJob(few);
    const slowEvents = async (id: string) =>
      (
        await suite.db.pool.query<{ attempt: number }>(
          `SELECT attempt FROM timeline_events WHERE job_id = $1 AND kind = 'SLOWER_THAN_USUAL' ORDER BY id`,
          [id],
        )
      ).rows.map((row) => row.attempt);
    await suite.server.services.daemon.tick();
    expect(await slowEvents(job.id)).toEqual([]); // just started
    await suite.db.pool.query(`UPDATE jobs SET started_at = now() - interval '5 minutes' WHERE id = ANY($1::uuid[])`, [[job.id, other.id]]);
    await suite.server.services.daemon.tick();
    await suite.server.services.daemon.tick();
    expect(await slowEvents(job.id)).toEqual([1]);
    expect(await slowEvents(other.id)).toEqual([]); // 9 runs say nothing about "usual"
    await pump();
    expect((await deliveryRows(rule.id)).map((row) => [row.job_id, row.event, row.status])).toEqual([
      [job.id, 'SLOWER_THAN_USUAL', 'DELIVERED'],
    ]);
    const [first] = receiver.to('/slow');
    expect(bodyOf(first!)).toMatchObject({ event: 'SLOWER_THAN_USUAL', actor: null, job: { id: job.id, status: 'RUNNING', attempt: 1 } });
    expect(bodyOf(first!).message).toMatch(/p95/);

    // A second attempt of the same job is judged again, once.
    await finish(job.lease, 'fail');
    gqlOk(
      await suite.server.gql(suite.tokens.oscar, 'mutation($id: ID!) { restartJob(id: $id, runNow: true) { status attempt } }', {
        id: job.id,
      }),
    );
    const claim = gqlOk(
      await suite.server.gql<{ claimJob: { job: { id: string; attempt: number } } }>(
        suite.tokens.worker,
        'mutation($t: [String!]) { claimJob(workerId: "w1", types: $t) { job { id attempt } } }',
        { t: [type] },
      ),
    ).claimJob;
    expect(claim.job).toEqual({ id: job.id, attempt: 2 });
    await suite.db.pool.query(`UPDATE jobs SET started_at = now() - interval '5 minutes' WHERE id = $1`, [job.id]);
    await suite.server.services.daemon.tick();
    await suite.server.services.daemon.tick();
    expect(await slowEvents(job.id)).toEqual([1, 2]);
    await pump();
    expect((await deliveryRows(rule.id)).map((row) => row.event)).toEqual(['SLOWER_THAN_USUAL', 'SLOWER_THAN_USUAL']);
    expect(receiver.to('/slow').map((request) => bodyOf(request).job.attempt)).toEqual([1, 2]);
  });
});

describe('two API instances, dispatchers and delivery workers on their timers', () => {
  let p: TestServer;
  let q: TestServer;
  beforeAll(async () => {
    p = await suite.startServer({}, { daemon: false, alerts: true });
    q = await suite.startServer({}, { daemon: false, alerts: true });
  });
  afterAll(async () => {
    await p?.close();
    await q?.close();
  });

  test('exactly one delivery per (rule, event); the receiver gets each delivery id exactly once', async () => {
    const type = uniqueType('dup');
    const rules = [
      (await createRule('oscar', { filter: { types: [type] }, events: ['STARTED', 'SUCCEEDED'], webhookUrl: receiver.url('/dup-1') }, p))
        .rule.id,
      (await createRule('oscar', { filter: { types: [type] }, events: ['SUCCEEDED', 'FAILED'], webhookUrl: receiver.url('/dup-2') }, q))
        .rule.id,
    ];
    const jobs = 12;
    const done: string[] = [];
    // Work through both instances alternately, and drain by hand on both at once meanwhile.
    const racing: Array<Promise<unknown>> = [];
    for (let i = 0; i < jobs; i += 1) {
      const server = i % 2 === 0 ? p : q;
      const other = i % 2 === 0 ? q : p;
      const job = await runningJob(type, {}, server);
      await finish(job.lease, i % 3 === 0 ? 'fail' : 'complete', other);
      done.push(job.id);
      racing.push(
        p.services.alerts.dispatcher.drain(),
        q.services.alerts.dispatcher.drain(),
        suite.server.services.alerts.dispatcher.drain(),
      );
    }
    await Promise.all(racing);
    const failed = Math.ceil(jobs / 3);
    // dup-1: STARTED + SUCCEEDED; dup-2: SUCCEEDED + FAILED.
    const expected = { '/dup-1': jobs + (jobs - failed), '/dup-2': jobs };
    const settled = async () => {
      const { rows } = await suite.db.pool.query<{ n: number; delivered: number }>(
        `SELECT count(*)::int AS n, count(*) FILTER (WHERE status = 'DELIVERED')::int AS delivered FROM alert_deliveries WHERE rule_id = ANY($1::uuid[])`,
        [rules],
      );
      const pendingEvents = (
        await suite.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM job_events WHERE processed_at IS NULL`)
      ).rows[0]!.n;
      return { ...rows[0]!, pendingEvents };
    };
    const total = expected['/dup-1'] + expected['/dup-2'];
    // One delivery at a time per rule, a round trip each: on a busy machine that takes a while.
    await eventually(settled, (state) => state.pendingEvents === 0 && state.delivered === total, 40_000, 'every delivery to be made');
    // Nothing left to do for anyone: a last round on every instance sends nothing.
    expect(await p.services.alerts.deliveries.drain()).toBe(0);
    expect(await q.services.alerts.deliveries.drain()).toBe(0);
    expect(await suite.server.services.alerts.deliveries.drain()).toBe(0);
    expect(await settled()).toEqual({ n: total, delivered: total, pendingEvents: 0 });

    for (const [name, count] of Object.entries(expected)) {
      const requests = receiver.to(name);
      expect(requests).toHaveLength(count);
      const ids = requests.map((request) => header(request, 'x-jobwatch-delivery'));
      expect(new Set(ids).size).toBe(count);
      const keys = requests.map((request) => `${bodyOf(request).job.id}/${bodyOf(request).event}`);
      expect(new Set(keys).size).toBe(count);
    }
    // One delivery per rule and recorded event, no more, no fewer.
    const { rows } = await suite.db.pool.query(
      `SELECT r.id AS rule_id, e.id AS event_id, count(d.id)::int AS deliveries
         FROM job_events e CROSS JOIN unnest($1::uuid[]) AS r(id)
         JOIN alert_rules ar ON ar.id = r.id
         LEFT JOIN alert_deliveries d ON d.rule_id = r.id AND d.job_event_id = e.id
        WHERE e.job_id = ANY($2::uuid[]) AND e.event = ANY(ar.events)
        GROUP BY r.id, e.id`,
      [rules, done],
    );
    expect(rows).toHaveLength(total);
    expect(rows.every((row: { deliveries: number }) => row.deliveries === 1)).toBe(true);
  }, 120_000);

  test("a receiver hanging on one delivery does not hold back another rule's deliveries on the same instance", async () => {
    // The hang lasts until the receiver is released in `finally` (or this timeout, far off).
    const slow = await suite.startServer({ ALERT_TIMEOUT_MS: '60000' }, { daemon: false, alerts: true });
    // Only the instance under test delivers.
    await p.services.alerts.deliveries.stop();
    await q.services.alerts.deliveries.stop();
    try {
      const hangType = uniqueType('hol-hang');
      const okType = uniqueType('hol-ok');
      receiver.behave('/hol-hang', 'hang');
      await createRule('oscar', { filter: { types: [hangType] }, events: ['SUCCEEDED'], webhookUrl: receiver.url('/hol-hang') }, slow);
      await createRule('oscar', { filter: { types: [okType] }, events: ['SUCCEEDED'], webhookUrl: receiver.url('/hol-ok') }, slow);
      await jobThat('complete', hangType, {}, slow);
      await receiver.until((requests) => requests.some((request) => request.path === '/hol-hang' && request.hanging), 10_000);
      await jobThat('complete', okType, {}, slow);
      // Sent while the other one still hangs (it is never answered: it ends only when its attempt
      // times out, a minute from now), not held back behind it. Whichever comes first ends the wait.
      await receiver.until(
        (requests) =>
          requests.some((request) => request.path === '/hol-ok') ||
          !requests.some((request) => request.path === '/hol-hang' && request.hanging),
        30_000,
      );
      expect({
        delivered: receiver.to('/hol-ok').length,
        stillHanging: receiver.to('/hol-hang').filter((request) => request.hanging).length,
      }).toEqual({ delivered: 1, stillHanging: 1 });
    } finally {
      receiver.release('destroy');
      await slow.close();
      p.services.alerts.deliveries.start();
      q.services.alerts.deliveries.start();
    }
  }, 90_000);
});

describe('a server killed between the commit and the delivery', () => {
  test('SIGKILL mid-dispatch and mid-delivery: the next server dispatches the left events and makes the deliveries', async () => {
    const type = uniqueType('crash');
    receiver.behave('/crash-hang', 'hang');
    const hung = await createRule('oscar', { filter: { types: [type] }, events: ['SUCCEEDED'], webhookUrl: receiver.url('/crash-hang') });
    const late = await createRule('oscar', { filter: { types: [type] }, events: ['FAILED'], webhookUrl: receiver.url('/crash-late') });

    const child = await startServerProcess(suite.db.url, { ALERT_TIMEOUT_MS: '60000' });
    const lockClient = new PgClient({ connectionString: suite.db.url });
    let restarted: TestServer | undefined;
    try {
      const childServer = child as unknown as TestServer;

      // 1. A SUCCEEDED event: the child dispatches it and is mid-delivery (the receiver never answers).
      const first = await jobThat('complete', type, {}, childServer);
      await receiver.until((requests) => requests.some((request) => request.path === '/crash-hang' && request.hanging), 30_000);
      const [inFlight] = await deliveryRows(hung.rule.id);
      expect(inFlight).toMatchObject({ status: 'DELIVERING', attempts: 1, job_id: first });
      expect(inFlight!.locked_for_s).toBeGreaterThan(30);

      // 2. A FAILED event whose dispatch is caught mid-transaction (the rules table is held).
      await lockClient.connect();
      await lockClient.query('BEGIN');
      await lockClient.query('LOCK TABLE alert_rules IN ACCESS EXCLUSIVE MODE');
      const second = await jobThat('fail', type, {}, childServer);
      const blocked = await eventually(
        async () =>
          (
            await suite.db.pool.query<{ pid: number }>(
              `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%FROM alert_rules WHERE enabled%'`,
            )
          ).rows,
        (rows) => rows.length === 1,
        30_000,
        "the child's dispatcher to wait inside its transaction",
      );

      // 3. Killed: no shutdown, no cleanup.
      child.process.kill('SIGKILL');
      expect((await child.exited).signal).toBe('SIGKILL');
      await lockClient.query('ROLLBACK');
      await eventually(
        async () => (await suite.db.pool.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [blocked[0]!.pid])).rowCount,
        (count) => count === 0,
        30_000,
        "the dead child's transaction to end",
      );
      // Committed, never dispatched: the claim's STARTED (taken by the dead dispatcher) and the FAILED after it.
      const left = await suite.db.pool.query(`SELECT event FROM job_events WHERE job_id = $1 AND processed_at IS NULL ORDER BY id`, [
        second,
      ]);
      expect(left.rows).toEqual([{ event: 'STARTED' }, { event: 'FAILED' }]);
      expect(await deliveryRows(late.rule.id)).toEqual([]);

      // 4. A new server: it dispatches what was left and delivers it; the delivery the dead one held waits for its lock.
      receiver.behave('/crash-hang', 'ok');
      restarted = await handDrivenServer({ ALERT_TIMEOUT_MS: '2000' });
      expect(await restarted.services.alerts.dispatcher.drain()).toBeGreaterThanOrEqual(2);
      expect((await suite.db.pool.query(`SELECT count(*)::int AS n FROM job_events WHERE processed_at IS NULL`)).rows[0]).toEqual({ n: 0 });
      await restarted.services.alerts.deliveries.drain();
      expect((await deliveryRows(late.rule.id)).map((row) => [row.job_id, row.status, row.attempts])).toEqual([[second, 'DELIVERED', 1]]);
      expect(receiver.to('/crash-late').map((request) => bodyOf(request).job.id)).toEqual([second]);
      expect((await deliveryRows(hung.rule.id))[0]).toMatchObject({ status: 'DELIVERING', attempts: 1 });
      expect(receiver.to('/crash-hang')).toHaveLength(1);

      // Its lock runs out (backdated rather than waited for): the delivery is made, once accepted.
      await suite.db.pool.query(`UPDATE alert_deliveries SET locked_until = now() - interval '1 second' WHERE rule_id = $1`, [
        hung.rule.id,
      ]);
      expect(await restarted.services.alerts.deliveries.drain()).toBe(1);
      expect((await deliveryRows(hung.rule.id)).map((row) => [row.job_id, row.status, row.attempts])).toEqual([[first, 'DELIVERED', 2]]);
      const attempts = receiver.to('/crash-hang');
      expect(attempts).toHaveLength(2);
      expect(new Set(attempts.map((request) => header(request, 'x-jobwatch-delivery'))).size).toBe(1);
      expect(receiver.accepted('/crash-hang')).toHaveLength(1);
      expect(verifySignature(hung.secret, attempts[1]!.rawBody, header(attempts[1]!, 'x-jobwatch-signature'))).toBe(true);
      expect(independentlyVerified(late.secret, receiver.to('/crash-late')[0]!)).toBe(true);
      // And nothing more is left to do.
      expect(await restarted.services.alerts.dispatcher.drain()).toBe(0);
      expect(await restarted.services.alerts.deliveries.drain()).toBe(0);
    } finally {
      killServerProcesses();
      await lockClient.end().catch(() => undefined);
      await restarted?.close();
    }
    // The child compiles the TypeScript it loads: startServerProcess allows that a minute on a busy machine.
  }, 150_000);
});
