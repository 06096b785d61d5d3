/**
 * Error kinds as HTTP answers, in one place: the API's error handler answers an UpflowError with
 * the status of its kind; the CLI reads an answer's status back as a kind.
 */
import type { ErrorKind } from '../core/errors';

const HTTP_STATUS: Record<ErrorKind, number> = {
  BadInput: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  Conflict: 409,
  InvalidMedia: 422,
  TooManyRequests: 429,
  Upstream: 502,
  Unavailable: 503,
  // Upflow's own disk, not the caller's doing: as a service that cannot answer now.
  DiskFull: 503,
};

export function httpStatusOf(kind: ErrorKind): number {
  return HTTP_STATUS[kind];
}

/** The kind of an HTTP answer's failure (the CLI calling a running API); Upstream for any other 5xx, BadInput for any other 4xx. */
export function kindOfHttpStatus(status: number): ErrorKind {
  const kind = (Object.keys(HTTP_STATUS) as ErrorKind[]).find((k) => k !== 'DiskFull' && HTTP_STATUS[k] === status);
  return kind ?? (status >= 500 ? 'Upstream' : 'BadInput');
}
