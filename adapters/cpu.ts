/** What the CPU offers that the choice of precision and the benches' records care about, and the CPU time used. */
import fs from 'node:fs';

/**
 * Whether this CPU has VNNI, the dot-product instructions onnxruntime's int8 convolutions use
 * (AVX-512 VNNI or AVX-VNNI): said in the precision's log line and in the benches' machine, as
 * int8 measured slower than fp32 for S and M on EPYCs with it and without (docs/models.md).
 * `/proc/cpuinfo` is Linux's; elsewhere, no.
 */
export function cpuHasVnni(cpuinfo = '/proc/cpuinfo'): boolean {
  const flags = cpuFlags(cpuinfo);
  return flags.includes('avx512_vnni') || flags.includes('avx_vnni');
}

/**
 * How many channels onnxruntime's blocked (NCHWc) convolutions compute at once on this CPU: 16
 * with AVX-512, 8 otherwise. Anime4K M's layers (8 channels) fill a block of 8 and half of one of
 * 16, which decides how its last layer is built (models/anime4k.ts `residualBySums`).
 */
export function cpuConvolutionBlockChannels(cpuinfo = '/proc/cpuinfo'): 8 | 16 {
  return cpuFlags(cpuinfo).includes('avx512f') ? 16 : 8;
}

function cpuFlags(cpuinfo: string): string[] {
  try {
    return /^flags\s*:(.*)$/m.exec(fs.readFileSync(cpuinfo, 'utf8'))?.[1]?.split(/\s+/) ?? [];
  } catch {
    return [];
  }
}

/**
 * CPU seconds this process (every thread: onnxruntime's included) and its children that have
 * exited and been waited for have used so far: a stage's cost is the difference across it, which
 * the models bench sets against the machine's cores. The children's share is Linux's
 * (`/proc/self/stat`'s cutime and cstime, in its fixed 100 ticks a second); elsewhere, none.
 */
export function cpuSecondsUsed(stat = '/proc/self/stat'): number {
  const own = process.cpuUsage();
  return (own.user + own.system) / 1e6 + childrenCpuSeconds(stat);
}

/** CPU milliseconds a frame since `cpuBefore` (`cpuSecondsUsed`), over `frames` frames. */
export function cpuMsPerFrameSince(cpuBefore: number, frames: number): number {
  return ((cpuSecondsUsed() - cpuBefore) * 1000) / Math.max(1, frames);
}

const USER_HZ = 100;

export function childrenCpuSeconds(stat = '/proc/self/stat'): number {
  try {
    const text = fs.readFileSync(stat, 'utf8');
    // The fields after the command's closing parenthesis (the command may hold spaces), from the third.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const cutime = Number(fields[16 - 3]);
    const cstime = Number(fields[17 - 3]);
    return Number.isFinite(cutime) && Number.isFinite(cstime) ? (cutime + cstime) / USER_HZ : 0;
  } catch {
    return 0;
  }
}
