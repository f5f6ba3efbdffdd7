import { ConfigError, loadConfig } from '../src/config';
import { apiSuite } from './support/api-suite';
import { gqlOk, type TestServer } from './support/test-server';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver';

/**
 * Job.url (PUBLIC_URL + /jobs/<id>) wherever a job is shown: the API, a webhook's payload and a
 * notification; null on a server without PUBLIC_URL. unreadCount is an Int.
 */
const suite = apiSuite({
  // A trailing slash in PUBLIC_URL is not doubled in the links.
  env: { PUBLIC_URL: 'https://jobs.example.com/console/' },
  daemon: false,
  alerts: false,
  grants: [
    ['oscar', 'operator'],
    ['worker', 'worker'],
  ],
  users: ['oscar'],
});
/** The suite's server, with PUBLIC_URL; `plain`, one without. */
let linked: TestServer;
let plain: TestServer;
let receiver: WebhookReceiver;

beforeAll(async () => {
  linked = suite.server;
  receiver = await startWebhookReceiver();
  suite.disposeFirst(() => receiver.close());
  plain = await suite.startServer({}, { daemon: false, alerts: false });
});

async function createJob(type: string): Promise<string> {
  const created = await linked.gql<{ createJob: { id: string } }>(
    suite.tokens['oscar'],
    'mutation($i: CreateJobInput!) { createJob(input: $i) { id } }',
    {
      i: { name: 'linked job', type, scope: 'acme/payments/prod' },
    },
  );
  return gqlOk(created).createJob.id;
}

test('Job.url is PUBLIC_URL + /jobs/<id> in job and jobs, and null without PUBLIC_URL', async () => {
  const id = await createJob('links-api');
  const expected = `https://jobs.example.com/console/jobs/${id}`;
  const one = gqlOk(
    await linked.gql<{ job: { url: string | null } }>(suite.tokens['oscar'], 'query($id: ID!) { job(id: $id) { url } }', { id }),
  );
  expect(one.job.url).toBe(expected);
  const list = gqlOk(
    await linked.gql<{ jobs: { nodes: Array<{ id: string; url: string | null }> } }>(
      suite.tokens['oscar'],
      '{ jobs(filter: { types: ["links-api"] }) { nodes { id url } } }',
    ),
  );
  expect(list.jobs.nodes).toEqual([{ id, url: expected }]);
  const without = gqlOk(
    await plain.gql<{ job: { url: string | null } }>(suite.tokens['oscar'], 'query($id: ID!) { job(id: $id) { url } }', { id }),
  );
  expect(without.job.url).toBeNull();
});

test("a webhook's payload and the owner's notification link to the job's page", async () => {
  const rule = await linked.gql(suite.tokens['oscar'], 'mutation($i: AlertRuleInput!) { createAlertRule(input: $i) { rule { id } } }', {
    i: { name: 'failures', events: ['FAILED'], webhookUrl: receiver.url('/links'), filter: { types: ['links-hook'] } },
  });
  gqlOk(rule);
  const id = await createJob('links-hook');
  const claim = gqlOk(
    await linked.gql<{ claimJob: { lease: string } }>(
      suite.tokens['worker'],
      'mutation { claimJob(workerId: "w", types: ["links-hook"]) { lease } }',
    ),
  ).claimJob;
  gqlOk(await linked.gql(suite.tokens['worker'], 'mutation($l: String!) { failJob(lease: $l, error: "boom") { id } }', { l: claim.lease }));
  await linked.services.alerts.dispatcher.drain();
  await linked.services.alerts.deliveries.drain();
  const [request] = receiver.to('/links');
  expect(JSON.parse(request?.rawBody ?? '{}').job).toMatchObject({ id, url: `https://jobs.example.com/console/jobs/${id}` });

  const feed = gqlOk(
    await linked.gql<{ notifications: { unreadCount: number; nodes: Array<{ jobId: string; kind: string; jobUrl: string | null }> } }>(
      suite.tokens['oscar'],
      '{ notifications { unreadCount nodes { jobId kind jobUrl } } }',
    ),
  ).notifications;
  expect(feed.nodes).toContainEqual({ jobId: id, kind: 'FAILED', jobUrl: `https://jobs.example.com/console/jobs/${id}` });
  expect(Number.isInteger(feed.unreadCount)).toBe(true);
  const plainFeed = gqlOk(
    await plain.gql<{ notifications: { nodes: Array<{ jobUrl: string | null }> } }>(
      suite.tokens['oscar'],
      '{ notifications { nodes { jobUrl } } }',
    ),
  );
  expect(plainFeed.notifications.nodes.map((node) => node.jobUrl)).toEqual(plainFeed.notifications.nodes.map(() => null));
});

test('unreadCount is typed Int; PUBLIC_URL must be an http(s) URL without query or fragment', async () => {
  const type = gqlOk(
    await linked.gql<{ __type: { fields: Array<{ name: string; type: { ofType: { name: string } } }> } }>(
      suite.tokens['oscar'],
      '{ __type(name: "NotificationConnection") { fields { name type { ofType { name } } } } }',
    ),
  );
  expect(type.__type.fields.find((field) => field.name === 'unreadCount')?.type.ofType.name).toBe('Int');
  expect(() => loadConfig({ PUBLIC_URL: 'ftp://jobs.example.com' })).toThrow(ConfigError);
  expect(() => loadConfig({ PUBLIC_URL: 'https://jobs.example.com/?x=1' })).toThrow(ConfigError);
  expect(loadConfig({ PUBLIC_URL: 'http://localhost:4000//' }).publicUrl).toBe('http://localhost:4000');
});
