import { loadConfig } from '../src/config';
import { eventually } from './support/eventually';
import { killServerProcesses, startServerProcess } from './support/server-process';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { TEST_JWT_SECRET, TEST_SECRETS_KEY } from './support/test-server';

/**
 * Logs people can read: pretty at a terminal in development, JSON for machines; and a last line
 * once a shutdown has finished, so whoever reads the log knows the process ended cleanly.
 */
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});
afterEach(() => killServerProcesses());

describe('LOG_FORMAT', () => {
  test('JSON in production, tests and pipes; pretty only for a terminal in development; set either way', () => {
    const tty = process.stdout.isTTY;
    try {
      process.stdout.isTTY = true;
      expect(loadConfig({}).logFormat).toBe('pretty');
      expect(loadConfig({ NODE_ENV: 'development' }).logFormat).toBe('pretty');
      expect(loadConfig({ NODE_ENV: 'test' }).logFormat).toBe('json');
      expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: TEST_JWT_SECRET, SECRETS_KEY: TEST_SECRETS_KEY }).logFormat).toBe('json');
      process.stdout.isTTY = false;
      expect(loadConfig({}).logFormat).toBe('json');
      expect(loadConfig({ LOG_FORMAT: 'pretty' }).logFormat).toBe('pretty');
    } finally {
      process.stdout.isTTY = tty;
    }
    expect(() => loadConfig({ LOG_FORMAT: 'xml' })).toThrow('LOG_FORMAT must be one of json, pretty, got "xml"');
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(/^LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent/);
  });
});

describe('shutdown', () => {
  test('JSON: after SIGTERM the last line says the shutdown completed, with its duration, and the process exits 0', async () => {
    const server = await startServerProcess(db.url, { LOG_LEVEL: 'info', LOG_FORMAT: 'json' });
    // pino writes to stdout asynchronously: /readyz can answer before the ready line reaches this end of the pipe.
    await eventually(
      () => server.lines.some((line) => line['msg'] === 'Jobwatch is ready'),
      (ready) => ready,
      15_000,
      'the ready line',
    );
    server.process.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    const last = await eventually(
      () => server.lines.at(-1),
      (line) => line?.['msg'] === 'shutdown complete',
      15_000,
      'the last log line',
    );
    expect(last).toMatchObject({ level: 30, service: 'jobwatch', signal: 'SIGTERM', exitCode: 0 });
    expect(last!['durationMs']).toEqual(expect.any(Number));
    expect(server.output.every((line) => line.startsWith('{'))).toBe(true);
    // startServerProcess allows the child a minute to compile its TypeScript on a busy machine.
  }, 150_000);

  test('pretty: people read level, time and message on one line, and the last line survives the exit', async () => {
    const server = await startServerProcess(db.url, { LOG_LEVEL: 'info', LOG_FORMAT: 'pretty' });
    const ready = await eventually(
      () => server.output.find((line) => line.includes('Jobwatch is ready')),
      (line) => line !== undefined,
      15_000,
      'the ready line',
    );
    // "[12:34:56.789] INFO: Jobwatch is ready", then the fields indented below it (read from the pipe maybe a moment later).
    expect(ready).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: Jobwatch is ready$/);
    await eventually(
      () => server.output,
      (output) => output.some((line) => /^ {4}url: "http:\/\/127\.0\.0\.1:\d+\/graphql"$/.test(line)),
      15_000,
      'the url field below the ready line',
    );
    expect(server.lines).toEqual([]);
    server.process.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    await eventually(
      () => server.output.filter((line) => /^\[/.test(line)).at(-1) ?? '',
      (line) => / INFO: shutdown complete$/.test(line),
      15_000,
      'the pretty shutdown line',
    );
  }, 150_000);
});
