/**
 * One error type for people (UpflowError: what kind of failure, and a message a person
 * understands), and the failure type names Temporal records for errors that retrying cannot fix.
 * A kind says what went wrong, not how a transport answers it: api/http-errors.ts turns kinds
 * into HTTP statuses, activities/failures.ts into Temporal failures, each in one place.
 */

/** What went wrong, as hls.js names its error types: for a transport to answer, not to read. */
export const ERROR_KINDS = [
  /** The thing asked for does not exist (a job, a file, a Jellyfin item). */
  'NotFound',
  /** No credential, or a wrong one. */
  'Unauthorized',
  /** Known who asks, and not allowed: outside the media folders, another site's page, an expired token. */
  'Forbidden',
  /** The request itself is wrong: a field, a path that is not absolute, a NUL byte. */
  'BadInput',
  /** It clashes with what is: a job already ended, two titles of one name, a title key taken. */
  'Conflict',
  /** The media is not something Upflow can upscale: not a video, no file. */
  'InvalidMedia',
  /** Too many requests from one client: try again shortly. */
  'TooManyRequests',
  /** A service Upflow asks (Jellyfin) failed or answered nonsense. */
  'Upstream',
  /** Upflow cannot answer now (a service down, not configured, a segment still being made). */
  'Unavailable',
  /** Free space under the data or output folder fell below UPFLOW_MIN_FREE_GB. */
  'DiskFull',
] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

export class UpflowError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    /** For the transport: `retryAfterSeconds`, the candidates of a conflict, ... */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'UpflowError';
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
