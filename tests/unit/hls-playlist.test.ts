import { Parser } from 'm3u8-parser';
import { parseSegmentList, renderPlaylist } from '../../adapters/hls-playlist';

const csv = 'seg00000.ts,0.000000,1.080000\nseg00001.ts,1.080000,7.080000\nseg00002.ts,7.080000,13.080000\n';

function parse(text: string) {
  const parser = new Parser();
  parser.push(text);
  parser.end();
  return parser.manifest;
}

describe('HLS playlist', () => {
  it('parses ffmpeg segment list lines', () => {
    expect(parseSegmentList(csv)).toEqual([
      { index: 0, filename: 'seg00000.ts', startSeconds: 0, durationSeconds: 1.08 },
      { index: 1, filename: 'seg00001.ts', startSeconds: 1.08, durationSeconds: 6 },
      { index: 2, filename: 'seg00002.ts', startSeconds: 7.08, durationSeconds: 6 },
    ]);
  });

  it('renders a growing EVENT playlist, then ends it', () => {
    const segments = parseSegmentList(csv);
    const live = parse(renderPlaylist(segments, { targetDurationSeconds: 6, listSize: 0, ended: false }));
    expect(live.playlistType).toBe('EVENT');
    expect(live.targetDuration).toBe(6);
    expect(live.endList).toBeFalsy();
    expect(live.segments.map((s: { uri: string }) => s.uri)).toEqual(['seg00000.ts', 'seg00001.ts', 'seg00002.ts']);
    const ended = parse(renderPlaylist(segments, { targetDurationSeconds: 6, listSize: 0, ended: true }));
    expect(ended.endList).toBe(true);
    expect(renderPlaylist(segments, { targetDurationSeconds: 6, listSize: 0, ended: false })).toContain('#EXT-X-INDEPENDENT-SEGMENTS');
  });

  it('keeps a live window when HLS_LIST_SIZE is set', () => {
    const manifest = parse(renderPlaylist(parseSegmentList(csv), { targetDurationSeconds: 6, listSize: 2, ended: false }));
    expect(manifest.mediaSequence).toBe(1);
    expect(manifest.playlistType).toBeUndefined();
    expect(manifest.segments).toHaveLength(2);
  });
});
