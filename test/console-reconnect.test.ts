import AxeBuilder from '@axe-core/playwright';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Request } from 'playwright-core';
import { launchBrowser } from './support/browser';
import { apiSuite } from './support/api-suite';
import { buildConsole, OUTPUT_DIR } from './support/console-build';
import { eventually } from './support/eventually';
import { insertJobs } from './support/fixtures';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy';

/**
 * The console's connection to the server is cut while the page is open (every socket reset by a
 * proxy in front of the server, and new ones refused, as a restarting server or a dropped network
 * would): the page says it is reconnecting, and once the server is reachable again the banner goes
 * and the view is true again: a job that changed meanwhile shows its new status without a reload.
 */
jest.setTimeout(180_000);

const suite = apiSuite({ grants: [['ada', 'admin']], users: ['ada'] });
let proxy: FaultProxy;
let browser: Browser;
suite.disposeFirst(async () => {
  await browser?.close();
  await proxy?.close();
});

beforeAll(async () => {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  buildConsole();
  proxy = await startFaultProxy(`http://127.0.0.1:${suite.server.port}`);
  browser = await launchBrowser();
});

test('a cut connection shows the reconnect banner; after it the view is true again', async () => {
  const [waiting, other] = await insertJobs(suite.db.pool, [
    { name: 'Changes while offline', type: 'import', status: 'PENDING' },
    { name: 'Created before the cut', type: 'import', status: 'PENDING' },
  ]);
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, locale: 'en-US' });
  try {
    const page = await context.newPage();
    page.setDefaultTimeout(60_000);
    await page.goto(`http://127.0.0.1:${proxy.port}/#token=${suite.tokens['ada']}`);
    const row = page.getByRole('row').filter({ hasText: 'Changes while offline' });
    await row.getByText('Pending').waitFor();
    await page.getByRole('row').filter({ hasText: other!.name! }).waitFor();
    const banner = page.getByRole('status').filter({ hasText: 'reconnecting' });
    expect(await banner.count()).toBe(0);
    // The rows above came over HTTP: the socket may still be connecting, and a cut then is a first
    // connection failing, not a lost one (no banner). Cut it once it is up, and once the viewer has
    // been read (the page draws before it): a page that could read nothing at all says so instead.
    await page.locator('header[data-connection=connected]').waitFor();
    await page.locator('header .viewer').filter({ hasText: 'ada' }).waitFor();

    await proxy.reset();
    await banner.waitFor();
    const axe = await new AxeBuilder({ page }).analyze();
    expect(
      axe.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.id}: ${v.nodes.map((n) => `${n.target.join(' ')} ${n.failureSummary ?? ''}`).join('; ')}`),
    ).toEqual([]);
    await page.screenshot({ path: path.join(OUTPUT_DIR, 'reconnecting.png') });

    // Meanwhile, straight to the server: one job is cancelled, another is created.
    const cancelled = await suite.server.gql(
      suite.tokens['ada'],
      'mutation($id: ID!) { cancelJob(id: $id, reason: "while you were away") { status } }',
      {
        id: waiting!.id,
      },
    );
    expect(cancelled.errors).toBeUndefined();
    const created = await suite.server.gql(
      suite.tokens['ada'],
      'mutation { createJob(input: { name: "Created during the cut", type: "import", scope: "acme/ops" }) { id } }',
    );
    expect(created.errors).toBeUndefined();
    // Nothing reaches the page while it is cut off.
    expect(await row.getByText('Pending').count()).toBe(1);

    await proxy.up();
    await banner.waitFor({ state: 'detached' });
    await row.getByText('Cancelled').waitFor();
    await page.getByRole('row').filter({ hasText: 'Created during the cut' }).waitFor();
    await page.locator('[data-testid=count-ALL]').filter({ hasText: /^3$/ }).waitFor();
    await page.screenshot({ path: path.join(OUTPUT_DIR, 'reconnected.png') });
  } finally {
    await context.close();
  }
});

test('a page whose live socket cannot connect says so while it retries, and the banner goes once it connects', async () => {
  await insertJobs(suite.db.pool, [{ name: 'Seen over HTTP', type: 'import', status: 'PENDING' }]);
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, locale: 'en-US' });
  try {
    const page = await context.newPage();
    page.setDefaultTimeout(60_000);
    // The page's WebSocket is closed before the server acknowledges it (1013, as an overloaded proxy or a
    // restarting server says), until the test lets it through to the server.
    let letThrough = false;
    let refused = 0;
    await page.routeWebSocket(/\/graphql$/, (socket) => {
      if (letThrough) socket.connectToServer();
      else {
        refused += 1;
        void socket.close({ code: 1013, reason: 'try again later' });
      }
    });
    await page.goto(`http://127.0.0.1:${proxy.port}/#token=${suite.tokens['ada']}`);
    await page.getByRole('row').filter({ hasText: 'Seen over HTTP' }).waitFor();
    const banner = page.getByRole('status').filter({ hasText: 'not connected yet' });
    await banner.waitFor();
    expect(refused).toBeGreaterThan(0);
    expect(await page.locator('header[data-connection=unreachable]').count()).toBe(1);

    letThrough = true;
    await page.locator('header[data-connection=connected]').waitFor();
    await banner.waitFor({ state: 'detached' });
    // Live now: a job created after it connected appears without a reload.
    const created = await suite.server.gql(
      suite.tokens['ada'],
      'mutation { createJob(input: { name: "Created once live", type: "import", scope: "acme/ops" }) { id } }',
    );
    expect(created.errors).toBeUndefined();
    await page.getByRole('row').filter({ hasText: 'Created once live' }).waitFor();
  } finally {
    await context.close();
  }
});

