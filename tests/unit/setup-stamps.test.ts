/**
 * Set-up rebuilds the browser bundles only when the files its stamp hashes change: every core
 * module the bundles import must be among them, or a changed rule (when the script switches,
 * how often it asks) would leave a stale script in place on a machine that has run set-up before.
 */
import fs from 'node:fs';
import path from 'node:path';

const REPO = path.join(__dirname, '..', '..');
/** Value imports (a type-only import adds nothing to a bundle) and re-exports of relative modules. */
const IMPORT = /(?:import|export)\s+(type\s+)?[^;]*?from\s+'((?:\.\.\/|\.\/)[\w./-]+)'/g;

/** Core modules reachable from `files` through relative imports, as paths from the repository. */
function coreModulesImportedBy(files: string[]): Set<string> {
  const found = new Set<string>();
  const queue = [...files];
  while (queue.length > 0) {
    const file = queue.pop()!;
    for (const [, typeOnly, spec] of fs.readFileSync(file, 'utf8').matchAll(IMPORT)) {
      if (typeOnly) continue;
      const target = `${path.resolve(path.dirname(file), spec!)}.ts`;
      const relative = path.relative(REPO, target);
      if (!relative.startsWith('core/') || found.has(relative) || !fs.existsSync(target)) continue;
      found.add(relative);
      queue.push(target);
    }
  }
  return found;
}

it("set-up's stamp for the browser bundles covers every core module they import", () => {
  const dir = path.join(REPO, 'client-js');
  const sources = [...fs.readdirSync(path.join(dir, 'src')).map((f) => path.join(dir, 'src', f)), ...fs.readdirSync(dir).map((f) => path.join(dir, f))].filter((f) => f.endsWith('.ts'));
  const stampLine = fs.readFileSync(path.join(REPO, 'scripts', 'setup.sh'), 'utf8').split('\n').find((line) => line.startsWith('client_want='));
  const imported = [...coreModulesImportedBy(sources)].sort();
  expect(imported).toContain('core/switch-lead.ts');
  for (const module of imported) expect(stampLine).toContain(`"$repo/${module}"`);
});
