/**
 * Errors as Temporal failures, in one place: an UpflowError's kind says whether retrying can
 * help (bad input, a file outside the media folders or gone, a title key taken, a full disk:
 * never retried); a failing ffmpeg carries its own failure type (adapters/ffmpeg.ts).
 */
import { ApplicationFailure } from '@temporalio/activity';
import { FailureType, UpflowError, type ErrorKind } from '../core/errors';
import { MediaToolError } from '../adapters/ffmpeg';

/** The failure type of each kind that retrying cannot fix; kinds not named are retried (a service down, Jellyfin failing). */
const NON_RETRYABLE_KINDS: Partial<Record<ErrorKind, FailureType>> = {
  BadInput: FailureType.InvalidMedia,
  InvalidMedia: FailureType.InvalidMedia,
  Forbidden: FailureType.OutsideMediaRoots,
  NotFound: FailureType.SourceNotFound,
  Conflict: FailureType.TitleConflict,
  DiskFull: FailureType.DiskFull,
};

export function toActivityFailure(err: unknown): unknown {
  if (err instanceof MediaToolError) {
    return ApplicationFailure.nonRetryable(err.message, err.failureType);
  }
  if (err instanceof UpflowError) {
    const type = NON_RETRYABLE_KINDS[err.kind];
    return type ? ApplicationFailure.nonRetryable(err.message, type) : err;
  }
  return err;
}

/** The source is not the version the job was planned for: never retried, triggering again starts afresh. */
export function sourceChangedFailure(change: string, when: 'since it was probed' | 'while it was being upscaled'): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`the source changed ${when} (${change}): trigger again`, FailureType.SourceChanged);
}
