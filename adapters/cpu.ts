/** What the CPU offers that the choice of precision and the benches' records care about. */
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
