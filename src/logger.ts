import pino, { type Logger, type LoggerOptions } from 'pino';

/** `json`: one JSON object a line, for machines (production, pipes). `pretty`: for people at a terminal. */
export type LogFormat = 'json' | 'pretty';

export const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty'];

/** Pretty only for a person at a terminal in development; JSON in production, tests and pipes. */
export function defaultLogFormat(env: Readonly<Record<string, string | undefined>>, stdoutIsTTY: boolean): LogFormat {
  const nodeEnv = env['NODE_ENV'];
  return stdoutIsTTY && nodeEnv !== 'production' && nodeEnv !== 'test' ? 'pretty' : 'json';
}

export function createLogger(level: string, format: LogFormat = defaultLogFormat(process.env, process.stdout.isTTY === true)): Logger {
  const options: LoggerOptions = {
    level,
    base: { service: 'jobwatch' },
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.secrets'], censor: '[redacted]' },
  };
  if (format === 'json' || !prettyInstalled()) {
    const log = pino(options);
    if (format === 'pretty') log.warn('LOG_FORMAT=pretty needs the pino-pretty package (a development dependency): logging JSON');
    return log;
  }
  // pino-pretty formats in a worker thread of pino's own, off the event loop; pino flushes it
  // synchronously at exit, so the last line (shutdown complete) is never lost. Production
  // never loads it: JSON goes straight to stdout.
  return pino({
    ...options,
    transport: {
      target: 'pino-pretty',
      options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' },
    },
  });
}

function prettyInstalled(): boolean {
  try {
    require.resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}
