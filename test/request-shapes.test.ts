import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import pino from 'pino';
import { requestLogging } from '../src/server/request-logging';

/**
 * Every request has the same hidden class. An accessor defined on each request (as `req.log`
 * was) gives each one a hidden class of its own: V8 keeps those in the old generation, pointing
 * at the request's closures, so every young collection kept every request and all it reached
 * alive, and promoted it (a third of what a list request allocated, and half of the API's CPU
 * figure against the floor in `npm run bench:list`). The benchmark shows the cost; this shows
 * the cause, exactly: V8's own answer to "do these two objects share a hidden class?".
 */
setFlagsFromString('--allow-natives-syntax');
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- V8's intrinsic can only be reached through source text
const sameHiddenClass = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;

let server: Server;
let base: string;
const seen: IncomingMessage[] = [];
const lines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logRequest = requestLogging(pino({ level: 'info' }, sink));
  server = createServer((req, res) => {
    logRequest(req as Parameters<typeof logRequest>[0], res as Parameters<typeof logRequest>[1], () => {
      seen.push(req);
      req.log.info({ asked: req.url }, 'handled');
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

test('two requests through the request logging share one hidden class, and each still logs with its own id', async () => {
  expect(sameHiddenClass({ a: 1 }, { a: 2 })).toBe(true);
  expect(sameHiddenClass({ a: 1 }, { b: 1 })).toBe(false);

  const first = await fetch(`${base}/one`, { headers: { 'x-request-id': 'first-request' } });
  const second = await fetch(`${base}/two`);
  expect([first.status, second.status]).toEqual([200, 200]);
  await Promise.all([first.text(), second.text()]);
  expect(first.headers.get('x-request-id')).toBe('first-request');
  const secondId = second.headers.get('x-request-id');
  expect(secondId).toMatch(/^[0-9a-f-]{36}$/);

  expect(seen).toHaveLength(2);
  const [one, two] = seen as [IncomingMessage, IncomingMessage];
  expect(sameHiddenClass(one, two)).toBe(true);
  // The log is not an own property of the request: it is made, once, when first used.
  expect(Object.getOwnPropertyDescriptor(one, 'log')).toBeUndefined();
  expect(one.log).toBe(one.log);

  const handled = lines.filter((line) => line['msg'] === 'handled');
  expect(handled.map((line) => [(line['req'] as { id: string }).id, line['asked']])).toEqual([
    ['first-request', '/one'],
    [secondId, '/two'],
  ]);
});
