/**
 * The server's configuration, read once from the environment and validated at the boundary:
 * a bad value stops the process with a message that names the variable.
 */
export interface Config {
  readonly port: number;
  /** Unset: an embedded Postgres under `dataDir`. */
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly jwtSecret: string | undefined;
  readonly jwksUrl: string | undefined;
  /** When set, tokens must carry this `iss` (HS256 and JWKS alike). */
  readonly jwtIssuer: string | undefined;
  /** When set, tokens must name this audience in `aud`. */
  readonly jwtAudience: string | undefined;
  readonly bootstrapAdmins: readonly string[];
  readonly secretsKey: string | undefined;
  readonly retentionDays: number;
  readonly heartbeatTimeoutMs: number;
  readonly cancelGraceMs: number;
  readonly daemonIntervalMs: number;
  readonly progressFlushMs: number;
  readonly corsOrigins: readonly string[];
  /** Mutations per principal and second (sustained, burst), for people and for workers. */
  readonly alerts: {
    readonly timeoutMs: number;
    readonly retryBaseMs: number;
    readonly maxAttempts: number;
    readonly concurrency: number;
    /** Webhooks to loopback, private and link-local addresses (refused by default in production). */
    readonly allowPrivateNetworks: boolean;
  };
  readonly rateLimit: { readonly perSecond: number; readonly burst: number; readonly workerPerSecond: number; readonly workerBurst: number };
  readonly production: boolean;
  readonly logLevel: string;
  /** After SIGTERM, a shutdown still running this long is cut short (pending progress written first). */
  readonly shutdownTimeoutMs: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Env = Readonly<Record<string, string | undefined>>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(`${name} must be true or false, got "${env[name]}"`);
}

function list(env: Env, name: string): string[] {
  return (env[name] ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

function optional(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

/** A claim value to match exactly: printable, no spaces (an issuer URL, an audience id). */
function claimValue(env: Env, name: string): string | undefined {
  const raw = optional(env, name);
  if (raw !== undefined && !/^[\x21-\x7e]{1,500}$/.test(raw)) {
    throw new ConfigError(`${name} must be 1 to 500 printable ASCII characters without spaces`);
  }
  return raw;
}

function url(env: Env, name: string, protocols: readonly string[]): string | undefined {
  const raw = optional(env, name);
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} is not a valid URL`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(`${name} must use ${protocols.join(' or ')}, got ${parsed.protocol}`);
  }
  return raw;
}

export function loadConfig(env: Env = process.env): Config {
  const production = env['NODE_ENV'] === 'production';
  const jwtSecret = optional(env, 'JWT_SECRET');
  if (jwtSecret !== undefined && Buffer.byteLength(jwtSecret) < 32) {
    throw new ConfigError('JWT_SECRET must be at least 32 bytes long (HS256 needs a 256-bit key)');
  }
  const jwksUrl = url(env, 'JWKS_URL', ['https:', 'http:']);
  if (production && jwtSecret === undefined && jwksUrl === undefined) {
    throw new ConfigError('with NODE_ENV=production, set JWT_SECRET or JWKS_URL');
  }
  const secretsKey = optional(env, 'SECRETS_KEY');
  if (secretsKey !== undefined && !/^[0-9a-fA-F]{64}$/.test(secretsKey) && Buffer.from(secretsKey, 'base64').length !== 32) {
    throw new ConfigError('SECRETS_KEY must be 32 bytes, as 64 hex digits or base64');
  }
  if (production && secretsKey === undefined) {
    throw new ConfigError('with NODE_ENV=production, set SECRETS_KEY');
  }
  return Object.freeze({
    port: integer(env, 'PORT', 4000, 0, 65535),
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    dataDir: optional(env, 'DATA_DIR') ?? '.data',
    jwtSecret,
    jwksUrl,
    jwtIssuer: claimValue(env, 'JWT_ISSUER'),
    jwtAudience: claimValue(env, 'JWT_AUDIENCE'),
    bootstrapAdmins: list(env, 'BOOTSTRAP_ADMINS'),
    secretsKey,
    retentionDays: integer(env, 'RETENTION_DAYS', 7, 0, 36500),
    heartbeatTimeoutMs: integer(env, 'HEARTBEAT_TIMEOUT_MS', 30_000, 100, 86_400_000),
    cancelGraceMs: integer(env, 'CANCEL_GRACE_MS', 30_000, 0, 86_400_000),
    daemonIntervalMs: integer(env, 'DAEMON_INTERVAL_MS', 1_000, 10, 3_600_000),
    progressFlushMs: integer(env, 'PROGRESS_FLUSH_MS', 200, 1, 60_000),
    corsOrigins: list(env, 'CORS_ORIGINS'),
    alerts: {
      timeoutMs: integer(env, 'ALERT_TIMEOUT_MS', 10_000, 100, 120_000),
      retryBaseMs: integer(env, 'ALERT_RETRY_BASE_MS', 5_000, 10, 3_600_000),
      maxAttempts: integer(env, 'ALERT_MAX_ATTEMPTS', 8, 1, 50),
      concurrency: integer(env, 'ALERT_CONCURRENCY', 10, 1, 200),
      allowPrivateNetworks: boolean(env, 'ALERT_ALLOW_PRIVATE_NETWORKS', !production),
    },
    rateLimit: {
      perSecond: integer(env, 'RATE_LIMIT_PER_SECOND', 50, 1, 1_000_000),
      burst: integer(env, 'RATE_LIMIT_BURST', 200, 1, 1_000_000),
      workerPerSecond: integer(env, 'WORKER_RATE_LIMIT_PER_SECOND', 500, 1, 1_000_000),
      workerBurst: integer(env, 'WORKER_RATE_LIMIT_BURST', 1000, 1, 1_000_000),
    },
    production,
    logLevel: optional(env, 'LOG_LEVEL') ?? (env['NODE_ENV'] === 'test' ? 'silent' : 'info'),
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 20_000, 1_000, 600_000),
  });
}
