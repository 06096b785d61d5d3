/** How a job waiting for a free worker reads: its place in line in the monitor and on the status page. */
import type { JobView } from '../../services';
import { placeInLine } from '../../core/domain';
import { monitorFigures, stateText } from '../../cli/monitor';
import { stateLabel, type LabelledJob } from '../../client-js/src/status-labels';

describe('placeInLine', () => {
  it('says the position as an English ordinal', () => {
    expect([1, 2, 3, 4, 10].map(placeInLine)).toEqual(['1st in line', '2nd in line', '3rd in line', '4th in line', '10th in line']);
  });

  it('says 11th to 13th in every hundred, but 21st, 22nd, 23rd and 101st', () => {
    expect([11, 12, 13, 21, 22, 23, 101, 111, 112].map(placeInLine)).toEqual([
      '11th in line', '12th in line', '13th in line', '21st in line', '22nd in line', '23rd in line', '101st in line', '111th in line', '112th in line',
    ]);
  });
});

function jobView(patch: Partial<JobView>): JobView {
  return {
    id: '01a2121c-0000-7000-8000-000000000001',
    titleKey: 'film-1a2b3c4d',
    name: 'Film',
    state: 'streaming',
    upscaler: 'lanczos',
    model: null,
    source: { durationSeconds: 60 },
    plan: null,
    segments: 0,
    contentSeconds: 0,
    rate: null,
    fps: null,
    percent: 0,
    etaSeconds: null,
    streamStartedAt: null,
    queuePosition: 2,
    ...patch,
  } as JobView;
}

describe('upflow monitor', () => {
  it('shows a waiting job with its place in line, in the text and the JSON', () => {
    const figures = monitorFigures(jobView({ queuePosition: 2 }));
    expect(figures).toMatchObject({ state: 'streaming', waiting_for_worker: true, queue_position: 2 });
    expect(stateText(figures)).toBe('waiting for a free worker (2nd in line)');
  });

  it('shows a stream that has started as streaming, with no place in line', () => {
    const figures = monitorFigures(jobView({ streamStartedAt: '2026-11-25T10:00:00.000Z', queuePosition: null, segments: 3 }));
    expect(figures).toMatchObject({ waiting_for_worker: false, queue_position: null });
    expect(stateText(figures)).toBe('streaming');
  });

  it('still says waiting when an older API sends no position', () => {
    const figures = monitorFigures(jobView({ queuePosition: undefined }));
    expect(figures.queue_position).toBeNull();
    expect(stateText(figures)).toBe('waiting for a free worker');
  });
});

describe('status page row', () => {
  const summary = (patch: Partial<LabelledJob>): LabelledJob => ({ state: 'streaming', segments: 0, ...patch });

  it('says a waiting stream waits for a free worker, with its place in line', () => {
    expect(stateLabel(summary({ queuePosition: 1 }), false)).toBe('waiting for a free worker · 1st in line');
    expect(stateLabel(summary({ queuePosition: 3 }), false)).toBe('waiting for a free worker · 3rd in line');
  });

  it('says a started stream without segments is starting, and cancelling wins over both', () => {
    expect(stateLabel(summary({ queuePosition: null }), false)).toBe('starting');
    expect(stateLabel(summary({}), false)).toBe('starting');
    expect(stateLabel(summary({ queuePosition: 1 }), true)).toBe('cancelling…');
    expect(stateLabel(summary({ queuePosition: null, segments: 2 }), false)).toBe('streaming');
  });
});
