import { ConfigError, loadConfig } from '../src/config';
import { startSilentServer, startSmtpReceiver, type SmtpReceiver } from './support/smtp-receiver';
import { apiSuite } from './support/api-suite';
import { gqlOk, type TestServer } from './support/test-server';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver';

/**
 * Email alerts through a real SMTP server on loopback (smtp-server): the message carries the
 * job's error and its link; a server that refuses or says nothing is retried, then FAILED in
 * the delivery log, while the same event's webhook is delivered and the transition answered.
 * The dispatcher and the delivery worker are driven by hand; backoffs are skipped in SQL.
 */
let smtp: SmtpReceiver;
let receiver: WebhookReceiver;

/**
 * A whole SMTP conversation (connect, greeting, EHLO, MAIL, RCPT, DATA) fits in the timeout on a
 * busy machine; the server that never answers gets a shorter one (each attempt waits it out).
 */
const ENV = { ALERT_TIMEOUT_MS: '15000', ALERT_RETRY_BASE_MS: '60000', ALERT_MAX_ATTEMPTS: '2', PUBLIC_URL: 'https://jobs.example.com' };
const SILENT_TIMEOUT_MS = '3000';

const suite = apiSuite({
  env: async () => {
    smtp = await startSmtpReceiver();
    return { ...ENV, SMTP_URL: smtp.url, ALERT_EMAIL_FROM: 'jobwatch@example.com' };
  },
  daemon: false,
  alerts: false,
  grants: [
    ['oscar', 'operator'],
    ['worker', 'worker'],
  ],
  users: ['oscar'],
});
beforeAll(async () => {
  receiver = await startWebhookReceiver();
});
afterEach(async () => {
  await suite.db.pool.query('DELETE FROM alert_rules');
  smtp.refuse = false;
});
// After the suite's afterAll: the servers are closed first.
afterAll(async () => {
  await smtp?.close();
  await receiver?.close();
});

const CREATE_RULE = 'mutation($i: AlertRuleInput!) { createAlertRule(input: $i) { rule { id email webhookUrl } } }';
const DELIVERIES = 'query($r: ID!) { alertDeliveries(ruleId: $r) { status attempts lastError lastStatusCode } }';

async function rule(input: Record<string, unknown>, on: TestServer = suite.server): Promise<string> {
  return gqlOk(
    await on.gql<{ createAlertRule: { rule: { id: string } } }>(suite.tokens['oscar'], CREATE_RULE, {
      i: { name: 'mail', events: ['FAILED'], ...input },
    }),
  ).createAlertRule.rule.id;
}

/** A job of `type` that fails through the worker mutations; answers its id and how long failJob took. */
async function failingJob(type: string, on: TestServer = suite.server): Promise<{ id: string; failMs: number }> {
  const id = gqlOk(
    await on.gql<{ createJob: { id: string } }>(suite.tokens['oscar'], 'mutation($i: CreateJobInput!) { createJob(input: $i) { id } }', {
      i: { name: `Nightly ${type}`, type, scope: 'acme/payments/prod' },
    }),
  ).createJob.id;
  const claim = gqlOk(
    await on.gql<{ claimJob: { lease: string } }>(
      suite.tokens['worker'],
      'mutation($t: [String!]) { claimJob(workerId: "w", types: $t) { lease } }',
      { t: [type] },
    ),
  ).claimJob;
  const started = Date.now();
  gqlOk(
    await on.gql(
      suite.tokens['worker'],
      'mutation($l: String!) { failJob(lease: $l, error: "disk full on /var/data", stack: "Error: disk full\\n    at copy (copy.ts:12)") { id } }',
      {
        l: claim.lease,
      },
    ),
  );
  return { id, failMs: Date.now() - started };
}

async function deliveries(ruleId: string, on: TestServer = suite.server) {
  return gqlOk(
    await on.gql<{ alertDeliveries: Array<{ status: string; attempts: number; lastError: string | null; lastStatusCode: number | null }> }>(
      suite.tokens['oscar'],
      DELIVERIES,
      { r: ruleId },
    ),
  ).alertDeliveries;
}

async function pump(on: TestServer = suite.server): Promise<void> {
  await on.services.alerts.dispatcher.drain();
  await on.services.alerts.deliveries.drain();
}

const makeDue = () =>
  suite.db.pool.query(`UPDATE alert_deliveries SET next_attempt_at = now() - interval '1 second' WHERE status = 'PENDING'`);

test("a FAILED job's email reaches the SMTP server with the error and the job's link", async () => {
  const ruleId = await rule({ email: 'oncall@example.com', filter: { types: ['mail-ok'] } });
  const { id } = await failingJob('mail-ok');
  await pump();
  const [mail] = await smtp.until((mails) => mails.length === 1);
  expect(mail?.from).toBe('jobwatch@example.com');
  expect(mail?.to).toEqual(['oncall@example.com']);
  expect(mail?.raw).toMatch(/^Subject: \[Jobwatch\] FAILED: Nightly mail-ok/m);
  expect(mail?.raw).toContain('disk full on /var/data');
  expect(mail?.raw).toContain('at copy (copy.ts:12)');
  expect(mail?.raw).toContain(`https://jobs.example.com/jobs/${id}`);
  expect(await deliveries(ruleId)).toEqual([{ status: 'DELIVERED', attempts: 1, lastError: null, lastStatusCode: 250 }]);
});

