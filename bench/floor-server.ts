/**
 * The floor: the least any server can do to answer a scenario's page. A bare node:http server
 * with a pg Pool as large as the API's, running exactly the API's SQL (built by the app's own
 * functions, see lib/list-sql.ts) and answering JSON.stringify(rows). No auth, no GraphQL.
 *
 * Environment: DATABASE_URL, PORT, BENCH_SCENARIOS (the scenarios as JSON), POOL_SIZE (10).
 * GET /scenario/<id> answers the page; GET /healthz answers once the abilities are loaded.
 */
import { createServer } from 'node:http';
import { Pool } from 'pg';
import { sqlOf } from '../src/db/sql';
import { listJobs, type ListJobsQuery } from '../src/jobs/sql/list-jobs';
import { listQuery, loadAbility } from './lib/list-sql';
import type { Scenario } from './lib/scenarios';

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is required`);
  return value;
}

async function main(): Promise<void> {
  const scenarios = JSON.parse(required('BENCH_SCENARIOS')) as Scenario[];
  const pool = new Pool({ connectionString: required('DATABASE_URL'), max: Number(process.env['POOL_SIZE'] ?? 10) });
  const sql = sqlOf(pool);
  const queries = new Map<string, ListJobsQuery>();
  for (const scenario of scenarios) queries.set(`/scenario/${scenario.id}`, listQuery(scenario, await loadAbility(pool, scenario.user)));

  const server = createServer((req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    const query = req.url === undefined ? undefined : queries.get(req.url);
    if (query === undefined) {
      res.writeHead(404).end();
      return;
    }
    listJobs(sql, query).then(
      ({ rows }) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(rows)),
      (error: unknown) => {
        process.stderr.write(`floor: ${error instanceof Error ? error.message : String(error)}\n`);
        res.writeHead(500).end();
      },
    );
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(Number(required('PORT')), '127.0.0.1', resolve));

  const stop = () => {
    server.close();
    server.closeAllConnections();
    pool.end().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`floor: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
