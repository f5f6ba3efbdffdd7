import AxeBuilder from '@axe-core/playwright';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { processRegistry } from '../src/metrics/registry';
import { apiSuite } from './support/api-suite';
import { launchBrowser } from './support/browser';
import { buildConsole, OUTPUT_DIR } from './support/console-build';
import { createRole, grant, insertJobs } from './support/fixtures';
import { startSmtpReceiver, type SmtpReceiver } from './support/smtp-receiver';
import { token } from './support/test-server';

/**
 * The console in a real Chromium against a real server and Postgres, driven as people use it:
 * signed in by link, the list with its tabs, search and filters (in the URL), progress moving
 * while a worker reports, an operator cancelling, a viewer without actions, a failed job's error,
 * an expired session. axe checks every page; each page's screenshot goes to test-output/console.
 */
jest.setTimeout(180_000);

let smtp: SmtpReceiver;
const suite = apiSuite({
  env: async () => {
    smtp = await startSmtpReceiver();
    return { PROGRESS_FLUSH_MS: '100', SMTP_URL: smtp.url, ALERT_EMAIL_FROM: 'jobwatch@example.com' };
  },
  grants: [
    ['ada', 'admin'],
    ['oscar', 'operator'],
    ['nina', 'operator'],
    ['vera', 'viewer'],
    ['wendy', 'worker'],
  ],
  users: ['wendy'],
});
let browser: Browser;
let base: string;
let worker: string;
const contexts: BrowserContext[] = [];
suite.disposeFirst(() => browser?.close());
// After the suite's afterAll: the server is closed by then.
afterAll(() => smtp?.close());

beforeAll(async () => {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  buildConsole();
  base = `http://127.0.0.1:${suite.server.port}`;
  worker = suite.tokens['wendy']!;
  browser = await launchBrowser();
});

// Each test's pages close after it: open ones would keep their live subscriptions (and the CPU)
// busy during the next tests.
afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close().catch(() => undefined);
});

async function open(
  user: string,
  where = '/',
  options: {
    ttlSeconds?: number;
    viewport?: { width: number; height: number };
    colorScheme?: 'light' | 'dark';
    /** The page's timers and Date on Playwright's clock (still flowing), so the test can move it on. */
    fakeClock?: boolean;
  } = {},
): Promise<Page> {
  // A real locale: Chromium takes "en-US@posix" from a C locale, which Intl (in uPlot) refuses.
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1400, height: 900 },
    colorScheme: options.colorScheme ?? 'light',
    locale: 'en-US',
  });
  contexts.push(context);
  if (options.fakeClock === true) await context.clock.install();
  const page = await context.newPage();
  page.setDefaultTimeout(60_000);
  const signed = await token(user, { ttlSeconds: options.ttlSeconds ?? 3600 });
  await page.goto(`${base}${where}#token=${signed}`);
  return page;
}

