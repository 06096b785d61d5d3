/** Free-space checks on folders Upflow will write to, made or not made yet. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findLowDisk, freeBytes } from '../../adapters/disk';

describe('free space', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'upflow-disk-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('measures a folder not made yet on its nearest existing parent, and makes nothing', async () => {
    const notYet = path.join(dir, 'data', 'output');
    expect(await freeBytes(notYet)).toBe(await freeBytes(dir));
    expect(fs.existsSync(path.join(dir, 'data'))).toBe(false);
  });

  it('names the low folder and what to do; 0 turns the check off', async () => {
    const low = await findLowDisk([path.join(dir, 'hls')], Number.MAX_SAFE_INTEGER);
    expect(low?.folder).toBe(path.join(dir, 'hls'));
    expect(low?.message).toMatch(/UPFLOW_MIN_FREE_GB .*npx upflow cleanup/);
    expect(await findLowDisk([path.join(dir, 'hls')], 0)).toBeUndefined();
  });
});
