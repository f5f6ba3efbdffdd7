/** Small helpers shared by the demo's parts: pacing, randomness, numbers and printing. */

/** Waits `ms`; rejects with the signal's reason as soon as it aborts (a cancel, a stopping worker). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A float in [min, max). */
export function between(min: number, max: number): number {
  return min + Math.random() * (max - min);
}

/** An integer in [min, max]. */
export function randomInt(min: number, max: number): number {
  return Math.floor(between(min, max + 1));
}

export function pick<T>(items: readonly T[]): T {
  const item = items[Math.floor(Math.random() * items.length)];
  if (item === undefined) throw new Error('pick() from an empty list');
  return item;
}

/** `count` distinct items, in their original order. */
export function sample<T>(items: readonly T[], count: number): T[] {
  const chosen = new Set<number>();
  while (chosen.size < Math.min(count, items.length)) chosen.add(Math.floor(Math.random() * items.length));
  return items.filter((_, index) => chosen.has(index));
}

export function chance(probability: number): boolean {
  return Math.random() < probability;
}

/** 1234567 → "1,234,567". */
export function fmt(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

const useColor = process.stdout.isTTY === true && process.env['NO_COLOR'] === undefined;
const COLORS = { dim: 2, bold: 1, red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36 } as const;
export type Color = keyof typeof COLORS;

export function paint(color: Color, text: string): string {
  return useColor ? `\u001b[${COLORS[color]}m${text}\u001b[0m` : text;
}

/** One line of demo output: "12:04:05 [tag] message". */
export function say(tag: string, message: string, color: Color = 'dim'): void {
  const time = new Date().toISOString().slice(11, 19);
  process.stdout.write(`${paint('dim', time)} ${paint(color, `[${tag}]`)} ${message}\n`);
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
