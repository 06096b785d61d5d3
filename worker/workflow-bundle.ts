/**
 * The workflow code as one bundle, kept in the cache folder under a hash of its sources, so that
 * a worker's start-up bundles it (webpack, about 2.4 s on 2 cores) only when a source changed,
 * not at every `upflow up` and not once per test stack.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import type { Logger } from '../adapters/logger';

const REPO = path.resolve(__dirname, '..');
/** What the bundle is made from: the workflows and what they import (core/, activity types), and the locked SDK. */
const SOURCE_DIRS = ['workflows', 'core', 'activities'];
const LOCK_FILE = 'package-lock.json';

function typescriptFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return typescriptFiles(file);
    return entry.name.endsWith('.ts') ? [file] : [];
  }).sort();
}

function sourcesHash(): string {
  const hash = crypto.createHash('sha256');
  for (const file of [...SOURCE_DIRS.flatMap((dir) => typescriptFiles(path.join(REPO, dir))), path.join(REPO, LOCK_FILE)]) {
    hash.update(path.relative(REPO, file));
    hash.update(fs.readFileSync(file));
  }
  return hash.digest('hex').slice(0, 16);
}

/** The bundle's path for the sources as they are now; made (and older ones removed) when missing. */
export async function workflowBundlePath(cacheDir: string, logger: Logger): Promise<string> {
  const dir = path.join(cacheDir, 'workflow-bundles');
  const file = path.join(dir, `workflows-${sourcesHash()}.js`);
  if (fs.existsSync(file)) return file;
  const startedAt = Date.now();
  // webpack's report of every module would only fill the log: warnings and errors only.
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    workflowInterceptorModules: [require.resolve('../workflows/interceptors')],
    logger: new DefaultLogger('WARN'),
  });
  fs.mkdirSync(dir, { recursive: true });
  // Written aside and renamed: another worker starting at the same time reads a whole bundle or none.
  const partial = `${file}.${process.pid}.partial`;
  fs.writeFileSync(partial, code);
  fs.renameSync(partial, file);
  for (const old of fs.readdirSync(dir)) {
    if (old !== path.basename(file) && old.startsWith('workflows-') && old.endsWith('.js')) fs.rmSync(path.join(dir, old), { force: true });
  }
  logger.info({ bundle: file, ms: Date.now() - startedAt }, 'workflows bundled (kept until their sources change)');
  return file;
}
