/**
 * Every table of measured figures in docs/ is generated from its figures file under docs/bench/
 * (`npm run docs`): this fails when a table differs from its file, or names a table or a file
 * that does not exist, as `npm run docs -- --check` does.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FiguresHeader } from '../../cli/figures-file';
import { DOCS_DIR, filesOf, generatePages, isLoaded, measuredBy, renderTables, tablesIn } from '../../scripts/docs-tables';

describe('the docs tables', () => {
  it('match their figures files', () => {
    const pages = generatePages();
    expect(pages.length).toBeGreaterThan(0);
    for (const page of pages) {
      // toEqual on the text shows the first differing line when a table is stale.
      expect({ page: path.relative(DOCS_DIR, page.file), text: page.before }).toEqual({ page: path.relative(DOCS_DIR, page.file), text: page.after });
    }
  });

  it('cover every figures file under docs/bench', () => {
    const used = new Set(generatePages().flatMap((page) => tablesIn(page.before).flatMap((name) => filesOf(name))));
    const files = fs.readdirSync(path.join(DOCS_DIR, 'bench')).filter((name) => name.endsWith('.json')).map((name) => `bench/${name.replace(/\.json$/, '')}`);
    expect(files.filter((file) => !used.has(file))).toEqual([]);
  });

  it('fails on a table that differs from its file, and on unknown tables and missing files', () => {
    const figures = JSON.parse(fs.readFileSync(path.join(DOCS_DIR, 'bench', 'quality.json'), 'utf8')) as unknown;
    const fresh = renderTables('<!-- table: bench/quality -->\n<!-- /table -->', () => figures);
    expect(fresh).toContain('| PSNR (dB) |');
    const edited = fresh.replace(/\| (\d+)\.(\d\d) \|/, (_all, whole: string, cents: string) => `| ${Number(whole) + 1}.${cents} |`);
    expect(edited).not.toEqual(fresh);
    expect(renderTables(edited, () => figures)).toEqual(fresh);
    expect(() => renderTables('<!-- table: bench/nothing -->\n<!-- /table -->', () => figures)).toThrow(/no table named bench\/nothing/);
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'upflow-docs-'));
    fs.writeFileSync(path.join(empty, 'page.md'), '<!-- table: bench/models -->\n<!-- /table -->\n');
    expect(() => generatePages(empty)).toThrow(/bench\/models\.json is missing: run `npm run bench -- --only models`/);
    fs.rmSync(empty, { recursive: true });
  });

  it('say plainly when the machine was loaded', () => {
    const header: FiguresHeader = {
      date: '2026-12-04T15:00:00.000Z', commit: 'abcdef0123', command: 'npm run bench',
      machine: {
        cpuModel: 'AMD EPYC', cores: 2, availableParallelism: 2, cpus: [], totalMemoryBytes: 24 * 1024 ** 3, os: 'linux', node: 'v20', ffmpeg: '7',
        loadAverageAtStart: [0.3, 0.2, 0.1], loadAverageAtEnd: [0.5, 0.3, 0.2],
      },
    };
    expect(isLoaded(header.machine)).toBe(false);
    expect(measuredBy(header)).not.toMatch(/loaded machine/);
    const loaded: FiguresHeader = { ...header, machine: { ...header.machine, loadAverageAtStart: [12.8, 8, 8] } };
    expect(isLoaded(loaded.machine)).toBe(true);
    expect(measuredBy(loaded)).toMatch(/\*\*A loaded machine\*\*/);
    expect(measuredBy(loaded, false)).not.toMatch(/loaded machine/);
    // A measurement that keeps both cores busy itself is not a loaded machine.
    expect(isLoaded({ ...header.machine, loadAverageAtStart: [2.4, 1, 1], loadAverageAtEnd: [2.9, 2, 1] })).toBe(false);
  });
});
