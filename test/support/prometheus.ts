/** One sample of Prometheus' text format: `name{label="value",...} 12.5`. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Scrape {
  readonly status: number;
  readonly contentType: string | null;
  readonly samples: readonly Sample[];
  /** The sum of the samples of `name` whose labels include `labels` (0 when there is none). */
  sum(name: string, labels?: Readonly<Record<string, string>>): number;
  /** Whether there is a sample of `name` (with these labels). */
  has(name: string, labels?: Readonly<Record<string, string>>): boolean;
}

// prom-client writes NaN as "Nan" (an event-loop lag not yet measured, say).
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+-]+|NaN|Nan|[+-]Inf)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the text format strictly: a line that is neither a comment nor a sample fails. */
export function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const match = SAMPLE.exec(line);
    if (match === null) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(LABEL))
      labels[key!] = value!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** GET /metrics and parse it. */
export async function scrape(baseUrl: string, headers: Record<string, string> = {}): Promise<Scrape> {
  const response = await fetch(new URL('/metrics', baseUrl), { headers });
  const text = await response.text();
  const samples = response.ok ? parsePrometheus(text) : [];
  const matching = (name: string, labels: Readonly<Record<string, string>>) =>
    samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    samples,
    sum: (name, labels = {}) => matching(name, labels).reduce((total, sample) => total + sample.value, 0),
    has: (name, labels = {}) => matching(name, labels).length > 0,
  };
}
