/** The one line the CLI prints for a failure: never empty. */
import { errorText } from '../../cli/format';

describe('errorText', () => {
  it('gives the message, else an inner error\'s (a dual-stack connect\'s AggregateError has none), else the code', () => {
    expect(errorText(new Error('Postgres is unreachable'))).toBe('Postgres is unreachable');
    const dualStack = Object.assign(new AggregateError([new Error('connect ECONNREFUSED ::1:5432'), new Error('connect ECONNREFUSED 127.0.0.1:5432')], ''), { code: 'ECONNREFUSED' });
    expect(errorText(dualStack)).toBe('connect ECONNREFUSED ::1:5432');
    expect(errorText(Object.assign(new Error(''), { code: 'EPIPE' }))).toBe('EPIPE');
    expect(errorText('plain words')).toBe('plain words');
  });
});
