import { isEmailAddress } from './util/email-address';
import { defaultLogFormat, LOG_FORMATS, type LogFormat } from './logger';
import { HOW_TO_GENERATE, keyWeakness, textSecretWeakness } from './util/secret-strength';

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
  /**
   * A pause longer than this between two daemon ticks (of any instance) is an outage: nobody
   * could write heartbeats, so every held job's heartbeat timeout starts afresh once ticks resume.
   */
  readonly daemonOutageMs: number;
  readonly progressFlushMs: number;
  /** A RUNNING job that keeps heartbeating but has not advanced for this long is stalled (progress.stalledSince). */
  readonly stallAfterMs: number;
  /** jobUpdated without `since` resends what left the view in this many seconds before it (0: nothing). */
  readonly subscriptionResyncSeconds: number;
  readonly corsOrigins: readonly string[];
  /** Where the console is reached (PUBLIC_URL), without a trailing slash: job links are made from it. */
  readonly publicUrl: string | undefined;
  /** Mutations per principal and second (sustained, burst), for people and for workers. */
  readonly alerts: {
    readonly timeoutMs: number;
    readonly retryBaseMs: number;
    readonly maxAttempts: number;
    readonly concurrency: number;
    /** Webhooks to loopback, private and link-local addresses (refused by default in production). */
    readonly allowPrivateNetworks: boolean;
    /** SMTP_URL: where alert emails are sent; unset, rules cannot send email. */
    readonly smtpUrl: string | undefined;
    /** ALERT_EMAIL_FROM: the sender of alert emails (required with SMTP_URL). */
    readonly emailFrom: string | undefined;
  };
  readonly rateLimit: {
    readonly perSecond: number;
    readonly burst: number;
    readonly workerPerSecond: number;
    readonly workerBurst: number;
  };
  readonly production: boolean;
  readonly logLevel: string;
  /** `pretty` for a person at a terminal in development, else `json` (LOG_FORMAT). */
  readonly logFormat: LogFormat;
  /** GET /metrics asks for this bearer token; unset, /metrics is open outside production and off in production. */
  readonly metricsToken: string | undefined;
  /** After SIGTERM, a shutdown still running this long is cut short (pending progress written first). */
  readonly shutdownTimeoutMs: number;
  /** A WebSocket client leaving more than `maxUnreadBytes` unread for `stalledMs` is closed (4413). */
  readonly wsSlowReader: { readonly maxUnreadBytes: number; readonly stalledMs: number };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

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

