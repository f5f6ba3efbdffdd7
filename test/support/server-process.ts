import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
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
  /** What it wrote to stderr (a crash's stack, say). */
  readonly stderr: () => string;
  /** Every line it wrote to stdout, as written (LOG_FORMAT=pretty writes no JSON). */
  readonly output: string[];
  gql<T = Record<string, unknown>>(
    bearer: string | undefined,
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<GraphQLResponse<T>>;
}

const running: ChildProcess[] = [];

/** Kills (SIGKILL) every server process still running: call it in afterEach, so a failed test leaves none behind. */
export function killServerProcesses(): void {
  for (const child of running.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** Thrown when the port was taken by another process before the child could listen on it. */
class PortTakenError extends Error {}

/**
 * Whether process `pid` holds a socket listening on TCP `port`, from Linux's /proc; undefined
 * where /proc cannot say.
 */
function listensOn(pid: number, port: number): boolean | undefined {
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const sockets = new Set<string>();
  let tables = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    tables += 1;
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st ... inode: LISTEN is st 0A.
      const fields = line.trim().split(/\s+/);
      if (fields[1]?.endsWith(hexPort) === true && fields[3] === '0A' && fields[9] !== undefined) sockets.add(`socket:[${fields[9]}]`);
    }
  }
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return undefined;
  }
  if (tables === 0) return undefined;
  for (const fd of fds) {
    try {
      if (sockets.has(readlinkSync(`/proc/${pid}/fd/${fd}`))) return true;
    } catch {
      // Closed meanwhile.
    }
  }
  return false;
}

/**
 * Starts the server on `databaseUrl` with the test secrets and `env`, and waits until /readyz
 * answers. `env.PORT` chooses the port (a restart on the same address); else a free one.
 */
export async function startServerProcess(databaseUrl: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  // A free port is free when findFreePort looks, not for sure when the child listens: the system
  // may hand it to another process meanwhile (another test file's server, say). Then try another.
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startOnce(databaseUrl, env);
    } catch (error) {
      if (!(error instanceof PortTakenError) || env['PORT'] !== undefined || attempt >= 3) throw error;
    }
  }
}

async function startOnce(databaseUrl: string, env: Record<string, string>): Promise<ServerProcess> {
  // env.PORT: a restart on the port its clients know.
  const port = env['PORT'] !== undefined ? Number(env['PORT']) : await findFreePort();
  // Its own data directory, removed once it has exited (a DATA_DIR given in env is the caller's to keep).
  const dataDir = mkdtempSync(path.join(tmpdir(), 'jobwatch-child-'));
  const child = spawn(process.execPath, ['-r', './test/support/ts-register.js', 'src/main.ts'], {
    cwd: path.resolve(__dirname, '../..'),
    env: {
      ...process.env,
      NODE_ENV: 'test',
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      JWT_SECRET: TEST_JWT_SECRET,
      SECRETS_KEY: TEST_SECRETS_KEY,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      DAEMON_INTERVAL_MS: '3600000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  const lines: Array<Record<string, unknown>> = [];
  const output: string[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    output.push(line);
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // Not a log line.
    }
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    if (stderr.length < 100_000) stderr += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      rmSync(dataDir, { recursive: true, force: true });
      resolve({ code, signal });
    }),
  );
  await eventually(
    () => {
      // Exited (its port taken, say): say why now rather than wait, or take another server's answer for its own.
      if (child.exitCode !== null || child.signalCode !== null) {
        const why = `the server process exited (${child.exitCode ?? child.signalCode}): ${stderr.slice(-2000)}`;
        throw stderr.includes('EADDRINUSE') ? new PortTakenError(why) : new Error(why);
      }
      return fetch(`http://127.0.0.1:${port}/readyz`).then(
        (response) => response.ok,
        () => false,
      );
    },
    (ready) => ready,
    // It compiles the TypeScript it loads: on a busy machine that takes a while.
    60_000,
    'the server process to be ready',
  );
  // What answered may be another process that took the port first (the child then fails to
  // listen, but maybe only after that answer): its tests would talk to a stranger, on another
  // database, which goes away when its own test file ends.
  if (listensOn(child.pid as number, port) === false) {
    child.kill('SIGKILL');
    await exited;
    throw new PortTakenError(`port ${port} was answered by another process than the server started on it: ${stderr.slice(-2000)}`);
  }
  const url = `http://127.0.0.1:${port}/graphql`;
  return {
    url,
    process: child,
    exited,
    lines,
    stderr: () => stderr,
    output,
    gql: (bearer, query, variables) => postGraphQL(url, bearer, query, variables),
  };
}
