/**
 * One error type for people (AppError: an HTTP status and a message a person understands),
 * and the failure type names Temporal records for errors that retrying cannot fix.
 */

export class AppError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

/** A configuration variable is wrong; the message names it. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * ApplicationFailure types that activities throw as non-retryable. Plain strings so that
 * workflow code can compare them without importing anything from Node.
 */
export const FailureType = {
  /** The source is not a usable video: text, empty, truncated, audio only... */
  InvalidMedia: 'InvalidMedia',
  /** The source file is gone or unreadable. */
  SourceNotFound: 'SourceNotFound',
  /** The source is outside UPFLOW_MEDIA_ROOTS. */
  OutsideMediaRoots: 'OutsideMediaRoots',
  /** ffmpeg ran but the result is wrong (short final file, missing audio). */
  OutputVerification: 'OutputVerification',
  /** ffmpeg failed on input it could open: a property of the file, not of the moment. */
  EncodeFailed: 'EncodeFailed',
  /** The configured model's ONNX file is missing on the worker (run `npm run models`). */
  ModelUnavailable: 'ModelUnavailable',
  /** Free space under the data or output folder fell below UPFLOW_MIN_FREE_GB. */
  DiskFull: 'DiskFull',
  /**
   * The source file is no longer the version that was probed (replaced or rewritten): what was
   * planned for one file must not be encoded from another. Triggering again starts afresh.
   */
  SourceChanged: 'SourceChanged',
  /** The title key belongs to another source file: never taken over. */
  TitleConflict: 'TitleConflict',
} as const;
export type FailureType = (typeof FailureType)[keyof typeof FailureType];

export const NON_RETRYABLE_FAILURE_TYPES: FailureType[] = Object.values(FailureType);
