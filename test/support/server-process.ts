import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { findFreePort } from '../../src/util/free-port';
import { eventually } from './eventually';
import { postGraphQL, TEST_JWT_SECRET, TEST_SECRETS_KEY, type GraphQLResponse } from './test-server';

/** src/main.ts running in a process of its own, as in production: for signals, kills and shutdown. */
export interface ServerProcess {
  readonly url: string;
  readonly process: ChildProcess;
  /** How it ended: the exit code, or the signal that killed it. */
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>;
  /** Its JSON log lines so far (LOG_LEVEL decides how many there are). */
  readonly lines: Array<Record<string, unknown>>;
  gql<T = Record<string, unknown>>(bearer: string | undefined, query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<T>>;
}

const running: ChildProcess[] = [];

/** Kills (SIGKILL) every server process still running: call it in afterEach, so a failed test leaves none behind. */
export function killServerProcesses(): void {
  for (const child of running.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** Starts the server on `databaseUrl` with the test secrets and `env`, and waits until /readyz answers. */
export async function startServerProcess(databaseUrl: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  const port = await findFreePort();
  const child = spawn(process.execPath, ['-r', './test/support/ts-register.js', 'src/main.ts'], {
    cwd: path.resolve(__dirname, '../..'),
    env: {
      ...process.env,
      NODE_ENV: 'test',
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      JWT_SECRET: TEST_JWT_SECRET,
      SECRETS_KEY: TEST_SECRETS_KEY,
      DATA_DIR: mkdtempSync(path.join(tmpdir(), 'jobwatch-child-')),
      LOG_LEVEL: 'silent',
      DAEMON_INTERVAL_MS: '3600000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  running.push(child);
  const lines: Array<Record<string, unknown>> = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // Not a log line.
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  await eventually(
    () => fetch(`http://127.0.0.1:${port}/readyz`).then((response) => response.ok, () => false),
    (ready) => ready,
    30_000,
    'the server process to be ready',
  );
  const url = `http://127.0.0.1:${port}/graphql`;
  return { url, process: child, exited, lines, gql: (bearer, query, variables) => postGraphQL(url, bearer, query, variables) };
}
