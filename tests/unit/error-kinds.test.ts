/**
 * Error kinds, each answered in one place: as an HTTP status by the API (api/http-errors.ts) and
 * as a Temporal failure by the activities (activities/failures.ts).
 */
import { ApplicationFailure } from '@temporalio/activity';
import { httpStatusOf, kindOfHttpStatus } from '../../api/http-errors';
import { toActivityFailure } from '../../activities/failures';
import { ERROR_KINDS, FailureType, UpflowError, type ErrorKind } from '../../core/errors';

describe('error kinds over HTTP', () => {
  it('answers each kind with the status the API has always answered it with', () => {
    const statuses = Object.fromEntries(ERROR_KINDS.map((kind) => [kind, httpStatusOf(kind)]));
    expect(statuses).toEqual({
      NotFound: 404, Unauthorized: 401, Forbidden: 403, BadInput: 400, Conflict: 409, InvalidMedia: 422,
      TooManyRequests: 429, Upstream: 502, Unavailable: 503, DiskFull: 503,
    });
  });

  it('reads an answer\'s status back as its kind (the CLI calling the API)', () => {
    for (const kind of ERROR_KINDS.filter((k) => k !== 'DiskFull')) expect(kindOfHttpStatus(httpStatusOf(kind))).toBe(kind);
    expect([kindOfHttpStatus(418), kindOfHttpStatus(500)]).toEqual(['BadInput', 'Upstream']);
  });
});

describe('error kinds as Temporal failures', () => {
  const failureOf = (kind: ErrorKind) => {
    const failure = toActivityFailure(new UpflowError(kind, `a ${kind} failure`));
    return failure instanceof ApplicationFailure ? { type: failure.type, nonRetryable: failure.nonRetryable, message: failure.message } : failure;
  };

  it('never retries what retrying cannot fix, with the failure type the workflow reads', () => {
    expect(failureOf('Forbidden')).toEqual({ type: FailureType.OutsideMediaRoots, nonRetryable: true, message: 'a Forbidden failure' });
    expect(failureOf('NotFound')).toMatchObject({ type: FailureType.SourceNotFound, nonRetryable: true });
    expect(failureOf('Conflict')).toMatchObject({ type: FailureType.TitleConflict, nonRetryable: true });
    expect(failureOf('BadInput')).toMatchObject({ type: FailureType.InvalidMedia, nonRetryable: true });
    expect(failureOf('InvalidMedia')).toMatchObject({ type: FailureType.InvalidMedia, nonRetryable: true });
    expect(failureOf('DiskFull')).toMatchObject({ type: FailureType.DiskFull, nonRetryable: true });
  });

  it('leaves a service that is down to Temporal\'s retries', () => {
    expect(failureOf('Unavailable')).toBeInstanceOf(UpflowError);
    expect(failureOf('Upstream')).toBeInstanceOf(UpflowError);
  });
});
