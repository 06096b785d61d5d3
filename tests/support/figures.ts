/**
 * Figures a test measures on the real stack (a crash resume, restarts, the bad-input barrage,
 * the load), written as docs/bench/<name>.json, the files the docs' tables are generated from
 * (scripts/docs-tables.ts), only when UPFLOW_RECORD_FIGURES=1 asks: `npm test` stays free of
 * side effects, and `UPFLOW_RECORD_FIGURES=1 npx jest tests/e2e/restarts.test.ts` refreshes them.
 */
import { figuresFile, figuresHeader, writeFiguresFile, type FiguresHeader } from '../../cli/figures-file';

export interface FiguresRecorder {
  /** Writes the figures with the machine, the commit and the command (when recording). */
  write(figures: Record<string, unknown>): Promise<void>;
}

/**
 * Call when the measurement starts (the machine's load is read then); `testFile` is the test's
 * path in the repository, for the command that measured.
 */
export async function startRecordingFigures(name: string, testFile: string): Promise<FiguresRecorder> {
  if (process.env.UPFLOW_RECORD_FIGURES !== '1') return { write: async () => undefined };
  const header: FiguresHeader = await figuresHeader(`UPFLOW_RECORD_FIGURES=1 npx jest ${testFile}`);
  return {
    async write(figures) {
      const file = figuresFile(name);
      writeFiguresFile(file, { ...header, ...figures });
      process.stdout.write(`figures written to ${file}\n`);
    },
  };
}
