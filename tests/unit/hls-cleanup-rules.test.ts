import { decideHlsFolder, type HlsFolderFacts } from '../../core/hls-cleanup-rules';
import type { HlsCleanupOptions } from '../../core/domain';

const HOUR = 3_600_000;
const NOW = Date.parse('2026-11-25T03:00:00Z');
const options: HlsCleanupOptions = { dryRun: false, maxAgeMs: 24 * HOUR, completedOnly: false, abandonedAfterMs: 6 * HOUR };
const job = (state: NonNullable<HlsFolderFacts['job']>['state'], hoursAgo: number) => ({
  id: 'run-1',
  state,
  finishedAtMs: state === 'complete' || state === 'failed' || state === 'cancelled' ? NOW - hoursAgo * HOUR : null,
  lastActivityAtMs: NOW - hoursAgo * HOUR,
});
const facts = (f: Partial<HlsFolderFacts>): HlsFolderFacts => ({ modifiedAtMs: NOW - 100 * HOUR, holdsOutputFolder: false, ...f });

describe('which HLS folders cleanup removes', () => {
  it('removes a complete stream once its job finished longer ago than the max age', () => {
    expect(decideHlsFolder(facts({ job: job('complete', 25) }), options, NOW)).toEqual({ remove: true, reason: 'complete', ageMs: 25 * HOUR });
    expect(decideHlsFolder(facts({ job: job('complete', 23) }), options, NOW)).toEqual({ remove: false, why: 'complete 23h ago; kept for 24h' });
  });

  it('applies the age rule to a complete job whose workflow waits out its retention timer', () => {
    expect(decideHlsFolder(facts({ job: job('complete', 25), runningJobId: 'run-1' }), options, NOW)).toMatchObject({ remove: true });
  });

  it('never removes a stream being produced, however idle, nor one whose title started again', () => {
    expect(decideHlsFolder(facts({ job: job('streaming', 50), runningJobId: 'run-1' }), options, NOW)).toEqual({ remove: false, why: 'being produced (streaming)' });
    expect(decideHlsFolder(facts({ job: job('complete', 50), runningJobId: 'run-2' }), options, NOW)).toEqual({ remove: false, why: 'being produced (starting)' });
    expect(decideHlsFolder(facts({ runningJobId: 'run-2' }), options, NOW)).toMatchObject({ remove: false });
  });

  it('removes a stopped stream once idle for the abandoned limit, unless completed-only', () => {
    for (const state of ['failed', 'cancelled', 'streaming'] as const) {
      expect(decideHlsFolder(facts({ job: job(state, 7) }), options, NOW)).toEqual({ remove: true, reason: 'abandoned', ageMs: 7 * HOUR });
      expect(decideHlsFolder(facts({ job: job(state, 7) }), { ...options, completedOnly: true }, NOW)).toMatchObject({ remove: false });
    }
    expect(decideHlsFolder(facts({ job: job('failed', 5) }), options, NOW)).toEqual({ remove: false, why: 'failed, last change 5h ago; abandoned after 6h' });
    // A file touched recently counts as activity even if Postgres saw nothing.
    expect(decideHlsFolder(facts({ job: job('failed', 7), modifiedAtMs: NOW - HOUR }), options, NOW)).toMatchObject({ remove: false });
  });

  it('removes a folder no job made once untouched for the abandoned limit, unless completed-only', () => {
    expect(decideHlsFolder(facts({}), options, NOW)).toEqual({ remove: true, reason: 'orphaned', ageMs: 100 * HOUR });
    expect(decideHlsFolder(facts({ modifiedAtMs: NOW - HOUR }), options, NOW)).toMatchObject({ remove: false });
    expect(decideHlsFolder(facts({}), { ...options, completedOnly: true }, NOW)).toMatchObject({ remove: false });
  });

  it('never removes a folder holding the output folder', () => {
    expect(decideHlsFolder(facts({ job: job('complete', 100), holdsOutputFolder: true }), options, NOW)).toEqual({ remove: false, why: 'holds the output folder with final files' });
  });
});
