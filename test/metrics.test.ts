import { apiSuite } from './support/api-suite';
import { insertJobs } from './support/fixtures';
import { eventually } from './support/eventually';
import { scrape, type Scrape } from './support/prometheus';
import { gqlOk } from './support/test-server';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver';
import { subscribe, wsClient } from './support/ws-client';

/**
 * GET /metrics after real traffic: HTTP and WebSocket operations, a worker's progress, a
 * subscriber's events, a webhook, a daemon tick and a lost LISTEN connection each move the
 * figures the README documents.
 */

let receiver: WebhookReceiver;

const suite = apiSuite({ env: { PROGRESS_FLUSH_MS: '20', ALERT_RETRY_BASE_MS: '60000' } });
beforeAll(async () => {
  receiver = await startWebhookReceiver();
  suite.disposeFirst(() => receiver.close());
});

/** How much each figure moved between two scrapes. */
function moved(before: Scrape, after: Scrape, name: string, labels: Record<string, string> = {}): number {
  return after.sum(name, labels) - before.sum(name, labels);
}

test('real traffic moves every documented figure', async () => {
  const before = await scrape(suite.server.url);
  expect(before.status).toBe(200);
  expect(before.contentType).toMatch(/^text\/plain; version=0\.0\.4/);

  // HTTP: a named query, a document that does not validate, a bad token.
  gqlOk(await suite.server.gql(suite.admin, 'query JobsPage { jobs(first: 5) { totalCount } }'));
  expect((await suite.server.gql(suite.admin, 'query Broken { nope }')).errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
  expect((await suite.server.gql('not-a-token', '{ me { id } }')).errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');

  // A job, claimed by a worker, watched over the WebSocket, reporting progress, then done.
  const type = 'metrics-demo';
  const rule = gqlOk(
    await suite.server.gql<{ createAlertRule: { rule: { id: string } } }>(
      suite.admin,
      'mutation Watch($i: AlertRuleInput!) { createAlertRule(input: $i) { rule { id } } }',
      { i: { name: 'metrics', events: ['SUCCEEDED'], filter: { types: [type] }, webhookUrl: receiver.url('/ok') } },
    ),
  ).createAlertRule.rule;
  const job = gqlOk(
    await suite.server.gql<{ createJob: { id: string } }>(
      suite.admin,
      'mutation Create($i: CreateJobInput!) { createJob(input: $i) { id } }',
      {
        i: { name: 'measured', type, scope: 'acme/metrics' },
      },
    ),
  ).createJob;
  const claim = gqlOk(
    await suite.server.gql<{ claimJob: { lease: string } }>(
      suite.worker,
      'mutation Claim($t: [String!]) { claimJob(workerId: "m1", types: $t) { lease } }',
      { t: [type] },
    ),
  ).claimJob;
  const client = wsClient(suite.server.url, suite.admin);
  const progress = subscribe<{ jobProgress: { progress: { done: number } } }>(
    client,
    'subscription Watching($id: ID!) { jobProgress(id: $id) { progress { done } } }',
    { id: job.id },
  );
  await progress.until((messages) => messages.length >= 1);
  // A second subscription on the same socket, then the client completes it: counted, then not.
  const second = subscribe(client, 'subscription Also($id: ID!) { jobProgress(id: $id) { progress { done } } }', { id: job.id });
  await second.until((messages) => messages.length >= 1);
  expect((await scrape(suite.server.url)).sum('jobwatch_subscriptions', { field: 'jobProgress' })).toBe(2);
  second.stop();
  const open = await eventually(
    () => scrape(suite.server.url),
    (now) => now.sum('jobwatch_subscriptions', { field: 'jobProgress' }) === 1,
    10_000,
    'the completed subscription to be counted down',
  );
  expect(open.sum('jobwatch_websocket_connections')).toBe(1);
  // An operation over the WebSocket that fails: counted with its code, the socket stays.
  const refused = subscribe(client, 'subscription Nope { nope }');
  await eventually(
    () => refused.errors.length,
    (count) => count > 0,
    10_000,
    'the refusal',
  );

  gqlOk(
    await suite.server.gql(suite.worker, 'mutation Report($r: [ProgressReport!]!) { reportProgress(reports: $r) }', {
      r: [{ lease: claim.lease, done: 7, total: 10 }],
    }),
  );
  await progress.until((messages) => messages.some((message) => message.jobProgress.progress.done === 7));
  gqlOk(await suite.server.gql(suite.worker, 'mutation Done($l: String!) { completeJob(lease: $l) { status } }', { l: claim.lease }));
  await receiver.until((requests) => requests.some((request) => request.path === '/ok'));

  // The daemon: a running job whose worker went silent an hour ago.
  await insertJobs(suite.db.pool, [{ type: 'silent', status: 'RUNNING', step: 'RUN', started_at: new Date(Date.now() - 3_600_000) }]);
  expect(await suite.server.services.daemon.tick()).toMatchObject({ abended: 1 });

  // The LISTEN connection, cut by Postgres: lost, then back.
  await suite.db.pool.query(
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'jobwatch-listener'`,
  );

  const after = await eventually(
    () => scrape(suite.server.url),
    (now) =>
      now.sum('jobwatch_alert_attempts_total', { outcome: 'delivered' }) >= 1 &&
      now.sum('jobwatch_listen_losses_total') >= 1 &&
      now.sum('jobwatch_listen_connected') === 1,
    20_000,
    'the webhook and the LISTEN reconnection to show',
  );

  expect(moved(before, after, 'jobwatch_graphql_requests_total', { transport: 'http', type: 'query', operation: 'JobsPage' })).toBe(1);
  expect(moved(before, after, 'jobwatch_graphql_request_duration_seconds_count', { type: 'query', operation: 'JobsPage' })).toBe(1);
  expect(moved(before, after, 'jobwatch_graphql_request_duration_seconds_sum', { type: 'query', operation: 'JobsPage' })).toBeGreaterThan(
    0,
  );
  expect(moved(before, after, 'jobwatch_graphql_requests_total', { transport: 'http', type: 'mutation', operation: 'Report' })).toBe(1);
  expect(moved(before, after, 'jobwatch_graphql_errors_total', { transport: 'http', operation: 'Broken', code: 'BAD_USER_INPUT' })).toBe(1);
  expect(moved(before, after, 'jobwatch_graphql_errors_total', { transport: 'http', code: 'UNAUTHENTICATED' })).toBe(1);
  expect(moved(before, after, 'jobwatch_graphql_requests_total', { transport: 'ws', type: 'subscription', operation: 'Watching' })).toBe(1);
  expect(moved(before, after, 'jobwatch_graphql_errors_total', { transport: 'ws', operation: 'Nope', code: 'BAD_USER_INPUT' })).toBe(1);

  expect(moved(before, after, 'jobwatch_progress_reports_total')).toBe(1);
  expect(moved(before, after, 'jobwatch_progress_flush_jobs_count')).toBeGreaterThanOrEqual(1);
  expect(moved(before, after, 'jobwatch_progress_flush_jobs_sum')).toBeGreaterThanOrEqual(1);
  expect(moved(before, after, 'jobwatch_progress_flush_duration_seconds_count')).toBeGreaterThanOrEqual(1);

  expect(moved(before, after, 'jobwatch_fanout_batches_total')).toBeGreaterThanOrEqual(1);
  expect(moved(before, after, 'jobwatch_fanout_rows_total')).toBeGreaterThanOrEqual(1);
  expect(moved(before, after, 'jobwatch_fanout_deliveries_total')).toBeGreaterThanOrEqual(2);
  expect(moved(before, after, 'jobwatch_fanout_lag_seconds_count')).toBeGreaterThanOrEqual(1);
  expect(moved(before, after, 'jobwatch_subscription_send_slices_total')).toBeGreaterThanOrEqual(1);
  expect(moved(before, after, 'jobwatch_subscription_sends_released_total')).toBeGreaterThanOrEqual(2);
  expect(after.has('jobwatch_subscription_sends_waiting')).toBe(true);
  // The change was handed over well within a minute of its commit (the largest bucket but +Inf).
  expect(after.sum('jobwatch_fanout_lag_seconds_bucket', { le: '60' })).toBe(after.sum('jobwatch_fanout_lag_seconds_count'));

  expect(moved(before, after, 'jobwatch_daemon_tick_duration_seconds_count', { outcome: 'ran' })).toBe(1);
  expect(moved(before, after, 'jobwatch_daemon_actions_total', { rule: 'abended' })).toBe(1);

  expect(moved(before, after, 'jobwatch_alert_attempts_total', { outcome: 'delivered' })).toBe(1);
  expect(moved(before, after, 'jobwatch_alert_attempts_total', { outcome: 'failed' })).toBe(0);
  for (const stage of ['undispatched', 'pending', 'delivering']) expect(after.has('jobwatch_alert_backlog', { stage })).toBe(true);
  expect(after.sum('jobwatch_alert_oldest_due_seconds')).toBeGreaterThanOrEqual(0);

  expect(moved(before, after, 'jobwatch_listen_losses_total')).toBe(1);
  expect(after.sum('jobwatch_db_pool_max_connections')).toBe(5);
  expect(after.sum('jobwatch_db_pool_connections')).toBeGreaterThanOrEqual(1);
  expect(after.has('jobwatch_db_pool_waiting_requests')).toBe(true);
  expect(after.has('nodejs_eventloop_lag_p99_seconds')).toBe(true);
  expect(after.has('process_cpu_user_seconds_total')).toBe(true);

  // Closing the socket ends its subscriptions.
  await client.dispose();
  const closed = await eventually(
    () => scrape(suite.server.url),
    (now) => now.sum('jobwatch_websocket_connections') === 0,
    10_000,
    'the socket to close',
  );
  expect(closed.sum('jobwatch_subscriptions')).toBe(0);
  await suite.server.gql(suite.admin, 'mutation($id: ID!) { deleteAlertRule(id: $id) }', { id: rule.id });
});

describe('who may read /metrics', () => {
  test('with METRICS_TOKEN: the bearer of that token only', async () => {
    const metricsToken = 'b7'.repeat(4) + 'c1e0f4a9d3b8e2f7a6c5d1e9b3f8a2c7d4e6f0a1b5c9d2e8f3a7b4c6d0e5f1a9';
    const guarded = await suite.startServer({ METRICS_TOKEN: metricsToken });
    try {
      const refused = await fetch(new URL('/metrics', guarded.url));
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
      expect((await scrape(guarded.url, { authorization: 'Bearer wrong' })).status).toBe(401);
      const allowed = await scrape(guarded.url, { authorization: `Bearer ${metricsToken}` });
      expect(allowed.status).toBe(200);
      expect(allowed.has('jobwatch_db_pool_max_connections')).toBe(true);
    } finally {
      await guarded.close();
    }
  });

  test('in production without METRICS_TOKEN there is no /metrics', async () => {
    const production = await suite.startServer({ NODE_ENV: 'production' });
    try {
      expect((await fetch(new URL('/metrics', production.url))).status).toBe(404);
      expect((await fetch(new URL('/healthz', production.url))).status).toBe(200);
    } finally {
      await production.close();
    }
  });
});
