/** Which (model, precision) cases `upflow bench` measures, and in which order. */
import { benchCases, FFMPEG_ONLY } from '../../cli/bench';

describe('bench cases', () => {
  it('measures each model in each asked precision it is built in, grouped by precision so the bench changes workers least', () => {
    expect(benchCases([FFMPEG_ONLY, 'lanczos-x2', 'anime4k-s-an', 'realesrgan-x2'], ['fp32', 'int8', 'fp16']).map((c) => `${c.model} ${c.precision ?? '-'}`)).toEqual([
      'ffmpeg -',
      'lanczos-x2 fp32',
      'anime4k-s-an fp32',
      'realesrgan-x2 fp32',
      'anime4k-s-an int8',
      'anime4k-s-an fp16',
      'realesrgan-x2 fp16',
    ]);
  });

  it('measures a model built in none of the asked precisions once, in fp32', () => {
    expect(benchCases(['lanczos-x2', 'anime4k-m-an'], ['int8'])).toEqual([
      { model: 'anime4k-m-an', precision: 'int8' },
      { model: 'lanczos-x2', precision: 'fp32' },
    ]);
  });
});
