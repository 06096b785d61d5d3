/**
 * Measured figures as files: each measurement (`upflow bench`, `upflow quality`,
 * `npm run bench:load`, the tests that measure when UPFLOW_RECORD_FIGURES=1) writes one JSON
 * document under docs/bench/ with the machine it ran on, the commit, the command and the
 * settings, beside its results. The tables in docs/ are generated from these files
 * (scripts/docs-tables.ts), so every figure the docs show comes from a run that says where.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkMediaTools } from '../adapters/ffmpeg';
import { cpuHasVnni } from '../adapters/cpu';
import { gitCommit } from '../adapters/git';

/** The folder of the figures files, in the repository. */
export const FIGURES_DIR = path.join(__dirname, '..', 'docs', 'bench');

/** `docs/bench/<name>.json` in the repository. */
export function figuresFile(name: string): string {
  return path.join(FIGURES_DIR, `${name}.json`);
}

export interface Machine {
  cpuModel: string;
  /** The CPU has VNNI (int8 dot products); absent in files written before it was recorded. */
  vnni?: boolean;
  cores: number;
  availableParallelism: number;
  /** `os.cpus()` as Node reports it (model, MHz, times). */
  cpus: os.CpuInfo[];
  totalMemoryBytes: number;
  os: string;
  node: string;
  ffmpeg: string;
  loadAverageAtStart: number[];
  loadAverageAtEnd?: number[];
}

/** What every figures file starts with: when, where and how it was measured. */
export interface FiguresHeader {
  date: string;
  /** The commit measured, `-dirty` when tracked files differed from it; null outside a git checkout. */
  commit: string | null;
  machine: Machine;
  /** The command as it was run, options included. */
  command: string;
}

export async function machineInfo(): Promise<Machine> {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    vnni: cpuHasVnni(),
    cores: cpus.length,
    availableParallelism: os.availableParallelism(),
    cpus,
    totalMemoryBytes: os.totalmem(),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    ffmpeg: (await checkMediaTools()).ffmpeg,
    loadAverageAtStart: os.loadavg(),
  };
}

/** The header of a measurement starting now; `command` as a person would type it again. */
export async function figuresHeader(command: string): Promise<FiguresHeader> {
  return { date: new Date().toISOString(), commit: gitCommit(), machine: await machineInfo(), command };
}

/** `upflow bench --size 360p …` as this process was started (the CLI's own arguments). */
export function cliCommand(): string {
  return ['upflow', ...process.argv.slice(2)].join(' ');
}

/**
 * Writes a measurement, its machine's load average at the end added. Numbers keep six
 * significant digits: measured to the millisecond, not to floating point's last bit.
 */
export function writeFiguresFile<Figures extends { machine: Machine }>(file: string, figures: Figures): void {
  figures.machine.loadAverageAtEnd = os.loadavg();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(figures, readableNumbers, 2)}\n`);
}

/** A JSON.stringify replacer: numbers that are not whole keep six significant digits. */
export function readableNumbers(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isInteger(value) ? Number(value.toPrecision(6)) : value;
}
