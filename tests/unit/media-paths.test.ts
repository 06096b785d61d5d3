import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isInside, resolveSourcePath, titleFiles, titleKeyFor } from '../../common/media-paths';

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
      return (err as { status: number }).status;
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
  it('is a readable slug plus a hash of the real path', () => {
    expect(titleKeyFor('/m/The Film (1999).mkv')).toMatch(/^the-film-1999-[0-9a-f]{8}$/);
    expect(titleKeyFor('/m/a/Ep 1.mkv')).not.toBe(titleKeyFor('/m/b/Ep 1.mkv'));
    expect(titleKeyFor('/m/日本.mkv')).toMatch(/^title-[0-9a-f]{8}$/);
  });
});

describe('titleFiles', () => {
  it('keeps every output inside the configured folders', () => {
    const files = titleFiles({ hlsDir: '/d/hls', outputDir: '/d/out' }, 'film-1234abcd');
    expect(files).toEqual({
      hlsDir: '/d/hls/film-1234abcd',
      playlist: '/d/hls/film-1234abcd/stream.m3u8',
      segmentList: '/d/hls/film-1234abcd/segments.csv',
      partialFinal: '/d/out/film-1234abcd.partial.mkv',
      finalFile: '/d/out/film-1234abcd.mkv',
    });
    expect(() => titleFiles({ hlsDir: '/d/hls', outputDir: '/d/out' }, '../etc')).toThrow(/invalid title key/);
  });
});
