/**
 * Who may fetch a title's HLS. Without UPFLOW_API_KEY, anyone who reaches the server (the API
 * then listens on loopback only). With it, a request carries the key or a token signed for that
 * one title. The token sits in the URL's path, not its query: players resolve the playlist's
 * segment URIs against the playlist's URL and drop its query, so only a path reaches segments.
 *
 *   /hls/<title>/<file>                              the key in a header (or no key configured)
 *   /hls/t/<expires>.<signature>/<title>/<file>      a signed `hls_url`
 *
 * `signature` is base64url HMAC-SHA256 over the title key and `expires` (seconds since the
 * epoch) with a secret derived from UPFLOW_API_KEY, so every API process agrees with one setting.
 * Pure: the API's HLS route and nginx's auth_request (api/hls.ts) both decide here.
 */
import crypto from 'node:crypto';
import { isTitleKey } from './media-paths';
import type { ErrorKind } from './errors';

/** Signing material: the secret derived from UPFLOW_API_KEY and UPFLOW_HLS_TOKEN_TTL. */
export interface HlsTokens {
  secret: Buffer;
  ttlSeconds: number;
}

/** The parts of a request path under `/hls`. */
export interface HlsPath {
  titleKey: string;
  /** A playlist or segment name in the title's folder. */
  file: string;
  /** `<expires>.<signature>`, as the URL has it (not checked yet). */
  token?: string;
}

/** How the request's API key compares with UPFLOW_API_KEY. */
export type PresentedKey = 'none' | 'right' | 'wrong';

export type HlsAccess = { allowed: true } | { allowed: false; kind: Extract<ErrorKind, 'Unauthorized' | 'Forbidden'>; reason: string };

/**
 * Why a request is refused. No quotes or backslashes: nginx writes them into a JSON body as
 * they are (deploy/nginx.conf).
 */
export const HLS_REFUSALS = {
  noCredential: 'this HLS file needs the API key (X-Api-Key header) or the signed hls_url Upflow hands out',
  wrongKey: 'the API key is wrong',
  malformed: 'the HLS token in this URL is malformed',
  mismatch: 'the HLS token in this URL is not for this title, or was altered',
  expired: 'the HLS token in this URL has expired: ask Upflow for a fresh hls_url',
  outlivesTtl: 'the HLS token in this URL outlives UPFLOW_HLS_TOKEN_TTL: ask Upflow for a fresh hls_url',
} as const;

/** Playlists and segments: not ffmpeg's segment list, temp files, dot files or anything with a path in it. */
const SERVED_FILE = /^[A-Za-z0-9][A-Za-z0-9_-]*\.(m3u8|ts|m4s|mp4)$/;
const TOKEN = /^([1-9][0-9]{0,11})\.([A-Za-z0-9_-]{43})$/;
/** How far ahead of this machine's clock another API process may have signed. */
const CLOCK_SKEW_SECONDS = 60;

/** Undefined without a key: nothing is signed and HLS is open. */
export function hlsTokens(apiKey: string | undefined, ttlMs: number): HlsTokens | undefined {
  if (!apiKey) return undefined;
  // Its own secret, not the key itself: a token's signature never tells anything about the key.
  const secret = Buffer.from(crypto.hkdfSync('sha256', apiKey, '', 'upflow hls token v1', 32));
  return { secret, ttlSeconds: Math.round(ttlMs / 1000) };
}

function signature(secret: Buffer, titleKey: string, expires: number): string {
  return crypto.createHmac('sha256', secret).update(`${titleKey}\n${expires}`).digest('base64url');
}

/** A token for `titleKey` alone, valid for the TTL from `nowMs`. */
export function signHlsToken(tokens: HlsTokens, titleKey: string, nowMs: number): string {
  const expires = Math.ceil(nowMs / 1000) + tokens.ttlSeconds;
  return `${expires}.${signature(tokens.secret, titleKey, expires)}`;
}

/** Undefined when `token` is good for `titleKey` at `nowMs`; otherwise why not. */
export function hlsTokenProblem(tokens: HlsTokens, token: string, titleKey: string, nowMs: number): string | undefined {
  const match = TOKEN.exec(token);
  if (!match) return HLS_REFUSALS.malformed;
  const expires = Number(match[1]);
  // Compared as text, in constant time: base64url has several spellings of the same last bits.
  const given = Buffer.from(match[2]!);
  const expected = Buffer.from(signature(tokens.secret, titleKey, expires));
  if (!crypto.timingSafeEqual(given, expected)) return HLS_REFUSALS.mismatch;
  const nowSeconds = nowMs / 1000;
  if (expires <= nowSeconds) return HLS_REFUSALS.expired;
  // Signed before UPFLOW_HLS_TOKEN_TTL was shortened: the shorter lifetime holds at once.
  if (expires > nowSeconds + tokens.ttlSeconds + CLOCK_SKEW_SECONDS) return HLS_REFUSALS.outlivesTtl;
  return undefined;
}

/**
 * A request path relative to `/hls` (`/<title>/<file>` or `/t/<token>/<title>/<file>`), as it
 * came, not decoded. Anything else (encoded characters, `.` or `..`, doubled slashes, other
 * files) is undefined: what passes names exactly one file, whoever normalises the path.
 */
export function parseHlsPath(requestPath: string): HlsPath | undefined {
  const parts = requestPath.split('/');
  if (parts.shift() !== '') return undefined;
  const token = parts.length === 4 && parts[0] === 't' ? parts[1] : undefined;
  if (token === '') return undefined;
  const [titleKey, file, ...rest] = token === undefined ? parts : parts.slice(2);
  if (titleKey === undefined || file === undefined || rest.length > 0) return undefined;
  if (!isTitleKey(titleKey) || !SERVED_FILE.test(file)) return undefined;
  return token === undefined ? { titleKey, file } : { titleKey, file, token };
}

/** The path under `/hls` of a title's playlist, signed when `token` is given. */
export function hlsPlaylistPath(titleKey: string, token?: string): string {
  return token === undefined ? `${titleKey}/stream.m3u8` : `t/${token}/${titleKey}/stream.m3u8`;
}

/** The key opens every title; otherwise the path's token must be good for its own title. */
export function decideHlsAccess(path: HlsPath, key: PresentedKey, tokens: HlsTokens | undefined, nowMs: number): HlsAccess {
  if (!tokens || key === 'right') return { allowed: true };
  if (path.token !== undefined) {
    const problem = hlsTokenProblem(tokens, path.token, path.titleKey, nowMs);
    return problem ? { allowed: false, kind: 'Forbidden', reason: problem } : { allowed: true };
  }
  return { allowed: false, kind: 'Unauthorized', reason: key === 'wrong' ? HLS_REFUSALS.wrongKey : HLS_REFUSALS.noCredential };
}
