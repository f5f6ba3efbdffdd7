/**
 * The narrow floor: the least any server can do to answer a scenario's page. A bare node:http
 * server with a pg Pool as large as the API's, running the API's own SQL (built by the app's
 * functions) but selecting only the columns the page asks for, and answering the rows as JSON.
 * No auth, no GraphQL, no permission reads (the predicate is in the SQL, built once).
 *
 * Environment: DATABASE_URL, PORT, BENCH_INPUTS (the scenario sets' inputs as JSON), POOL_SIZE (10).
 * GET /scenario/<id> answers the page; GET /healthz answers once the abilities are loaded.
 */
import { createServer } from 'node:http';
import { Pool } from 'pg';
import type { AppAbility } from '../../src/permissions/ability';
import { loadAbility } from './list-sql';
import { buildScenarios } from './scenario-sets';
import { BENCH_GRANTS, type FloorContext } from './scenarios';

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is required`);
  return value;
}

async function main(): Promise<void> {
  const scenarios = buildScenarios(JSON.parse(required('BENCH_INPUTS')) as Record<string, unknown>);
  const pool = new Pool({ connectionString: required('DATABASE_URL'), max: Number(process.env['POOL_SIZE'] ?? 10) });
  const abilities = new Map<string, AppAbility>();
  for (const [user] of BENCH_GRANTS) abilities.set(user, await loadAbility(pool, user));
  const context: FloorContext = {
    pool,
    ability: (user) => {
      const ability = abilities.get(user);
      if (ability === undefined) throw new Error(`no bench user ${user}`);
      return ability;
    },
  };
  const byPath = new Map(scenarios.map((scenario) => [`/scenario/${scenario.id}`, scenario]));

  const server = createServer((req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    const scenario = req.url === undefined ? undefined : byPath.get(req.url);
    if (scenario === undefined) {
      res.writeHead(404).end();
      return;
    }
    scenario.floor(context).then(
      (answer) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer)),
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
    void pool.end().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`floor: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