function oneOf<T extends string>(env: Env, name: string, values: readonly T[]): T | undefined {
  const raw = optional(env, name);
  if (raw === undefined) return undefined;
  if (!(values as readonly string[]).includes(raw)) throw new ConfigError(`${name} must be one of ${values.join(', ')}, got "${raw}"`);
  return raw as T;
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

/** PUBLIC_URL: an http(s) base without query or fragment, so that `${base}/jobs/<id>` is a page. */
function publicUrl(env: Env): string | undefined {
  const raw = url(env, 'PUBLIC_URL', ['https:', 'http:']);
  if (raw === undefined) return undefined;
  const parsed = new URL(raw);
  if (parsed.search !== '' || parsed.hash !== '') throw new ConfigError('PUBLIC_URL must not have a query or a fragment');
  return raw.replace(/\/+$/, '');
}

/** SMTP_URL and ALERT_EMAIL_FROM: both or neither; the sender a plain address. */
function emailSettings(env: Env): { smtpUrl: string | undefined; emailFrom: string | undefined } {
  const smtpUrl = url(env, 'SMTP_URL', ['smtp:', 'smtps:']);
  const emailFrom = optional(env, 'ALERT_EMAIL_FROM');
  if (emailFrom !== undefined && !isEmailAddress(emailFrom))
    throw new ConfigError('ALERT_EMAIL_FROM must be an email address (name@example.com)');
  if (smtpUrl !== undefined && emailFrom === undefined)
    throw new ConfigError('SMTP_URL needs ALERT_EMAIL_FROM, the sender of alert emails');
  return { smtpUrl, emailFrom };
}

/** Production refuses the compose file's placeholders and keys that are not random (secret-strength.ts). */
function refuseWeakSecrets(jwtSecret: string | undefined, secretsKey: string | undefined, metricsToken: string | undefined): void {
  for (const [name, secret] of [
    ['JWT_SECRET', jwtSecret],
    ['METRICS_TOKEN', metricsToken],
  ] as const) {
    const weak = secret === undefined ? undefined : textSecretWeakness(secret);
    if (weak !== undefined) throw new ConfigError(`${name} is not a random secret (${weak}); with NODE_ENV=production, ${HOW_TO_GENERATE}`);
  }
  const key =
    secretsKey === undefined
      ? undefined
      : /^[0-9a-fA-F]{64}$/.test(secretsKey)
        ? Buffer.from(secretsKey, 'hex')
        : Buffer.from(secretsKey, 'base64');
  const weakKey = key === undefined ? undefined : keyWeakness(secretsKey as string, key);
  if (weakKey !== undefined) {
    throw new ConfigError(`SECRETS_KEY is not a random key (${weakKey}); with NODE_ENV=production, ${HOW_TO_GENERATE}`);
  }
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
  const metricsToken = optional(env, 'METRICS_TOKEN');
  if (production) refuseWeakSecrets(jwtSecret, secretsKey, metricsToken);
  const heartbeatTimeoutMs = integer(env, 'HEARTBEAT_TIMEOUT_MS', 30_000, 100, 86_400_000);
  const daemonIntervalMs = integer(env, 'DAEMON_INTERVAL_MS', 1_000, 10, 3_600_000);
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
    heartbeatTimeoutMs,
    cancelGraceMs: integer(env, 'CANCEL_GRACE_MS', 30_000, 0, 86_400_000),
    daemonIntervalMs,
    // A third of the timeout: an unnoticed pause plus a worker's heartbeat period (a third at
    // most) stays under the timeout. Never under two intervals: a late tick is no outage.
    daemonOutageMs: integer(
      env,
      'DAEMON_OUTAGE_MS',
      Math.max(Math.floor(heartbeatTimeoutMs / 3), 2 * daemonIntervalMs),
      10,
      86_400_000 * 7,
    ),
    progressFlushMs: integer(env, 'PROGRESS_FLUSH_MS', 200, 1, 60_000),
    stallAfterMs: integer(env, 'STALL_AFTER_MS', 60_000, 1_000, 86_400_000),
    subscriptionResyncSeconds: integer(env, 'SUBSCRIPTION_RESYNC_SECONDS', 300, 0, 86_400),
    corsOrigins: list(env, 'CORS_ORIGINS'),
    publicUrl: publicUrl(env),
    alerts: {
      timeoutMs: integer(env, 'ALERT_TIMEOUT_MS', 10_000, 100, 120_000),
      retryBaseMs: integer(env, 'ALERT_RETRY_BASE_MS', 5_000, 10, 3_600_000),
      maxAttempts: integer(env, 'ALERT_MAX_ATTEMPTS', 8, 1, 50),
      concurrency: integer(env, 'ALERT_CONCURRENCY', 10, 1, 200),
      allowPrivateNetworks: boolean(env, 'ALERT_ALLOW_PRIVATE_NETWORKS', !production),
      ...emailSettings(env),
    },
    rateLimit: {
      perSecond: integer(env, 'RATE_LIMIT_PER_SECOND', 50, 1, 1_000_000),
      burst: integer(env, 'RATE_LIMIT_BURST', 200, 1, 1_000_000),
      workerPerSecond: integer(env, 'WORKER_RATE_LIMIT_PER_SECOND', 500, 1, 1_000_000),
      workerBurst: integer(env, 'WORKER_RATE_LIMIT_BURST', 1000, 1, 1_000_000),
    },
    production,
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS) ?? (env['NODE_ENV'] === 'test' ? 'silent' : 'info'),
    logFormat: oneOf(env, 'LOG_FORMAT', LOG_FORMATS) ?? defaultLogFormat(env, process.stdout.isTTY === true),
    metricsToken,
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 20_000, 1_000, 600_000),
    wsSlowReader: {
      maxUnreadBytes: integer(env, 'WS_SLOW_READER_BYTES', 1_048_576, 0, 1_073_741_824),
      stalledMs: integer(env, 'WS_SLOW_READER_MS', 10_000, 100, 3_600_000),
    },
  });
}