async function noSeriousViolations(page: Page): Promise<void> {
  // axe.run in the page itself (legacy mode), with full detail for violations only. The default
  // runs each frame's part, then finishes in a new blank page, and details every passing node too:
  // 5-6 s a jobs page on this machine, against 0.7 s. The console has no frames from elsewhere,
  // which is all that the default would test beyond this.
  const result = await new AxeBuilder({ page })
    .setLegacyMode()
    .options({ resultTypes: ['violations'] })
    .analyze();
  const serious = result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.id}: ${v.help} (${v.nodes
          .map((n) => n.target.join(' '))
          .slice(0, 3)
          .join(', ')})`,
    );
  expect(serious).toEqual([]);
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(OUTPUT_DIR, `${name}.png`), fullPage: false });
}

async function gqlAs(user: string, query: string, variables?: Record<string, unknown>) {
  const response = await suite.server.gql(await token(user), query, variables);
  expect(response.errors).toBeUndefined();
  return response.data!;
}

async function claimed(type: string): Promise<{ lease: string; name: string }> {
  const response = await suite.server.gql<{ claimJob: { lease: string; job: { name: string } } | null }>(
    worker,
    'mutation($t: [String!]) { claimJob(workerId: "w-1", types: $t) { lease job { name } } }',
    { t: [type] },
  );
  expect(response.errors).toBeUndefined();
  return { lease: response.data!.claimJob!.lease, name: response.data!.claimJob!.job.name };
}

const claim = async (type: string) => (await claimed(type)).lease;

/** How many JobAttempts queries the server has answered (the page's attempts list), from its metrics. */
async function attemptReads(): Promise<number> {
  const metric = await processRegistry.getSingleMetric('jobwatch_graphql_requests_total')?.get();
  return (metric?.values ?? []).filter((value) => value.labels['operation'] === 'JobAttempts').reduce((sum, value) => sum + value.value, 0);
}

const report = (lease: string, done: number, total: number) =>
  suite.server.gql(worker, 'mutation($r: [ProgressReport!]!) { reportProgress(reports: $r) }', {
    r: [{ lease, done, total, unit: 'rows' }],
  });

describe('the console', () => {
  test('serves the page with a strict CSP and hashed assets, GraphiQL offline, nothing from elsewhere', async () => {
    const page = await fetch(`${base}/jobs/some-id`);
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe');
    const html = await page.text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset).toMatch(/\/assets\/console-[\w-]{8}\.js$/);
    const js = await fetch(`${base}${asset}`);
    expect(js.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${base}/assets/nothing-here.js`)).status).toBe(404);

    const context = await browser.newContext({ locale: 'en-US' });
    contexts.push(context);
    const graphiql = await context.newPage();
    // As for every page of these tests: Playwright's own 30 s is short for loading GraphiQL on a busy machine.
    graphiql.setDefaultTimeout(60_000);
    const requests: string[] = [];
    graphiql.on('request', (request) => requests.push(request.url()));
    const cspErrors: string[] = [];
    graphiql.on('console', (message) => {
      if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) cspErrors.push(message.text());
    });
    await graphiql.goto(`${base}/graphiql#token=${await token('ada')}`);
    await graphiql.locator('.graphiql-container').waitFor();
    // The editors fill in after the container shows (the default query, the schema's introspection):
    // a click before that runs nothing. Wait for the query, then run it as a user would until it answers.
    await graphiql.locator('.graphiql-query-editor').getByText('actions').first().waitFor();
    const answer = graphiql.locator('.result-window').getByText('"ada"').first();
    for (let attempt = 1; ; attempt += 1) {
      await graphiql.getByRole('button', { name: /execute query/i }).click();
      try {
        await answer.waitFor({ timeout: 15_000 });
        break;
      } catch (error) {
        if (attempt >= 4) throw error;
      }
    }
    await screenshot(graphiql, 'graphiql');
    expect(requests.filter((url) => !url.startsWith(base) && !url.startsWith('data:'))).toEqual([]);
    expect(cspErrors.filter((text) => !/style/i.test(text))).toEqual([]);
  });

  test('signs in by link (the token leaves the address bar), lists jobs with live tab counts', async () => {
    const now = Date.now();
    await insertJobs(suite.db.pool, [
      ...Array.from({ length: 30 }, (_, i) => ({
        name: `Nightly export ${i}`,
        type: 'export',
        status: 'SUCCEEDED' as const,
        created_at: new Date(now - 60_000 - i * 1000),
        finished_at: new Date(now - 30_000),
      })),
      {
        name: 'Ledger import',
        type: 'import',
        status: 'FAILED' as const,
        created_at: new Date(now - 50_000),
        finished_at: new Date(now - 40_000),
        message: 'disk full',
      },
      { name: 'Queued cleanup', type: 'cleanup', status: 'PENDING' as const, created_at: new Date(now - 45_000) },
    ]);
    const page = await open('ada');
    await page.getByRole('heading', { name: 'Jobs' }).waitFor();
    expect(page.url()).toBe(`${base}/`);
    await page.getByRole('row').filter({ hasText: 'Ledger import' }).waitFor();
    await page.locator('[data-testid=count-ALL]').filter({ hasText: '32' }).waitFor();
    await page.locator('[data-testid=count-FAILED]').filter({ hasText: '1' }).waitFor();
    await noSeriousViolations(page);
    await screenshot(page, 'jobs');

    // A job created elsewhere arrives without a reload, and the counters follow.
    await gqlAs('ada', 'mutation { createJob(input: { name: "Arrives live", type: "import", scope: "acme/ops" }) { id } }');
    await page.getByRole('row').filter({ hasText: 'Arrives live' }).waitFor();
    await page.locator('[data-testid=count-ALL]').filter({ hasText: '33' }).waitFor();
  });

  test('tabs, search and filters live in the URL, and the back button restores them', async () => {
    const page = await open('ada');
    await page.getByRole('row').filter({ hasText: 'Ledger import' }).waitFor();
    await page.getByRole('tab', { name: /Failed/ }).click();
    await page.waitForURL(/tab=failed/);
    // The All tab's rows stay until the Failed tab's answer replaces them: wait for it, then look.
    await page.getByRole('row').filter({ hasText: 'Nightly export' }).first().waitFor({ state: 'detached' });
    await page.getByRole('row').filter({ hasText: 'Ledger import' }).waitFor();
    expect(await page.getByRole('row').filter({ hasText: 'Nightly export' }).count()).toBe(0);
    await screenshot(page, 'jobs-failed-tab');

    await page.getByRole('tab', { name: /All/ }).click();
    await page.waitForURL((url) => !url.search.includes('tab='));
    await page.keyboard.press('/');
    await page.getByRole('searchbox', { name: 'Search by name' }).fill('Nightly export 1');
    await page.keyboard.press('Enter');
    await page.waitForURL(/q=Nightly/);
    await page.getByRole('row').filter({ hasText: 'Nightly export 12' }).waitFor();
    await page.getByRole('row').filter({ hasText: 'Ledger import' }).waitFor({ state: 'detached' });

    await page.goBack();
    await page.waitForURL((url) => !url.search.includes('q='));
    await page.getByRole('row').filter({ hasText: 'Ledger import' }).waitFor();

    // A shared link opens the same view.
    const shared = await open('ada', '/?tab=completed&type=export');
    await shared.getByRole('row').filter({ hasText: 'Nightly export 3' }).waitFor();
    expect(await shared.getByRole('row').filter({ hasText: 'Queued cleanup' }).count()).toBe(0);
    expect(await shared.getByRole('tab', { name: /Completed/ }).getAttribute('aria-selected')).toBe('true');
  });

  test('type, owner, scope and status pickers show their counts and filter the list and the URL; attribute filters too', async () => {
    await insertJobs(suite.db.pool, [
      { name: 'Prod sync', type: 'sync', scope: 'acme/sync', status: 'SUCCEEDED', attributes: { env: 'prod', connector: 'oracle' } },
      { name: 'Dev sync', type: 'sync', scope: 'acme/sync', status: 'FAILED', attributes: { env: 'dev', connector: 'oracle' } },
    ]);
    const page = await open('ada');
    await page.getByRole('row').filter({ hasText: 'Ledger import' }).waitFor();
    const type = page.getByRole('combobox', { name: 'Type' });
    // The options come from jobFacets, each with its count.
    await type.locator('option', { hasText: /^export \(30\)$/ }).waitFor({ state: 'attached' });
    await type.selectOption('export');
    await page.waitForURL(/type=export/);
    await page.getByRole('row').filter({ hasText: 'Nightly export 7' }).waitFor();
    await page.getByRole('row').filter({ hasText: 'Ledger import' }).waitFor({ state: 'detached' });
    // The status picker offers the statuses the API counts among the chosen type's jobs.
    const status = page.getByRole('combobox', { name: 'Status' });
    await status.locator('option', { hasText: /^Succeeded \(30\)$/ }).waitFor({ state: 'attached' });
    expect(await status.locator('option', { hasText: /^Failed/ }).count()).toBe(0);
    await noSeriousViolations(page);
    await screenshot(page, 'jobs-pickers');

    await type.selectOption('');
    await page.waitForURL((url) => !url.search.includes('type='));
    const owner = page.getByRole('combobox', { name: 'Owner' });
    await owner.locator('option', { hasText: /^ada \(\d+\)$/ }).waitFor({ state: 'attached' });
    await owner.selectOption('ada');
    await page.waitForURL(/owner=ada/);
    await page.getByRole('row').filter({ hasText: 'Arrives live' }).waitFor();
    await page.getByRole('row').filter({ hasText: 'Ledger import' }).waitFor({ state: 'detached' });
    await owner.selectOption('');
    await page.waitForURL((url) => !url.search.includes('owner='));

    const scope = page.getByRole('combobox', { name: 'Scope' });
    await scope.locator('option', { hasText: /^acme\/sync \(2\)$/ }).waitFor({ state: 'attached' });
    await scope.selectOption('acme/sync');
    await page.waitForURL(/scope=acme%2Fsync/);
    await page.getByRole('row').filter({ hasText: 'Dev sync' }).waitFor();
    await page.getByRole('row').filter({ hasText: 'Ledger import' }).waitFor({ state: 'detached' });

    const attributes = page.getByRole('textbox', { name: 'Attributes' });
    await attributes.fill('env=prod, connector=oracle');
    await attributes.press('Enter');
    await page.waitForURL((url) => url.searchParams.getAll('attr').join(',') === 'env=prod,connector=oracle');
    await page.getByRole('row').filter({ hasText: 'Prod sync' }).waitFor();
    await page.getByRole('row').filter({ hasText: 'Dev sync' }).waitFor({ state: 'detached' });
    await screenshot(page, 'jobs-attributes');

    // The back button undoes the attribute filter; a shared link restores it.
    await page.goBack();
    await page.getByRole('row').filter({ hasText: 'Dev sync' }).waitFor();
    const shared = await open('ada', '/?attr=env%3Ddev');
    await shared.getByRole('row').filter({ hasText: 'Dev sync' }).waitFor();
    expect(await shared.getByRole('textbox', { name: 'Attributes' }).inputValue()).toBe('env=dev');
    expect(await shared.getByRole('row').filter({ hasText: 'Prod sync' }).count()).toBe(0);
  });

  test('progress moves without a reload while a worker reports; an operator cancels from the job page', async () => {
    const created = (await gqlAs(
      'oscar',
      'mutation { createJob(input: { name: "Mailbox migration", type: "migrate", scope: "acme/mail" }) { id } }',
    )) as {
      createJob: { id: string };
    };
    const id = created.createJob.id;
    const lease = await claim('migrate');
    const page = await open('oscar', `/jobs/${id}`);
    await page.getByRole('heading', { name: 'Mailbox migration' }).waitFor();
    await page.getByTestId('job-status').filter({ hasText: 'Running' }).waitFor();
    await report(lease, 25, 100);
    await page.getByText('25%').first().waitFor();
    await report(lease, 60, 100);
    await page.getByText('60%').first().waitFor();
    await noSeriousViolations(page);
    await screenshot(page, 'job-running');

    await page.getByRole('button', { name: 'Cancel job' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Reason (optional)').fill('wrong mailbox');
    await noSeriousViolations(page);
    await dialog.getByRole('button', { name: 'Cancel job' }).click();
    await page
      .getByTestId('job-status')
      .filter({ hasText: /Cancelling|Cancelled/ })
      .waitFor();
    await page.getByRole('listitem').filter({ hasText: 'wrong mailbox' }).first().waitFor();
  });

  test('a viewer sees the job but no enabled action', async () => {
    const [job] = await insertJobs(suite.db.pool, [{ name: 'Viewer sees this', type: 'import', status: 'PENDING' }]);
    const page = await open('vera', `/jobs/${job!.id}`);
    await page.getByRole('heading', { name: 'Viewer sees this' }).waitFor();
    // The viewer's rules have been read (the header names them) before actions are counted.
    await page.getByRole('banner').getByText('vera').waitFor();
    await page.getByRole('heading', { name: 'Details' }).waitFor();
    // The actions group is rendered (a viewer's is empty: no action is shown to them) before it is looked in.
    await page.getByRole('group', { name: 'Actions' }).waitFor({ state: 'attached' });
    expect(await page.getByRole('group', { name: 'Actions' }).getByRole('button', { disabled: false }).count()).toBe(0);
    await noSeriousViolations(page);
    await screenshot(page, 'job-viewer');
    const list = await open('vera');
    await list.getByRole('row').filter({ hasText: 'Viewer sees this' }).waitFor();
    await list.getByRole('banner').getByText('vera').waitFor();
    expect(await list.getByRole('button', { name: /^Cancel/ }).count()).toBe(0);
    expect(await list.getByRole('group', { name: 'Bulk actions' }).count()).toBe(0);
  });

  test('a failed job shows its error and stack trace', async () => {
    await gqlAs('ada', 'mutation { createJob(input: { name: "Breaks badly", type: "fragile", scope: "acme/ops" }) { id } }');
    const lease = await claim('fragile');
    const failed = await suite.server.gql<{ failJob: { id: string } }>(
      worker,
      'mutation($l: String!) { failJob(lease: $l, error: "relation \\"ledger\\" does not exist", stack: "Error: relation\\n    at importLedger (worker.js:42:7)") { id } }',
      { l: lease },
    );
    expect(failed.errors).toBeUndefined();
    const page = await open('ada', `/jobs/${failed.data!.failJob.id}`);
    await page.getByRole('heading', { name: /Error/ }).waitFor();
    await page.getByText('relation "ledger" does not exist').first().waitFor();
    await page
      .getByRole('region', { name: /^Error/ })
      .getByText('at importLedger (worker.js:42:7)')
      .waitFor();
    await noSeriousViolations(page);
    await screenshot(page, 'job-failed');
  });

  test("the attempts list shows an earlier attempt's error and stack after a restart", async () => {
    const created = (await gqlAs(
      'ada',
      'mutation { createJob(input: { name: "Flaky load", type: "flaky", scope: "acme/ops" }) { id } }',
    )) as { createJob: { id: string } };
    const id = created.createJob.id;
    const first = await claim('flaky');
    const failed = await suite.server.gql(
      worker,
      'mutation($l: String!) { failJob(lease: $l, error: "socket hang up", stack: "Error: socket hang up\\n    at loadBatch (loader.js:17:3)") { id } }',
      { l: first },
    );
    expect(failed.errors).toBeUndefined();
    await gqlAs('ada', 'mutation($id: ID!) { restartJob(id: $id, runNow: true) { id } }', { id });
    const second = await claim('flaky');
    const readsBefore = await attemptReads();
    const page = await open('ada', `/jobs/${id}`);
    const attempts = page.getByRole('region', { name: 'Attempts' });
    await attempts.getByRole('row').filter({ hasText: 'Running' }).filter({ hasText: 'w-1' }).waitFor();
    const earlier = attempts.locator('tr[data-attempt="1"]');
    await earlier.getByText('socket hang up').first().waitFor();
    await earlier.getByText('Failed').waitFor();
    await earlier.getByText('Stack trace of attempt 1').click();
    await earlier.getByText('at loadBatch (loader.js:17:3)').waitFor();
    await noSeriousViolations(page);
    await screenshot(page, 'job-attempts');
    // Read once when the page opened (not twice), and again when the running attempt ends, pushed live.
    expect((await attemptReads()) - readsBefore).toBe(1);
    const ended = await suite.server.gql(worker, 'mutation($l: String!) { failJob(lease: $l, error: "disk full") { id } }', { l: second });
    expect(ended.errors).toBeUndefined();
    await attempts.locator('tr[data-attempt="2"]').getByText('disk full').first().waitFor();
    expect((await attemptReads()) - readsBefore).toBe(2);
  });

  test('bulk delete and restart by filter: a dry run says how many of the matching jobs the viewer may change, then changes them', async () => {
    await createRole(suite.db.pool, 'ops-purger', [
      { action: 'view_monitor', subject: 'Job' },
      { action: 'delete', subject: 'Job', conditions: { scope: 'acme/ops' } },
    ]);
    await grant(suite.db.pool, 'pat', 'ops-purger');
    await insertJobs(suite.db.pool, [
      { name: 'Purge me 1', type: 'purge', scope: 'acme/ops', status: 'SUCCEEDED' },
      { name: 'Purge me 2', type: 'purge', scope: 'acme/ops', status: 'SUCCEEDED' },
      { name: 'Purge me 3', type: 'purge', scope: 'acme/ops', status: 'FAILED' },
      { name: 'Purge still running', type: 'purge', scope: 'acme/ops', status: 'RUNNING' },
      { name: 'Purge elsewhere', type: 'purge', scope: 'acme/payments', status: 'SUCCEEDED' },
    ]);
    const page = await open('pat', '/?type=purge');
    await page.getByRole('row').filter({ hasText: 'Purge elsewhere' }).waitFor();
    const bulk = page.getByRole('group', { name: 'Bulk actions' });
    // Pat's rules grant delete only: no bulk cancel or restart.
    await bulk.getByRole('button', { name: 'Delete all matching…' }).waitFor();
    expect(await bulk.getByRole('button', { name: /Cancel all|Restart all/ }).count()).toBe(0);
    await bulk.getByRole('button', { name: 'Delete all matching…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('3 of 5 matching jobs can be deleted by you.').waitFor();
    await dialog.getByText('Why 2 are left alone').click();
    await dialog.getByRole('listitem').filter({ hasText: 'Purge elsewhere' }).waitFor();
    await noSeriousViolations(page);
    await screenshot(page, 'jobs-bulk-delete');
    await dialog.getByRole('button', { name: 'Delete 3 jobs' }).click();
    await page.getByRole('status').filter({ hasText: '3 deleted, 2 left alone.' }).waitFor();
    await page.getByRole('row').filter({ hasText: 'Purge me 1' }).waitFor({ state: 'detached' });
    await page.getByRole('row').filter({ hasText: 'Purge me 3' }).waitFor({ state: 'detached' });
    await page.getByRole('row').filter({ hasText: 'Purge still running' }).waitFor();
    await page.getByRole('row').filter({ hasText: 'Purge elsewhere' }).waitFor();

    // An operator may restart every finished job: the running one is left alone.
    const operator = await open('oscar', '/?type=purge');
    const operatorBulk = operator.getByRole('group', { name: 'Bulk actions' });
    await operatorBulk.getByRole('button', { name: 'Restart all matching…' }).click();
    const restart = operator.getByRole('dialog');
    await restart.getByText('1 of 2 matching jobs can be restarted by you.').waitFor();
    await restart.getByRole('button', { name: 'Restart 1 job' }).click();
    await operator.getByRole('status').filter({ hasText: '1 restarted, 1 left alone.' }).waitFor();
    await operator.getByRole('row').filter({ hasText: 'Purge elsewhere' }).getByText('Pending').waitFor();
  });

  test('notifications arrive live, with the unread count, and are marked read', async () => {
    const page = await open('nina', '/notifications');
    await page.getByRole('heading', { name: 'Notifications' }).waitFor();
    await page.getByTestId('unread-count').filter({ hasText: /^0$/ }).waitFor();
    await gqlAs('nina', 'mutation { createJob(input: { name: "Nina report", type: "report", scope: "acme/ops" }) { id } }');
    await claim('report');
    await page.getByRole('listitem').filter({ hasText: 'Nina report' }).filter({ hasText: 'Started' }).waitFor();
    await page.getByTestId('unread-badge').filter({ hasText: '1' }).waitFor();
    await noSeriousViolations(page);
    await screenshot(page, 'notifications');
    await page.getByRole('button', { name: /Mark started of Nina report read/ }).click();
    await page.getByTestId('unread-count').filter({ hasText: /^0$/ }).waitFor();
    await page.getByTestId('unread-badge').waitFor({ state: 'detached' });
  });

  test("an admin grants a role and the grantee's view changes; revoking the last admin is refused with the reason", async () => {
    await insertJobs(suite.db.pool, [{ name: 'Seen after the grant', type: 'import', status: 'PENDING' }]);
    const grantee = await open('gina');
    await grantee.getByText('No job matches.').waitFor();

    const admin = await open('ada', '/admin');
    await admin.getByRole('tab', { name: 'Grants' }).click();
    const form = admin.getByRole('form', { name: 'Grant a role' });
    await form.getByLabel('User').fill('gina');
    await form.getByLabel('Role').selectOption('viewer');
    await form.getByRole('button', { name: 'Grant role' }).click();
    await admin.getByRole('status').filter({ hasText: 'Granted viewer to gina' }).waitFor();
    await noSeriousViolations(admin);
    await screenshot(admin, 'admin-grants');

    // The grantee's tab comes back into focus: the console reads the viewer's rules again.
    await grantee.evaluate("window.dispatchEvent(new Event('focus'))");
    await grantee.getByRole('row').filter({ hasText: 'Seen after the grant' }).waitFor();

    await admin.getByRole('searchbox', { name: 'Grants of user' }).fill('ada');
    await admin.getByRole('button', { name: 'Show' }).click();
    await admin.getByRole('button', { name: 'Revoke admin from ada' }).click();
    await admin.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
    await admin.getByRole('dialog').getByRole('alert').filter({ hasText: 'last admin' }).waitFor();

    await admin.getByRole('dialog').getByRole('button', { name: 'Back' }).click();
    await admin.getByRole('tab', { name: 'Roles' }).click();
    await admin.getByRole('button', { name: 'New role' }).click();
    const role = admin.getByRole('form', { name: 'New role' });
    await role.getByLabel('Name', { exact: true }).fill('night-shift');
    await role.getByLabel('Rules (CASL, JSON)').fill('[{ "action": "fly", "subject": "Job" }]');
    await role.getByRole('button', { name: 'Save role' }).click();
    await role.getByRole('alert').waitFor();
    await screenshot(admin, 'admin-roles');
  });

  test('an admin creates an email alert rule beside webhooks', async () => {
    const admin = await open('ada', '/admin');
    await admin.getByRole('tab', { name: 'Alert rules' }).click();
    const form = admin.getByRole('form', { name: 'New alert rule' });
    await form.getByLabel('Name', { exact: true }).fill('On-call failures');
    await form.getByRole('radio', { name: 'Email' }).check();
    await form.getByLabel('Email address').fill('oncall@example.com');
    await form.getByRole('button', { name: 'Create alert rule' }).click();
    await admin.getByRole('status').filter({ hasText: 'alerts go to oncall@example.com' }).waitFor();
    await admin.getByRole('row').filter({ hasText: 'On-call failures' }).filter({ hasText: 'email oncall@example.com' }).waitFor();
    expect(await admin.getByTestId('alert-secret').count()).toBe(0);
    await noSeriousViolations(admin);
    await screenshot(admin, 'admin-alert-email');
  });

  test('a type page charts runs, failures and p50/p95 per hour or day beside its statistics (dark mode, from the system setting)', async () => {
    const now = Date.now();
    await insertJobs(
      suite.db.pool,
      Array.from({ length: 12 }, (_, i) => ({
        name: `Report build ${i}`,
        type: 'report-build',
        status: i === 3 ? 'FAILED' : 'SUCCEEDED',
        created_at: new Date(now - (i + 2) * 3_600_000),
        started_at: new Date(now - (i + 2) * 3_600_000),
        finished_at: new Date(now - (i + 2) * 3_600_000 + (60 + i * 15) * 1000),
      })),
    );
    const page = await open('ada', '/types/report-build', { colorScheme: 'dark' });
    await page.getByRole('heading', { name: 'Type report-build' }).waitFor();
    await page.getByRole('img', { name: 'Runs and failures per hour, last 48 hours' }).locator('canvas').waitFor();
    await page.getByRole('img', { name: 'Duration p50 and p95 per hour, last 48 hours' }).locator('canvas').waitFor();
    await page.getByText('91.7%').waitFor();
    await page.getByRole('radio', { name: 'Day' }).check();
    await page.getByRole('img', { name: 'Runs and failures per day, last 30 days' }).locator('canvas').waitFor();
    await noSeriousViolations(page);
    await screenshot(page, 'type-dark');
    await page.getByRole('link', { name: 'Jobs', exact: true }).click();
    await page.getByRole('heading', { name: 'Jobs' }).waitFor();
    await noSeriousViolations(page);
    await screenshot(page, 'jobs-dark');
  });

  test('an expired link or session brings the sign-in page back, and a pasted token signs in', async () => {
    const expired = await open('ada', '/', { ttlSeconds: -60 });
    await expired.getByRole('heading', { name: 'Sign in to Jobwatch' }).waitFor();
    await expired.getByRole('alert').filter({ hasText: 'expired' }).waitFor();
    await noSeriousViolations(expired);
    await screenshot(expired, 'signin');
    await expired.getByLabel('Access token (JWT)').fill(await token('ada'));
    await expired.getByRole('button', { name: 'Sign in' }).click();
    await expired.getByRole('heading', { name: 'Jobs' }).waitFor();

    // A session that runs out while the page is open. Its two minutes are moved on by the page's
    // clock, not waited out, and not so short that a slow first load outlives it.
    const shortLived = await open('ada', '/', { ttlSeconds: 120, fakeClock: true });
    await shortLived.getByRole('heading', { name: 'Jobs' }).waitFor();
    await shortLived.clock.fastForward('03:00');
    await shortLived.getByRole('heading', { name: 'Sign in to Jobwatch' }).waitFor();
    await shortLived.getByRole('alert').filter({ hasText: 'expired' }).waitFor();
  });

  test('performance: first rows painted, 100 visible rows updating at 10 messages/s (figures in test-output/console/perf.json)', async () => {
    const running = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        await gqlAs(
          'ada',
          `mutation { createJob(input: { name: "Busy ${String(i).padStart(3, '0')}", type: "busy", scope: "acme/load" }) { id } }`,
        );
        return claimed('busy');
      }),
    );
    const context = await browser.newContext({ viewport: { width: 1400, height: 4900 }, locale: 'en-US' });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(60_000);
    // In the page: long tasks, and when 50 rows are in the DOM and painted (the next frame).
    await page.addInitScript({
      content: `
        window.longTasks = [];
        new PerformanceObserver((list) => list.getEntries().forEach((e) => window.longTasks.push(e.duration))).observe({ type: 'longtask', buffered: true });
        document.addEventListener('DOMContentLoaded', () => {
          const seen = new MutationObserver(() => {
            if (document.querySelectorAll('[data-job-id]').length >= 50) {
              seen.disconnect();
              requestAnimationFrame(() => document.documentElement.setAttribute('data-rows-at', String(performance.now())));
            }
          });
          seen.observe(document.body, { childList: true, subtree: true });
        });`,
    });
    await page.goto(`${base}/?type=busy#token=${await token('ada')}`);
    const firstRowsMs = Number(await page.locator('html[data-rows-at]').getAttribute('data-rows-at'));
    // The first page has 50 rows; the second comes from a query of its own: wait for all 100.
    await page.locator('[data-job-id]').nth(99).waitFor();
    await page.evaluate('window.longTasks = []');

    // 10 progress messages a second for 5 seconds, each to one of the 100 visible jobs.
    const rows = await page.locator('[data-job-id]').count();
    for (let tick = 0; tick < 50; tick++) {
      const started = Date.now();
      await report(running[tick % running.length]!.lease, tick + 1, 100);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 100 - (Date.now() - started))));
    }
    await report(running[0]!.lease, 99, 100);
    await page.getByRole('row').filter({ hasText: running[0]!.name }).getByText('99%').waitFor();
    const longTasks = await page.evaluate<number[]>('window.longTasks');
    const figures = {
      firstRowsPaintedMs: Math.round(firstRowsMs),
      visibleRows: rows,
      messages: 51,
      longTasksOver50ms: longTasks.filter((d) => d > 50).length,
      longestTaskMs: Math.round(Math.max(0, ...longTasks)),
    };
    writeFileSync(path.join(OUTPUT_DIR, 'perf.json'), JSON.stringify(figures, null, 2) + '\n');
    process.stdout.write(`console performance: ${JSON.stringify(figures)}\n`);
    expect(rows).toBeGreaterThanOrEqual(100);
    await screenshot(page, 'jobs-100-running');
  });
});