test('a refetch that fails on the network keeps the page and what it showed, never an error page over it', async () => {
  await insertJobs(suite.db.pool, [{ name: 'Shown before the blip', type: 'import', status: 'PENDING' }]);
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, locale: 'en-US' });
  try {
    const page = await context.newPage();
    page.setDefaultTimeout(60_000);
    // Notes whether the page ever replaced itself with the error shown when nothing could be read.
    await page.addInitScript({
      content: `
        window.sawErrorPage = false;
        new MutationObserver(() => {
          if (document.body && document.body.innerText.includes('could not be reached')) window.sawErrorPage = true;
        }).observe(document, { childList: true, subtree: true, characterData: true });`,
    });
    // The viewer is read on load, once more when the socket is up, and again whenever the tab
    // regains focus. A read made after the page has shown everything meets a blip (a connection
    // reset, as when the network drops just then).
    let reads = 0;
    let blip = false;
    await page.route(/\/graphql$/, async (route) => {
      if (!/query Me\b/.test(route.request().postData() ?? '')) return route.fallback();
      reads += 1;
      if (!blip) return route.fallback();
      blip = false;
      return route.abort('connectionreset');
    });
    const isMe = (request: Request) => /query Me\b/.test(request.postData() ?? '');
    await page.goto(`http://127.0.0.1:${proxy.port}/#token=${suite.tokens['ada']}`);
    const row = page.getByRole('row').filter({ hasText: 'Shown before the blip' });
    await row.waitFor();
    await page.locator('header[data-connection=connected]').waitFor();
    await eventually(
      async () => reads,
      (count) => count >= 2,
      30_000,
      'the viewer to be read on load and once connected',
    );

    blip = true;
    const failed = page.waitForEvent('requestfailed', isMe);
    await page.evaluate("window.dispatchEvent(new Event('focus'))");
    await failed;
    // The next read goes through; by its answer the failed one was long handled.
    const answered = page.waitForResponse((response) => isMe(response.request()));
    await page.evaluate("window.dispatchEvent(new Event('focus'))");
    await answered;
    await row.waitFor();
    await page.locator('header[data-connection=connected]').waitFor();
    expect(await page.evaluate<boolean>('window.sawErrorPage')).toBe(false);
  } finally {
    await context.close();
  }
});
