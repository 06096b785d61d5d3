/** What the CPU offers that the choice of precision and the benches' records care about. */
import fs from 'node:fs';

/**
 * Whether this CPU has VNNI, the dot-product instructions onnxruntime's int8 convolutions use
 * (AVX-512 VNNI or AVX-VNNI): said in the precision's log line and in the benches' machine, as
 * int8 measured slower than fp32 for S and M on EPYCs with it and without (docs/models.md).
 * `/proc/cpuinfo` is Linux's; elsewhere, no.
 */
export function cpuHasVnni(cpuinfo = '/proc/cpuinfo'): boolean {
  try {
    const flags = /^flags\s*:(.*)$/m.exec(fs.readFileSync(cpuinfo, 'utf8'))?.[1]?.split(/\s+/) ?? [];
    return flags.includes('avx512_vnni') || flags.includes('avx_vnni');
  } catch {
    return false;
  }
}
