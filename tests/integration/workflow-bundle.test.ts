/** The worker's workflow bundle: made once per version of its sources, in the cache folder. */
import fs from 'node:fs';
import path from 'node:path';
import { createLogger } from '../../adapters/logger';
import { makeTempDataDir } from '../../adapters/postgres-cluster';
import { workflowBundlePath } from '../../worker/workflow-bundle';

const logger = createLogger({ level: 'silent' });

describe('the workflow bundle', () => {
  let cacheDir: string;
  beforeAll(() => {
    cacheDir = makeTempDataDir('upflow-bundle-');
  });
  afterAll(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

  it('is made once for the sources as they are, kept, and replaces a bundle of older sources', async () => {
    const stale = path.join(cacheDir, 'workflow-bundles', 'workflows-0000000000000000.js');
    fs.mkdirSync(path.dirname(stale), { recursive: true });
    fs.writeFileSync(stale, '// older sources');

    const made = await workflowBundlePath(cacheDir, logger);
    expect(path.basename(made)).toMatch(/^workflows-[0-9a-f]{16}\.js$/);
    expect(fs.readFileSync(made, 'utf8')).toContain('upscaleTitle');
    expect(fs.existsSync(stale)).toBe(false);

    const { mtimeMs } = fs.statSync(made);
    expect(await workflowBundlePath(cacheDir, logger)).toBe(made);
    expect(fs.statSync(made).mtimeMs).toBe(mtimeMs); // read, not bundled again
    expect(fs.readdirSync(path.dirname(made))).toEqual([path.basename(made)]);
  }, 60_000);
});
