import { CONTENT_KINDS, DEFAULT_MODEL_FOR, contentKindOfGenres } from '../../core/content-kind';
import { MODELS, MODEL_IDS, stepDownLadder } from '../../core/models';

describe('model registry', () => {
  it('keeps one scale along every step-down ladder, ending in a filter', () => {
    for (const id of MODEL_IDS) {
      const ladder = stepDownLadder(id);
      expect(new Set(ladder.map((m) => MODELS[m].scale))).toEqual(new Set([MODELS[id].scale]));
      expect(MODELS[ladder[ladder.length - 1]!].kind).toBe('filter');
    }
  });

  it('names a licence and source package for every learned model', () => {
    for (const id of MODEL_IDS) {
      const info = MODELS[id];
      if (info.kind === 'filter') continue;
      expect(info.source).toMatchObject({ package: expect.any(String), version: expect.any(String), licence: expect.any(String) });
    }
  });

  it('offers every Anime4K size in real-life and anime variants', () => {
    for (const size of ['s', 'm', 'l'] as const) {
      expect(MODELS[`anime4k-${size}-rl` as const].content).toBe('real-life');
      expect(MODELS[`anime4k-${size}-an` as const].content).toBe('anime');
    }
  });
});

describe('content kinds', () => {
  it('reads animation from Jellyfin genres (Animation, Anime; any case), and nothing from the others', () => {
    expect(contentKindOfGenres(['Comedy', 'Animation'])).toBe('animation');
    expect(contentKindOfGenres([' anime '])).toBe('animation');
    expect(contentKindOfGenres(['Drama', 'Animated Shorts'])).toBeUndefined();
    expect(contentKindOfGenres([])).toBeUndefined();
  });

  it('gives every kind a default that runs at video speed on a CPU and can step down to lanczos', () => {
    for (const kind of CONTENT_KINDS) {
      const info = MODELS[DEFAULT_MODEL_FOR[kind]];
      expect(info).toMatchObject({ scale: 2, suited: 'cpu', kind: 'cnn' });
      expect(stepDownLadder(info.id)).toContain('lanczos-x2');
    }
  });
});
