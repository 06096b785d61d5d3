import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SourceFingerprint } from '../../core/domain';
import { fingerprintChange, isInside, sourceChangeSince, titleFiles, titleKeyFor } from '../../core/media-paths';
import { openSource, pathInMediaRoots, resolveNamedSource, resolveSourcePath, statSource } from '../../adapters/source-files';
import type { UpflowError } from '../../core/errors';
import { httpStatusOf } from '../../api/http-errors';

describe('resolveSourcePath', () => {
  let dir: string;
  let media: string;
  let outside: string;
  beforeAll(() => {
    dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'upflow-paths-')));
    media = path.join(dir, 'media');
    outside = path.join(dir, 'outside');
    fs.mkdirSync(path.join(media, 'films'), { recursive: true });
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(media, 'films', 'a.mkv'), 'x');
    fs.writeFileSync(path.join(media, '...And Justice for All.mkv'), 'x');
    fs.writeFileSync(path.join(outside, 'secret.mkv'), 'x');
    fs.symlinkSync(path.join(outside, 'secret.mkv'), path.join(media, 'escape.mkv'));
    fs.symlinkSync(path.join(media, 'films', 'a.mkv'), path.join(media, 'inside-link.mkv'));
    fs.symlinkSync(path.join(media, 'loop-b'), path.join(media, 'loop-a'));
    fs.symlinkSync(path.join(media, 'loop-a'), path.join(media, 'loop-b'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const status = (requested: string): number => {
    try {
      resolveSourcePath([media], requested);
      return 200;
    } catch (err) {
      return httpStatusOf((err as UpflowError).kind);
    }
  };

  it('accepts a file inside a media root, through links that stay inside', () => {
    expect(resolveSourcePath([media], path.join(media, 'films', 'a.mkv'))).toBe(path.join(media, 'films', 'a.mkv'));
    expect(resolveSourcePath([media], path.join(media, 'inside-link.mkv'))).toBe(path.join(media, 'films', 'a.mkv'));
  });
  it('accepts names that start with dots: only a whole .. climbs out', () => {
    expect(resolveSourcePath([media], path.join(media, '...And Justice for All.mkv'))).toBe(path.join(media, '...And Justice for All.mkv'));
    expect(status(`${media}/..%2f..%2foutside/secret.mkv`)).toBe(404);
    expect(isInside('/m', '/m/..a')).toBe(true);
    expect(isInside('/m', '/m/../a')).toBe(false);
    expect(isInside('/m', '/m/..')).toBe(false);
    expect(isInside('/m', '/')).toBe(false);
  });
  it('refuses traversal, outside paths and escaping links with 403', () => {
    expect(status(path.join(media, '..', 'outside', 'secret.mkv'))).toBe(403);
    expect(status(`${media}/films/../../outside/secret.mkv`)).toBe(403);
    expect(status(path.join(outside, 'secret.mkv'))).toBe(403);
    expect(status('/etc/passwd')).toBe(403);
    expect(status(path.join(media, 'escape.mkv'))).toBe(403);
    expect(status(`${media}-evil/a.mkv`)).toBe(403);
  });
  it('answers 404 for a missing file inside the roots, 400 for malformed paths', () => {
    expect(status(path.join(media, 'nope.mkv'))).toBe(404);
    expect(status('relative/a.mkv')).toBe(400);
    expect(status(`${media}/a\0.mkv`)).toBe(400);
    expect(status(path.join(media, 'films'))).toBe(400);
  });
  it('says why a path inside the roots leads nowhere: a name too long, a loop of links', () => {
    expect(() => resolveSourcePath([media], path.join(media, `${'a'.repeat(300)}.mkv`))).toThrow(/has a name too long for the file system$/);
    expect(() => resolveSourcePath([media], path.join(media, 'loop-a'))).toThrow(/goes round a loop of symbolic links$/);
    expect(status(path.join(media, 'loop-a'))).toBe(400);
  });
});

