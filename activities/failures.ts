/** Maps errors from the adapters to Temporal failures: bad input is never retried. */
import { ApplicationFailure } from '@temporalio/activity';
import { AppError, FailureType } from '../core/errors';
import { MediaToolError } from '../adapters/ffmpeg';

export function toActivityFailure(err: unknown): unknown {
  if (err instanceof MediaToolError) {
    return ApplicationFailure.nonRetryable(err.message, err.failureType);
  }
  if (err instanceof AppError) {
    const type = err.status === 403 ? FailureType.OutsideMediaRoots
      : err.status === 404 ? FailureType.SourceNotFound
        : err.status === 409 ? FailureType.TitleConflict
          : FailureType.InvalidMedia;
    return ApplicationFailure.nonRetryable(err.message, type);
  }
  return err;
}

/** The source is not the version the job was planned for: never retried, triggering again starts afresh. */
export function sourceChangedFailure(change: string, when: 'since it was probed' | 'while it was being upscaled'): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`the source changed ${when} (${change}): trigger again`, FailureType.SourceChanged);
}
