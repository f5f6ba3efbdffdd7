import pino, { type Logger } from 'pino';

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'jobwatch' },
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.secrets'], censor: '[redacted]' },
  });
}
