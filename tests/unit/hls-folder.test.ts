import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Parser } from 'm3u8-parser';
import { HlsFolder, parseChunkSegmentList, renderVodPlaylist } from '../../adapters/hls-folder';
import { planGrid } from '../../core/grid';

function parse(text: string) {
  const parser = new Parser();
  parser.push(text);
  parser.end();
  return parser.manifest;
}

describe("a title's HLS folder", () => {
  const grid = planGrid({ durationSeconds: 9, fps: 25, segmentSeconds: 2 });

  it('lists the whole title at once: a VOD playlist of every segment of the grid, ended', () => {
    const manifest = parse(renderVodPlaylist(grid));
    expect(manifest.playlistType).toBe('VOD');
    expect(manifest.endList).toBe(true);
    expect(manifest.targetDuration).toBe(2);
    expect(manifest.segments.map((s: { uri: string; duration: number }) => [s.uri, s.duration])).toEqual([
      ['seg00000.ts', 2], ['seg00001.ts', 2], ['seg00002.ts', 2], ['seg00003.ts', 2], ['seg00004.ts', 1],
    ]);
    expect(renderVodPlaylist(grid)).toContain('#EXT-X-INDEPENDENT-SEGMENTS');
    // Every EXTINF, rounded, stays within the target: 2.5 s segments say 3.
    expect(renderVodPlaylist(planGrid({ durationSeconds: 10, fps: 25, segmentSeconds: 2.5 }))).toContain('#EXT-X-TARGETDURATION:3');
  });

  it("reads the segments ffmpeg has closed from a chunk's list, ignoring anything else", () => {
    expect(parseChunkSegmentList('seg00007.ts,0.000000,16.000000\nseg00008.ts,16.000000,18.000000\n../x.ts,1,2\n')).toEqual([
      { index: 7, filename: 'seg00007.ts' },
      { index: 8, filename: 'seg00008.ts' },
    ]);
  });

  it('keeps segments of an earlier run from the same source and plan, unless told to start afresh', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'upflow-hls-'));
    try {
      const folder = new HlsFolder(path.join(dir, 'title'));
      expect(await folder.prepare({ model: 'a' }, grid)).toEqual([false, false, false, false, false]);
      const chunk = await folder.openChunk('chunk-1');
      fs.writeFileSync(path.join(chunk.dir, 'seg00002.ts'), 'x');
      expect(await chunk.adopt({ index: 2, filename: 'seg00002.ts' })).toEqual({ bytes: 1, replaced: false });
      await chunk.close();
      expect(fs.existsSync(chunk.dir)).toBe(false);
      expect(await folder.prepare({ model: 'a' }, grid)).toEqual([false, false, true, false, false]);
      // Upscaled again on purpose (a forced trigger): nothing kept.
      expect(await folder.prepare({ model: 'a' }, grid, true)).toEqual([false, false, false, false, false]);
      fs.writeFileSync(folder.segmentPath(2), 'x');
      expect(await folder.prepare({ model: 'b' }, grid)).toEqual([false, false, false, false, false]);
      expect(fs.readFileSync(folder.playlist, 'utf8')).toContain('seg00004.ts');
      await expect(folder.openChunk('../x')).rejects.toThrow(/invalid chunk ticket/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
