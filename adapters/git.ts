/** The repository's own git state, for figures files that say which commit they measured. */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

/** The commit checked out, `-dirty` when tracked files differ from it; null outside a git checkout. */
export function gitCommit(): string | null {
  const repo = path.join(__dirname, '..');
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: repo, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${commit}-dirty` : commit;
  } catch {
    return null; // not a git checkout (a tarball, an image)
  }
}
