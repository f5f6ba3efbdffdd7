/**
 * What grew between two V8 heap snapshots: self sizes and counts by (node type, constructor or
 * name), the difference divided by the number of subscribers added in between. Self sizes only
 * (not retained sizes): enough to see which objects each subscriber brings.
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  readonly snapshot: { readonly meta: { readonly node_fields: readonly string[]; readonly node_types: readonly unknown[] } };
  readonly nodes: readonly number[];
  readonly strings: readonly string[];
}

type Totals = Map<string, { count: number; size: number }>;

function totals(file: string): Totals {
  const data = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = data.snapshot.meta.node_fields;
  const types = data.snapshot.meta.node_types[0] as readonly string[];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const result: Totals = new Map();
  for (let i = 0; i < data.nodes.length; i += width) {
    const type = types[data.nodes[i + typeAt] as number] ?? '?';
    let name = data.strings[data.nodes[i + nameAt] as number] ?? '?';
    // Strings and code are many distinct names: group them by type only.
    if (
      type === 'string' ||
      type === 'concatenated string' ||
      type === 'sliced string' ||
      type === 'number' ||
      type === 'code' ||
      type === 'regexp'
    )
      name = '';
    if (name.length > 60) name = `${name.slice(0, 57)}...`;
    const key = name === '' ? `(${type})` : `${name} (${type})`;
    const entry = result.get(key) ?? { count: 0, size: 0 };
    entry.count += 1;
    entry.size += data.nodes[i + sizeAt] as number;
    result.set(key, entry);
  }
  return result;
}

export function summariseHeapGrowth(before: string, after: string, subscribers: number, top = 30): string[] {
  const a = totals(before);
  const b = totals(after);
  const rows: Array<{ key: string; count: number; size: number }> = [];
  for (const [key, entry] of b) {
    const old = a.get(key) ?? { count: 0, size: 0 };
    rows.push({ key, count: entry.count - old.count, size: entry.size - old.size });
  }
  const grown = rows.reduce((sum, row) => sum + row.size, 0);
  const lines = [
    `heap self size grew by ${(grown / 1024 / 1024).toFixed(1)} MB for ${subscribers.toLocaleString('en-US')} subscribers: ` +
      `${(grown / 1024 / subscribers).toFixed(1)} KB each. Largest growth (per subscriber: objects, bytes):`,
  ];
  for (const row of rows.sort((x, y) => y.size - x.size).slice(0, top)) {
    lines.push(
      `  ${(row.count / subscribers).toFixed(2).padStart(7)} x  ${Math.round(row.size / subscribers)
        .toString()
        .padStart(6)} B  ${row.key}`,
    );
  }
  return lines;
}

if (require.main === module) {
  const [before, after, subscribers] = process.argv.slice(2);
  if (before === undefined || after === undefined || subscribers === undefined) {
    process.stderr.write('usage: node dist/bench/subscriptions/heap-summary.js <before.heapsnapshot> <after.heapsnapshot> <subscribers>\n');
    process.exit(2);
  }
  for (const line of summariseHeapGrowth(before, after, Number(subscribers))) process.stdout.write(`${line}\n`);
}
