/**
 * Structured logs (pino): JSON for machines, pretty lines when a person watches a terminal.
 * Logs go to stderr, so a command's own output on stdout (a table, `--json` lines) stays clean.
 */
import pino, { type Logger } from 'pino';

export type { Logger };

export function createLogger(options: { level?: string; name?: string; format?: 'json' } = {}): Logger {
  const pretty = process.stderr.isTTY && options.format !== 'json';
  const base = { name: options.name ?? 'upflow', level: options.level ?? process.env.UPFLOW_LOG_LEVEL ?? 'info' };
  return pretty
    ? pino({ ...base, transport: { target: 'pino-pretty', options: { destination: 2, colorize: true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss' } } })
    : pino(base, pino.destination(2));
}
