/** Structured logs (pino): JSON for machines, pretty lines when a person watches a terminal. */
import pino, { type Logger } from 'pino';

export type { Logger };

export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  const pretty = process.stdout.isTTY && process.env.UPFLOW_LOG_FORMAT !== 'json';
  return pino({
    name: options.name ?? 'upflow',
    level: options.level ?? process.env.UPFLOW_LOG_LEVEL ?? 'info',
    ...(pretty
      ? { transport: { target: 'pino-pretty', options: { colorize: true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss' } } }
      : {}),
  });
}
