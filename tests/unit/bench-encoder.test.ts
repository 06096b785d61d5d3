/**
 * The encoder bench's judgement of a lookahead: PSNR against the preset's lookahead at the same
 * bytes, read between the preset's own points, never beyond them.
 */
import { psnrAtSameBytes, type RatePoint } from '../../cli/bench-encoder';

const point = (crf: number, mb: number, psnr: number): RatePoint => ({ crf, bytes: mb * 1e6, psnr });

describe('PSNR at the same bytes', () => {
  // The preset's curve: 1.0 MB 45 dB, 1.2 MB 47 dB, 1.6 MB 50 dB.
  const reference = [point(23, 1.0, 45), point(20, 1.2, 47), point(17, 1.6, 50)];

  it('reads the reference linearly between its points', () => {
    // At 1.1 MB the reference gives 46 dB; at 1.4 MB, 48.5 dB.
    expect(psnrAtSameBytes([point(20, 1.1, 46.5)], reference)).toBeCloseTo(0.5, 9);
    expect(psnrAtSameBytes([point(17, 1.4, 48), point(20, 1.1, 46)], reference)).toBeCloseTo(-0.25, 9);
    expect(psnrAtSameBytes([point(20, 1.2, 47)], reference)).toBeCloseTo(0, 9);
    // The reference's ends count too.
    expect(psnrAtSameBytes([point(20, 1.0, 45.2)], reference)).toBeCloseTo(0.2, 9);
    expect(psnrAtSameBytes([point(20, 1.6, 49.7)], reference)).toBeCloseTo(-0.3, 9);
  });

  it('leaves out points beyond the reference, and says null when none is left', () => {
    expect(psnrAtSameBytes([point(23, 0.8, 44), point(20, 1.1, 46.5), point(14, 2.0, 53)], reference)).toBeCloseTo(0.5, 9);
    expect(psnrAtSameBytes([point(23, 0.8, 44)], reference)).toBeNull();
  });
});
