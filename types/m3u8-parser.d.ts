/** The part of m3u8-parser (which ships no types) the tests use. */
declare module 'm3u8-parser' {
  export interface Segment {
    uri: string;
    duration: number;
    timeline?: number;
    /** Set on a segment that follows #EXT-X-DISCONTINUITY. */
    discontinuity?: boolean;
  }
  export interface Manifest {
    allowCache?: boolean;
    endList?: boolean;
    mediaSequence?: number;
    playlistType?: 'EVENT' | 'VOD';
    targetDuration?: number;
    segments: Segment[];
    /** Indexes of segments that follow #EXT-X-DISCONTINUITY. */
    discontinuityStarts: number[];
    version?: number;
  }
  export class Parser {
    manifest: Manifest;
    push(chunk: string): void;
    end(): void;
  }
}