describe('titleKeyFor', () => {
  it('is a readable slug plus 64 bits of a hash of the real path', () => {
    expect(titleKeyFor('/m/The Film (1999).mkv')).toMatch(/^the-film-1999-[0-9a-f]{16}$/);
    expect(titleKeyFor('/m/a/Ep 1.mkv')).not.toBe(titleKeyFor('/m/b/Ep 1.mkv'));
    expect(titleKeyFor('/m/日本.mkv')).toMatch(/^title-[0-9a-f]{16}$/);
    // Pinned: a key names a title's folders and workflow, so it must not change under a title.
    expect(titleKeyFor('/m/a.mkv')).toBe('a-3559596f313fbd50');
  });
});

describe('fingerprints', () => {
  const v1: SourceFingerprint = { size: 1000, mtimeNs: '1767225600000000000', dev: '2049', ino: '131' };

  it('are the same only when size, modification time, device and inode all are', () => {
    expect(fingerprintChange(v1, { ...v1 })).toBeUndefined();
    expect(fingerprintChange(v1, { ...v1, size: 2000 })).toBe('1000 → 2000 bytes');
    expect(fingerprintChange(v1, { ...v1, mtimeNs: '1767225600000000001' })).toBe('modified 2026-01-01T00:00:00.000Z');
    expect(fingerprintChange(v1, { ...v1, ino: '132' })).toBe('another file under the same name');
    expect(fingerprintChange(v1, { ...v1, dev: '2050' })).toBe('another file under the same name');
    // A Radarr upgrade: another file, another size, another time.
    expect(fingerprintChange(v1, { size: 5000, mtimeNs: '1767312000000000000', dev: '2049', ino: '977' }))
      .toBe('another file under the same name, 1000 → 5000 bytes, modified 2026-01-02T00:00:00.000Z');
  });

  it('decide whether a final file is still made from the source as it is now', () => {
    const now = { fingerprint: v1, changedAtMs: Date.parse('2026-01-03T00:00:00Z') };
    expect(sourceChangeSince({ fingerprint: v1, probedAt: '2026-01-05T00:00:00Z' }, now)).toBeUndefined();
    expect(sourceChangeSince({ fingerprint: { ...v1, size: 1 }, probedAt: '2026-01-05T00:00:00Z' }, now)).toBe('1 → 1000 bytes');
    // Probed before fingerprints were recorded: changed when the file's status changed after the job began.
    expect(sourceChangeSince({ probedAt: '2026-01-05T00:00:00Z' }, now)).toBeUndefined();
    expect(sourceChangeSince({ probedAt: '2026-01-02T00:00:00Z' }, now)).toBe('changed 2026-01-03T00:00:00.000Z, after it was probed');
  });

  it('are read from the file: a file replaced by rename, or written to, is another version', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'upflow-fingerprint-'));
    try {
      const file = path.join(dir, 'a.mp4');
      fs.writeFileSync(file, 'one');
      const first = statSource(file).fingerprint;
      expect(first).toMatchObject({ size: 3, mtimeNs: expect.stringMatching(/^\d+$/), dev: expect.stringMatching(/^\d+$/), ino: expect.stringMatching(/^\d+$/) });
      expect(fingerprintChange(first, statSource(file).fingerprint)).toBeUndefined();
      fs.writeFileSync(path.join(dir, 'new'), 'one');
      fs.renameSync(path.join(dir, 'new'), file);
      expect(fingerprintChange(first, statSource(file).fingerprint)).toMatch(/^another file under the same name/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('openSource', () => {
  let dir: string;
  let media: string;
  let outside: string;
  beforeAll(() => {
    dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'upflow-open-')));
    media = path.join(dir, 'media');
    outside = path.join(dir, 'outside');
    fs.mkdirSync(path.join(media, 'films'), { recursive: true });
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(media, 'films', 'a.mkv'), 'inside');
    fs.writeFileSync(path.join(outside, 'secret.mkv'), 'outside');
    fs.symlinkSync(path.join(outside, 'secret.mkv'), path.join(media, 'escape.mkv'));
    execFileSync('mkfifo', [path.join(media, 'fifo.mkv')]);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('opens the checked file and says which version it opened', () => {
    const opened = openSource([media], path.join(media, 'films', '..', 'films', 'a.mkv'));
    try {
      expect(opened.realPath).toBe(path.join(media, 'films', 'a.mkv'));
      expect(fs.readFileSync(opened.fd, 'utf8')).toBe('inside');
      expect(opened.fingerprint).toEqual(statSource(opened.realPath).fingerprint);
      expect(opened.changeSinceOpened()).toBeUndefined();
    } finally {
      opened.close();
      opened.close(); // once only: a second close is harmless
    }
  });

  it('keeps reading the file it opened when the name is given to another file, and sees one written to', () => {
    const file = path.join(media, 'films', 'swapped.mkv');
    fs.writeFileSync(file, 'first');
    const opened = openSource([media], file);
    try {
      fs.rmSync(file);
      fs.symlinkSync(path.join(outside, 'secret.mkv'), file);
      expect(fs.readFileSync(`/proc/self/fd/${opened.fd}`, 'utf8')).toBe('first');
      expect(opened.changeSinceOpened()).toBeUndefined();
      fs.appendFileSync(`/proc/self/fd/${opened.fd}`, ' and more');
      expect(opened.changeSinceOpened()).toMatch(/5 → 14 bytes/);
    } finally {
      opened.close();
    }
  });

  it('refuses as resolveSourcePath does: outside, through a link leading outside, not a file', () => {
    const status = (requested: string) => {
      try {
        openSource([media], requested).close();
        return 200;
      } catch (err) {
        return httpStatusOf((err as UpflowError).kind);
      }
    };
    expect(status(path.join(outside, 'secret.mkv'))).toBe(403);
    expect(status(path.join(media, 'escape.mkv'))).toBe(403);
    expect(status(path.join(media, 'films'))).toBe(400);
    // A FIFO neither blocks nor is read.
    expect(status(path.join(media, 'fifo.mkv'))).toBe(400);
    expect(status(path.join(media, 'nope.mkv'))).toBe(404);
  });
});

describe('sources named in the media folders', () => {
  let dir: string;
  let media: string;
  beforeAll(() => {
    dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'upflow-named-')));
    media = path.join(dir, 'media');
    fs.mkdirSync(path.join(media, 'shows'), { recursive: true });
    fs.writeFileSync(path.join(media, 'shows', 'a.mp4'), 'x');
    fs.writeFileSync(path.join(dir, 'secret.mp4'), 'x');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('are named relative to their media folder', () => {
    expect(pathInMediaRoots([path.join(dir, 'other'), media], path.join(media, 'shows', 'a.mp4'))).toBe(path.join('shows', 'a.mp4'));
  });

  it('are found by that name or by their absolute path, through the media-folder guard', () => {
    const real = path.join(media, 'shows', 'a.mp4');
    expect(resolveNamedSource([path.join(dir, 'other'), media], 'shows/a.mp4')).toBe(real);
    expect(resolveNamedSource([media], real)).toBe(real);
    expect(() => resolveNamedSource([media], '../secret.mp4')).toThrow(/^\.\.\/secret\.mp4 is outside the media folders/);
    expect(() => resolveNamedSource([media], path.join(dir, 'secret.mp4'))).toThrow(/is outside the media folders/);
    expect(() => resolveNamedSource([media], 'shows/b.mp4')).toThrow(/^shows\/b\.mp4 does not exist in the media folders$/);
  });
});

describe('titleFiles', () => {
  it('keeps every output inside the configured folders', () => {
    const files = titleFiles({ hlsDir: '/d/hls', outputDir: '/d/out' }, 'film-1234abcd');
    expect(files).toEqual({
      hlsDir: '/d/hls/film-1234abcd',
      partialFinal: '/d/out/film-1234abcd.partial.mkv',
      finalFile: '/d/out/film-1234abcd.mkv',
    });
    expect(() => titleFiles({ hlsDir: '/d/hls', outputDir: '/d/out' }, '../etc')).toThrow(/invalid title key/);
  });
});
