import { Client, types } from 'pg';
import { ISO_TEXT, isoText, parseTimestamptz } from '../src/db/pg-timestamps';
import { createTestDatabase, type TestDatabase } from './support/test-database';

/** pg's own timestamptz parser (postgres-date), the reference. */
const reference = types.getTypeParser(1184) as (text: string) => Date | number | null;
const instant = (value: Date | number | null) => (value instanceof Date ? value.getTime() : value);

let db: TestDatabase;
let client: Client;

beforeAll(async () => {
  db = await createTestDatabase();
  // A client of its own: the texts are read raw, as Postgres writes them.
  client = new Client({ connectionString: db.url, types: { getTypeParser: () => (text: string) => text } });
  await client.connect();
});
afterAll(async () => {
  await client?.end();
  await db?.drop();
});

async function texts(sql: string): Promise<string[]> {
  return (await client.query<{ t: string }>(sql)).rows.map((row) => row.t);
}

test('reads every timestamptz text of a UTC session as postgres-date does, to the millisecond', async () => {
  // Nothing in this file installs the parser: the reference is pg's own.
  expect(reference).not.toBe(parseTimestamptz);
  await client.query(`SET TimeZone = 'UTC'`);
  const samples = [
    // Every fraction of a second at millisecond precision (trailing zeros dropped by Postgres), and microseconds.
    ...(await texts(`SELECT (timestamptz '2026-03-01 00:00:00+00' + n * interval '1 ms')::text AS t FROM generate_series(0, 1999) n`)),
    ...(await texts(`SELECT (timestamptz '2026-03-01 23:59:59+00' + n * interval '7 us')::text AS t FROM generate_series(0, 999) n`)),
    ...(await texts(
      `SELECT (timestamptz '1000-01-01 00:00:00+00' + n * interval '9999 days 1.234 s')::text AS t FROM generate_series(0, 320) n`,
    )),
    ...(await texts(`SELECT unnest(ARRAY['infinity', '-infinity', '0999-12-31 23:59:59.999+00', '0001-01-01 00:00:00+00',
       '0044-03-15 12:00:00 BC', '10000-01-01 00:00:00+00', '9999-12-31 23:59:59.999+00']::timestamptz[])::text AS t`)),
  ];
  expect(samples.length).toBeGreaterThan(3_300);
  expect(samples.filter((text) => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+\+00$/.test(text)).length).toBeGreaterThan(2_500);
  const differing = samples.filter((text) => instant(parseTimestamptz(text)) !== instant(reference(text)));
  expect(differing).toEqual([]);
  // The ISO text kept beside each Date (what the API writes) is the Date's own, for every sample.
  const misquoted = samples.filter((text) => {
    const parsed = parseTimestamptz(text);
    return parsed instanceof Date && isoText(parsed) !== parsed.toISOString();
  });
  expect(misquoted).toEqual([]);
  const kept = samples.filter((text) => {
    const parsed = parseTimestamptz(text);
    return parsed instanceof Date && ISO_TEXT in parsed;
  });
  expect(kept.length).toBeGreaterThan(2_500);
});

test("reads other sessions' offsets as postgres-date does", async () => {
  const samples: string[] = [];
  for (const zone of ['Asia/Kolkata', 'America/St_Johns', 'Europe/Paris', 'Pacific/Kiritimati']) {
    await client.query(`SET TimeZone = '${zone}'`);
    samples.push(
      ...(await texts(
        `SELECT (timestamptz '2026-03-28 22:00:00.5+00' + n * interval '17 min 0.011 s')::text AS t FROM generate_series(0, 200) n`,
      )),
    );
  }
  expect(samples.some((text) => text.endsWith('+05:30'))).toBe(true);
  expect(samples.filter((text) => instant(parseTimestamptz(text)) !== instant(reference(text)))).toEqual([]);
});