test('a server that refuses the recipient: retried, then FAILED with its reply; the webhook of the same event is delivered', async () => {
  smtp.refuse = true;
  const mailRule = await rule({ email: 'nobody@example.com', filter: { types: ['mail-refused'] } });
  const hookRule = await rule({ webhookUrl: receiver.url('/refused-too'), filter: { types: ['mail-refused'] } });
  await failingJob('mail-refused');
  await pump();
  expect(receiver.accepted('/refused-too')).toHaveLength(1);
  expect(await deliveries(hookRule)).toMatchObject([{ status: 'DELIVERED' }]);
  expect(await deliveries(mailRule)).toEqual([
    { status: 'PENDING', attempts: 1, lastError: expect.stringMatching(/^SMTP 550.*unavailable/), lastStatusCode: 550 },
  ]);
  await makeDue();
  await pump();
  expect(await deliveries(mailRule)).toEqual([
    { status: 'FAILED', attempts: 2, lastError: expect.stringMatching(/^SMTP 550/), lastStatusCode: 550 },
  ]);
  expect(smtp.refused).toBeGreaterThanOrEqual(2);
  expect(smtp.mails.filter((mail) => mail.to.includes('nobody@example.com'))).toEqual([]);
});

test('a server that never answers: each attempt times out, then FAILED; transitions and webhooks never wait for it', async () => {
  const silent = await startSilentServer();
  const hanging = await suite.startServer(
    { ...ENV, ALERT_TIMEOUT_MS: SILENT_TIMEOUT_MS, SMTP_URL: silent.url, ALERT_EMAIL_FROM: 'jobwatch@example.com' },
    { daemon: false, alerts: false },
  );
  try {
    const mailRule = await rule({ email: 'oncall@example.com', filter: { types: ['mail-silent'] } }, hanging);
    const hookRule = await rule({ webhookUrl: receiver.url('/silent-too'), filter: { types: ['mail-silent'] } }, hanging);
    await failingJob('mail-silent', hanging);
    await hanging.services.alerts.dispatcher.drain();
    // The webhook goes out while the email attempt hangs: a rule waits only for itself.
    const round = hanging.services.alerts.deliveries.drain();
    await receiver.until((requests) => requests.some((request) => request.path === '/silent-too'));
    await round;
    expect(await deliveries(hookRule, hanging)).toMatchObject([{ status: 'DELIVERED' }]);
    expect(await deliveries(mailRule, hanging)).toEqual([{ status: 'PENDING', attempts: 1, lastError: 'timed out', lastStatusCode: null }]);
    await makeDue();
    await pump(hanging);
    expect(await deliveries(mailRule, hanging)).toEqual([{ status: 'FAILED', attempts: 2, lastError: 'timed out', lastStatusCode: null }]);
    expect(silent.connections).toBeGreaterThanOrEqual(2);
  } finally {
    await hanging.close();
    await silent.close();
  }
});

test('bad destinations: not an address, both or neither destination, email without SMTP_URL: BAD_USER_INPUT, no rule', async () => {
  const plain = await suite.startServer({}, { daemon: false, alerts: false });
  try {
    const cases: Array<[TestServer, Record<string, unknown>, RegExp]> = [
      [suite.server, { email: 'not an address' }, /email is not an email address/],
      [suite.server, { email: 'oncall@example.com\r\nBcc: everyone@example.com' }, /email is not an email address/],
      [suite.server, { email: 'oncall@' }, /email is not an email address/],
      [suite.server, { email: 'oncall@example.com', webhookUrl: receiver.url('/both') }, /one destination/],
      [suite.server, {}, /one destination/],
      [plain, { email: 'oncall@example.com' }, /SMTP_URL/],
    ];
    for (const [on, input, message] of cases) {
      const refused = await on.gql(suite.tokens['oscar'], CREATE_RULE, { i: { name: 'bad', events: ['FAILED'], ...input } });
      expect([refused.errors?.[0]?.extensions?.['code'], refused.errors?.[0]?.message]).toEqual([
        'BAD_USER_INPUT',
        expect.stringMatching(message),
      ]);
    }
    expect((await suite.db.pool.query('SELECT count(*)::int AS n FROM alert_rules')).rows[0].n).toBe(0);
  } finally {
    await plain.close();
  }
});

test('SMTP_URL needs ALERT_EMAIL_FROM, an address; SMTP_URL is smtp or smtps', async () => {
  expect(() => loadConfig({ SMTP_URL: 'smtp://127.0.0.1:25' })).toThrow(ConfigError);
  expect(() => loadConfig({ SMTP_URL: 'smtp://127.0.0.1:25', ALERT_EMAIL_FROM: 'Jobwatch' })).toThrow(ConfigError);
  expect(() => loadConfig({ SMTP_URL: 'http://127.0.0.1:25', ALERT_EMAIL_FROM: 'jobwatch@example.com' })).toThrow(ConfigError);
  expect(loadConfig({ SMTP_URL: 'smtps://mail.example.com', ALERT_EMAIL_FROM: 'jobwatch@example.com' }).alerts).toMatchObject({
    smtpUrl: 'smtps://mail.example.com',
    emailFrom: 'jobwatch@example.com',
  });
});
