import { planPublication } from '../../core/jellyfin-versions';

const movie = '/media/films/Old Movie (1985)/Old Movie (1985).avi';

describe('publishing an upscale as a Jellyfin version', () => {
  it('names the version after the movie\'s own folder, beside the original', () => {
    expect(planPublication({ itemType: 'Movie', sourcePath: movie, siblings: ['Old Movie (1985).avi', 'Old Movie (1985).srt', 'poster.jpg'], outputHeight: 720 })).toEqual({
      kind: 'publish',
      target: '/media/films/Old Movie (1985)/Old Movie (1985) - Upscaled 720p.mkv',
      label: 'Upscaled 720p',
      stale: [],
    });
  });

  it('replaces a version it published at another height, and leaves other versions alone', () => {
    const siblings = ['Old Movie (1985).avi', 'Old Movie (1985) - Upscaled 960p.mkv', 'Old Movie (1985) - Directors Cut.mkv', 'Old Movie (1985) - Upscaled 720p.mkv'];
    const plan = planPublication({ itemType: 'Movie', sourcePath: movie, siblings, outputHeight: 720 });
    expect(plan).toMatchObject({ kind: 'publish', stale: ['/media/films/Old Movie (1985)/Old Movie (1985) - Upscaled 960p.mkv'] });
  });

  it('publishes from a version named after the folder too', () => {
    expect(planPublication({ itemType: 'Movie', sourcePath: '/m/Film (2010)/Film (2010) - DVD.mkv', siblings: ['Film (2010) - DVD.mkv'], outputHeight: 960 }))
      .toMatchObject({ kind: 'publish', target: '/m/Film (2010)/Film (2010) - Upscaled 960p.mkv' });
  });

  it('says why not: episodes, other item types, a movie without a folder of its own', () => {
    expect(planPublication({ itemType: 'Episode', sourcePath: '/tv/Show/Season 1/Show S01E01.mkv', siblings: [], outputHeight: 720 }))
      .toEqual({ kind: 'skip', reason: 'Jellyfin does not group episodes as versions: a file beside this one would show up as a second episode' });
    expect(planPublication({ itemType: 'MusicVideo', sourcePath: '/m/a/a.mkv', siblings: [], outputHeight: 720 })).toMatchObject({ kind: 'skip', reason: expect.stringMatching(/only movies/) });
    expect(planPublication({ itemType: 'Movie', sourcePath: '/m/films/a.mkv', siblings: ['a.mkv', 'b.mkv'], outputHeight: 720 }))
      .toMatchObject({ kind: 'skip', reason: expect.stringMatching(/not named after its folder/) });
    expect(planPublication({ itemType: 'Movie', sourcePath: '/m/A/A.mkv', siblings: ['A.mkv', 'B.mkv', 'notes.txt'], outputHeight: 720 }))
      .toEqual({ kind: 'skip', reason: 'the movie has no folder of its own (1 other video beside it), so Jellyfin would not group a version there' });
  });
});
