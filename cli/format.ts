/** Terminal formatting shared by the commands: tables, durations, rates. */

/** Plain-text table: columns padded to their widest cell. */
export function formatTable(header: string[], rows: string[][], align: Array<'left' | 'right'> = []): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (align[i] === 'right' ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** m:ss, or h:mm:ss from an hour on; `--:--` when unknown. */
export function formatEta(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  const mmss = `${String(Math.floor((s % 3600) / 60)).padStart(s >= 3600 ? 2 : 1, '0')}:${String(s % 60).padStart(2, '0')}`;
  return s >= 3600 ? `${Math.floor(s / 3600)}:${mmss}` : mmss;
}

/** Content seconds per wall second, as `1.12x`. */
export function formatRate(rate: number | null | undefined): string {
  return rate ? `${rate.toFixed(2)}x` : '-';
}

/**
 * An error's words for a person: its message, else its first inner error's (Node's connect to a
 * name with both an IPv6 and an IPv4 address fails with an AggregateError without a message),
 * else its code.
 */
export function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.message) return err.message;
  const inner: unknown = err instanceof AggregateError ? err.errors.find((e: unknown) => e instanceof Error && e.message) : undefined;
  return inner instanceof Error ? inner.message : (err as NodeJS.ErrnoException).code ?? err.name;
}
