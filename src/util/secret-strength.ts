/**
 * Catches the secrets a production server must not start with: the placeholders shipped in
 * docker-compose.yml, a key of one repeated symbol, a short pattern repeated, and anything too
 * short to hold 256 random bits in the alphabet it is written in. A heuristic against mistakes,
 * not a measure of randomness: a key from `openssl rand -hex 32` always passes.
 */

/** The try-out defaults of docker-compose.yml (a test reads the file and keeps this in step). */
export const PLACEHOLDER_SECRETS: ReadonlySet<string> = new Set(['change-me-to-a-secret-of-at-least-32-bytes', '0'.repeat(64)]);

export const REQUIRED_BITS = 256;
export const HOW_TO_GENERATE = 'generate one with `openssl rand -hex 32`';

/** Why `symbols` (drawn from an alphabet of `alphabet` symbols) is not a strong key, or undefined. */
function weakness(symbols: readonly (string | number)[], alphabet: number): string | undefined {
  const n = symbols.length;
  const distinct = new Set(symbols).size;
  if (distinct <= 1) return 'it is one symbol repeated';
  const period = shortestPeriod(symbols);
  if (period < n) return `it repeats a pattern of ${period} characters`;
  // n random draws from the alphabet show about this many distinct symbols; half as many is
  // never chance at these lengths (a typed word, "aaaabbbb...", a keyboard walk).
  const expected = alphabet * (1 - (1 - 1 / alphabet) ** n);
  if (distinct < expected / 2) return `it uses only ${distinct} different characters`;
  const bits = Math.floor(n * Math.log2(alphabet));
  if (bits < REQUIRED_BITS) return `it holds at most ${bits} bits in its alphabet, fewer than ${REQUIRED_BITS}`;
  return undefined;
}

/** The length of the shortest prefix whose repetition makes up all of `symbols`. */
function shortestPeriod(symbols: readonly (string | number)[]): number {
  const n = symbols.length;
  // Knuth-Morris-Pratt failure function: the period is n - (longest proper border).
  const border = new Array<number>(n).fill(0);
  for (let i = 1, k = 0; i < n; i += 1) {
    while (k > 0 && symbols[i] !== symbols[k]) k = border[k - 1]!;
    if (symbols[i] === symbols[k]) k += 1;
    border[i] = k;
  }
  const period = n - (border[n - 1] ?? 0);
  return n % period === 0 ? period : n;
}

/** Words in Diceware's list: a passphrase of random words holds log2(7776) = 12.9 bits a word. */
const PASSPHRASE_WORDS = 7776;

/**
 * For JWT_SECRET, used as text: hex, base64(url), other printable characters, or a passphrase
 * (words separated by spaces, counted as words, not letters: a sentence is not 300 random bits).
 */
export function textSecretWeakness(secret: string): string | undefined {
  if (PLACEHOLDER_SECRETS.has(secret)) return 'it is the placeholder from docker-compose.yml';
  if (/\s/.test(secret.trim())) {
    const reason = weakness(secret.trim().split(/\s+/), PASSPHRASE_WORDS);
    return reason === undefined ? undefined : reason.replace('characters', 'words');
  }
  const body = secret.replace(/=+$/, '');
  const alphabet = /^[0-9a-f]+$/.test(body) || /^[0-9A-F]+$/.test(body) ? 16 : /^[A-Za-z0-9+/_-]+$/.test(body) ? 64 : 95;
  return weakness([...body], alphabet);
}

/** For a binary key such as SECRETS_KEY, once decoded. */
export function keyWeakness(written: string, key: Buffer): string | undefined {
  if (PLACEHOLDER_SECRETS.has(written)) return 'it is the placeholder from docker-compose.yml';
  if (key.every((byte) => byte === 0)) return 'it is all zeros';
  return weakness([...key], 256);
}
