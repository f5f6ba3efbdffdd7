import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import { consoleRoutes } from '../src/server/console-routes';
import { ROOT } from './support/console-build';

/**
 * The console's typed documents are generated from schema/schema.graphql (GraphQL Code Generator,
 * client preset): a schema change or a document edited without regenerating fails here, in CI.
 * In production the console is served and GraphiQL is not.
 */
jest.setTimeout(300_000);

test('the typed documents in web/src/gql match the schema and the documents (node web/codegen.mjs)', () => {
  let output = '';
  try {
    execFileSync(process.execPath, [path.join(ROOT, 'web', 'codegen.mjs'), '--check'], { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' });
  } catch (error) {
    output = String((error as { stderr?: string }).stderr ?? error);
  }
  expect(output).toBe('');
});

test('in production the console is served and GraphiQL is not', async () => {
  // A built console's shape (test/console.test.ts serves the real build).
  const dir = mkdtempSync(path.join(tmpdir(), 'jobwatch-console-'));
  mkdirSync(path.join(dir, 'assets'));
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>Jobwatch</title>');
  writeFileSync(path.join(dir, 'graphiql.html'), '<!doctype html><title>GraphiQL</title>');
  writeFileSync(path.join(dir, 'assets', 'console-abcdefgh.js'), 'export {};');
  const app = express();
  app.use(consoleRoutes({ production: true, dir }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const page = await fetch(`${base}/notifications`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('<title>Jobwatch</title>');
    expect((await fetch(`${base}/assets/console-abcdefgh.js`)).headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${base}/graphiql`)).status).toBe(404);
  } finally {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  }
});
