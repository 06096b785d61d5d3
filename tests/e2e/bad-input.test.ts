/**
 * A barrage of bad input against the real stack (`upflow up`: Postgres, the Temporal dev server,
 * the worker running ffmpeg's lanczos path), through every API entry that takes input and
 * through the files themselves. Each case, one line of the table below, ends one of four ways:
 *   refused   a 4xx with a reason a person can read (`{"error": …}`), nothing started;
 *   failed    the job fails, its reason in Postgres (GET /jobs/:id) and in Temporal;
 *   upscaled  valid but unusual media comes out right: a final file that decodes, twice the
 *             picture as shown, the source's duration;
 *   hidden    an HLS request that reaches outside the HLS folder gets a 4xx and not one byte.
 * Meanwhile a good clip, triggered first, completes; afterwards nothing was written outside the
 * configured folders and the worker never crashed. With UPFLOW_RECORD_FIGURES=1 the counts (cases
 * by outcome, those that held, what the checks after it found) go to docs/bench/bad-input.json.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { parseDurationMs } from '../../core/config';
import { hlsTokens, signHlsToken } from '../../core/hls-access';
import { startRecordingFigures, type FiguresRecorder } from '../support/figures';
import { ffprobe, makeBadInputs, makeClip, makeMoreBadInputs, makeOddMedia, type BadInput, type OddMedia } from '../support/fixtures';
import { startJellyfinStandIn, type JellyfinStandIn } from '../support/jellyfin-stand-in';
import { startUpflow, stopAndRemove, waitFor, type UpflowProcess } from '../support/upflow-process';

const API_KEY = 'bad-input-key-0123456789';
const SCALE = 2;
const GOOD_SECONDS = 12;
/** In every canary file: an answer that contains it came from outside the HLS folder. */
const CANARY = 'CANARY-5e1f0c';
const UNKNOWN_JOB = '7d7e0a4c-7d43-4c53-9a1e-5f6e7f8a9b0c';
/** Jellyfin items (the stand-in's library) whose files are not what they should be. */
const ITEM = {
  traversal: '0badc0de000040008000000000000001',
  symlink: '0badc0de000040008000000000000002',
  nulPath: '0badc0de000040008000000000000003',
  unknown: '0badc0de000040008000000000000004',
  nulName: '0badc0de000040008000000000000005',
  relative: '0badc0de000040008000000000000006',
  folder: '0badc0de000040008000000000000007',
};

/** What the stack and the fixtures are, once made: every case's request is built from it. */
interface Setup {
  dir: string;
  media: string;
  /** Next to the media folder: what traversal aims at. */
  canary: string;
  /** A real video outside the media folders: upscaled, it would leave an output behind. */
  canaryVideo: string;
  bad: Record<string, BadInput>;
  odd: Record<string, OddMedia>;
  /** The good clip's title: HLS requests start from its folder. */
  goodKey: string;
  /** The token of the good clip's signed `hls_url` (its trigger's answer). */
  goodToken: string;
}

/**
 * One request, sent as is: the path byte for byte (no URL normalising), the API key unless
 * `key: false`; or `wire`, bytes written to the socket in place of an HTTP request.
 */
interface Sent {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  key?: false;
  wire?: string;
}

type Expected =
  | { refused: number; error: RegExp }
  | { failed: (t: Setup) => RegExp }
  | { upscaled: (t: Setup) => OddMedia }
  | { hidden: true };

interface Case {
  name: string;
  send: (t: Setup) => Sent;
  expect: Expected;
}

type OutcomeKind = 'refused' | 'failed' | 'upscaled' | 'hidden';
const outcomeKind = (expected: Expected): OutcomeKind =>
  'refused' in expected ? 'refused' : 'failed' in expected ? 'failed' : 'upscaled' in expected ? 'upscaled' : 'hidden';

const json = (method: string, route: string, body: unknown, headers: Record<string, string> = {}): Sent => ({
  method, path: route, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body),
});
const raw = (route: string, body: string | Buffer, contentType: string, headers: Record<string, string> = {}): Sent => ({
  method: 'POST', path: route, headers: { 'content-type': contentType, ...headers }, body,
});
const get = (route: string): Sent => ({ method: 'GET', path: route });
const trigger = (file: string, name?: string): Sent => json('POST', '/upscale-trigger', { Item: { Path: file, ...(name === undefined ? {} : { Name: name }) } });
const webhook = (itemId: string): Sent => raw('/upscale-trigger', JSON.stringify({ NotificationType: 'PlaybackStart', ItemId: itemId, Name: 'x' }), 'text/plain');

/** A request without the API key: what a player holding only a signed URL sends. */
const keyless = (route: string): Sent => ({ method: 'GET', path: route, key: false });
/** Tokens as Upflow signs them (the stack's key and default lifetime), for titles and times of a case's choosing. */
const TOKENS = hlsTokens(API_KEY, parseDurationMs('6h'))!;
/** HLS folders planted beside the titles': one holding links out, one that is a link out. */
const PLANTED = { linksInside: 'planted-0a0a0a0a', linkedFolder: 'linked-0b0b0b0b' };

const refused = (status: number, error: RegExp) => ({ refused: status, error });
const hidden = { hidden: true } as const;
const badFile = (name: string, key: string): Case => ({ name, send: (t) => trigger(t.bad[key]!.file), expect: { failed: (t) => t.bad[key]!.reason } });
const oddFile = (name: string, key: string): Case => ({ name, send: (t) => trigger(t.odd[key]!.file), expect: { upscaled: (t) => t.odd[key]! } });

/** The token with one signature character changed. */
const altered = (token: string): string => `${token.slice(0, -2)}${token.at(-2) === 'A' ? 'B' : 'A'}${token.at(-1)}`;
/** The token's signature under an expiry an hour later. */
const laterExpiry = (token: string): string => `${Number(token.split('.')[0]) + 3600}.${token.split('.')[1]}`;

const GOOD_BODY = (t: Setup) => ({ Item: { Path: path.join(t.media, 'good.mp4') } });

const CASES: Case[] = [
  // ---- where a source may come from: POST /upscale-trigger's Item.Path and the media-folder guard
  { name: 'traversal with ../ to a video next to the media folder', send: (t) => trigger(`${t.media}/../canary/secret.mp4`), expect: refused(403, /outside the media folders/) },
  { name: 'traversal with ../ from a subfolder', send: (t) => trigger(`${t.media}/bad/../../canary/secret.mp4`), expect: refused(403, /outside the media folders/) },
  { name: 'deep traversal to /etc/passwd', send: (t) => trigger(`${t.media}/../../../../../../etc/passwd`), expect: refused(403, /outside the media folders/) },
  { name: 'traversal with doubled slashes', send: (t) => trigger(`${t.media}//..//canary//secret.mp4`), expect: refused(403, /outside the media folders/) },
  { name: 'traversal half encoded (..%2f, a literal name)', send: (t) => trigger(`${t.media}/..%2f..%2fcanary/secret.mp4`), expect: refused(404, /does not exist/) },
  { name: 'encoded %2e%2e (a literal name, not decoded)', send: (t) => trigger(`${t.media}/%2e%2e/canary/secret.mp4`), expect: refused(404, /does not exist/) },
  { name: 'fullwidth dots (not folded into ..)', send: (t) => trigger(`${t.media}/\uFF0E\uFF0E/canary/secret.mp4`), expect: refused(404, /does not exist/) },
  { name: 'an absolute path outside the media folders', send: () => trigger('/etc/passwd'), expect: refused(403, /outside the media folders/) },
  { name: 'an absolute path to a real video outside', send: (t) => trigger(t.canaryVideo), expect: refused(403, /outside the media folders/) },
  { name: "a sibling folder whose name starts with the media folder's", send: (t) => trigger(`${t.media}-evil/x.mp4`), expect: refused(403, /outside the media folders/) },
  { name: '/proc/self/environ', send: () => trigger('/proc/self/environ'), expect: refused(403, /outside the media folders/) },
  { name: 'a symlink in the media folder to a video outside', send: (t) => trigger(path.join(t.media, 'escape.mp4')), expect: refused(403, /leads outside the media folders/) },
  { name: 'a file through a symlinked folder that leads outside', send: (t) => trigger(path.join(t.media, 'escape-dir', 'secret.mp4')), expect: refused(403, /leads outside the media folders/) },
  { name: 'a symlink to /dev/zero', send: (t) => trigger(path.join(t.media, 'zero.mp4')), expect: refused(403, /leads outside the media folders/) },
  { name: 'a loop of symlinks', send: (t) => trigger(path.join(t.media, 'loop-a.mp4')), expect: refused(400, /loop of symbolic links/) },
  { name: 'a dangling symlink', send: (t) => trigger(path.join(t.media, 'dangling.mp4')), expect: refused(404, /does not exist/) },
  { name: 'a NUL byte in the path', send: (t) => trigger(`${t.media}/good.mp4\0.txt`), expect: refused(400, /Item\.Path contains a NUL byte/) },
  { name: 'a path over 4096 characters', send: (t) => trigger(`${t.media}/${'a/'.repeat(2100)}x.mp4`), expect: refused(400, /Item\.Path is too long/) },
  { name: 'a file name over 255 bytes', send: (t) => trigger(`${t.media}/${'é'.repeat(200)}.mp4`), expect: refused(400, /name too long for the file system/) },
  { name: 'a missing file with a unicode name', send: (t) => trigger(`${t.media}/存在しない 🎞.mkv`), expect: refused(404, /does not exist/) },
  { name: 'a relative path', send: () => trigger('media/good.mp4'), expect: refused(400, /Item\.Path must be an absolute path/) },
  { name: 'a file:// URL', send: (t) => trigger(`file://${t.media}/good.mp4`), expect: refused(400, /absolute path/) },
  { name: 'a home-relative path', send: () => trigger('~/good.mp4'), expect: refused(400, /absolute path/) },
  { name: 'a Windows share path', send: () => trigger('\\\\server\\share\\film.mkv'), expect: refused(400, /absolute path/) },
  { name: 'the media folder itself', send: (t) => trigger(t.media), expect: refused(400, /is not a file/) },
  { name: 'a named pipe', send: (t) => trigger(path.join(t.media, 'pipe.mp4')), expect: refused(400, /is not a file/) },

  // ---- bodies of the wrong shape or type
  { name: 'Path a number', send: () => json('POST', '/upscale-trigger', { Item: { Path: 42 } }), expect: refused(400, /Item\.Path must be a string/) },
  { name: 'Path null', send: () => json('POST', '/upscale-trigger', { Item: { Path: null } }), expect: refused(400, /Item\.Path must be a string/) },
  { name: 'Path an array', send: (t) => json('POST', '/upscale-trigger', { Item: { Path: [path.join(t.media, 'good.mp4')] } }), expect: refused(400, /Item\.Path must be a string/) },
  { name: 'Path an object', send: () => json('POST', '/upscale-trigger', { Item: { Path: { toString: '/etc/passwd' } } }), expect: refused(400, /Item\.Path must be a string/) },
  { name: 'Path empty', send: () => json('POST', '/upscale-trigger', { Item: { Path: '' } }), expect: refused(400, /Item\.Path must not be empty/) },
  { name: 'Item a string', send: (t) => json('POST', '/upscale-trigger', { Item: path.join(t.media, 'good.mp4') }), expect: refused(400, /Item must be an object/) },
  { name: 'Item null', send: () => json('POST', '/upscale-trigger', { Item: null }), expect: refused(400, /Item must be an object/) },
  { name: 'Name a number', send: (t) => json('POST', '/upscale-trigger', { Item: { Path: path.join(t.media, 'good.mp4'), Name: 5 } }), expect: refused(400, /Item\.Name must be a string/) },
  { name: 'Name with a NUL byte', send: (t) => trigger(path.join(t.media, 'good.mp4'), 'Good\0Clip'), expect: refused(400, /Item\.Name contains a NUL byte/) },
  { name: 'Name over 1024 characters', send: (t) => trigger(path.join(t.media, 'good.mp4'), 'n'.repeat(1025)), expect: refused(400, /Item\.Name is too long/) },
  { name: 'a JSON array', send: (t) => json('POST', '/upscale-trigger', [GOOD_BODY(t)]), expect: refused(400, /^expected \{"Item"/) },
  { name: 'a JSON string', send: () => raw('/upscale-trigger', '"/etc/passwd"', 'application/json'), expect: refused(400, /not valid JSON/) },
  { name: 'JSON null', send: () => raw('/upscale-trigger', 'null', 'application/json'), expect: refused(400, /not valid JSON/) },
  { name: 'malformed JSON', send: () => raw('/upscale-trigger', '{"Item": {"Path": ', 'application/json'), expect: refused(400, /not valid JSON/) },
  { name: 'an empty body', send: () => raw('/upscale-trigger', '', 'application/json'), expect: refused(400, /^expected \{"Item"/) },
  { name: 'a form-encoded body', send: (t) => raw('/upscale-trigger', `Item[Path]=${t.media}/good.mp4`, 'application/x-www-form-urlencoded'), expect: refused(400, /^expected \{"Item"/) },
  { name: 'an XML body', send: () => raw('/upscale-trigger', '<Item><Path>/etc/passwd</Path></Item>', 'application/xml'), expect: refused(400, /^expected \{"Item"/) },
  { name: 'Item smuggled in __proto__', send: (t) => raw('/upscale-trigger', `{"__proto__":${JSON.stringify(GOOD_BODY(t))}}`, 'application/json'), expect: refused(400, /^expected \{"Item"/) },
  { name: 'arrays nested 20000 deep', send: () => raw('/upscale-trigger', `${'['.repeat(20_000)}${']'.repeat(20_000)}`, 'application/json'), expect: refused(400, /^expected \{"Item"/) },
  { name: 'a 100 KB JSON body', send: () => json('POST', '/upscale-trigger', { Item: { Path: `/${'a'.repeat(100_000)}` } }), expect: refused(413, /request body is too large/) },
  { name: 'a 100 KB text/plain body', send: () => raw('/upscale-trigger', 'x'.repeat(100_000), 'text/plain'), expect: refused(413, /request body is too large/) },
  { name: 'a gzip bomb (10 MB of zeros, 10 KB sent)', send: () => raw('/upscale-trigger', zlib.gzipSync(Buffer.alloc(10_000_000)), 'application/json', { 'content-encoding': 'gzip' }), expect: refused(413, /request body is too large/) },
  { name: 'a body that is not the gzip it claims', send: () => raw('/upscale-trigger', 'not gzip', 'application/json', { 'content-encoding': 'gzip' }), expect: refused(400, /does not decompress as its Content-Encoding says/) },
  { name: 'a charset nobody knows', send: () => raw('/upscale-trigger', '{}', 'application/json; charset=klingon'), expect: refused(415, /unsupported charset/) },
  { name: 'PUT instead of POST', send: (t) => json('PUT', '/upscale-trigger', GOOD_BODY(t)), expect: refused(404, /no such endpoint/) },

  // ---- the Jellyfin Webhook plugin's body, and items whose files Jellyfin reports
  { name: 'webhook: an ItemId that is a traversal', send: () => json('POST', '/upscale-trigger', { NotificationType: 'PlaybackStart', ItemId: '../../System/Info' }), expect: refused(400, /ItemId must be a Jellyfin item id/) },
  { name: 'webhook: an ItemId that is a number', send: () => json('POST', '/upscale-trigger', { NotificationType: 'PlaybackStart', ItemId: 12345 }), expect: refused(400, /ItemId must be a string/) },
  { name: 'webhook: a NotificationType that is an object', send: () => json('POST', '/upscale-trigger', { NotificationType: {}, ItemId: ITEM.unknown }), expect: refused(400, /NotificationType must be a string/) },
  { name: 'webhook: a NotificationType over 100 characters', send: () => json('POST', '/upscale-trigger', { NotificationType: 'P'.repeat(101), ItemId: ITEM.unknown }), expect: refused(400, /NotificationType is too long/) },
  { name: 'webhook: a Name with a NUL byte', send: () => json('POST', '/upscale-trigger', { NotificationType: 'PlaybackStart', ItemId: ITEM.unknown, Name: 'a\0b' }), expect: refused(400, /Name contains a NUL byte/) },
  { name: 'webhook: text/plain that is not JSON', send: () => raw('/upscale-trigger', 'PlaybackStart for item 42', 'text/plain'), expect: refused(400, /not valid JSON/) },
  { name: 'webhook: an item Jellyfin does not have', send: () => webhook(ITEM.unknown), expect: refused(404, /Jellyfin has no item/) },
  { name: 'webhook: an item whose path climbs out of the media folder', send: () => webhook(ITEM.traversal), expect: refused(403, /outside the media folders/) },
  { name: 'webhook: an item whose file is a symlink leading outside', send: () => webhook(ITEM.symlink), expect: refused(403, /leads outside the media folders/) },
  { name: 'webhook: an item whose path holds a NUL byte', send: () => webhook(ITEM.nulPath), expect: refused(400, /its path contains a NUL byte/) },
  { name: 'webhook: an item whose path is relative', send: () => webhook(ITEM.relative), expect: refused(400, /its path must be an absolute path/) },
  { name: 'webhook: an item whose path is a folder', send: () => webhook(ITEM.folder), expect: refused(400, /is not a file/) },
  { name: 'webhook: an item whose Jellyfin name holds a NUL byte (fails on its file, not on the name)', send: () => webhook(ITEM.nulName), expect: { failed: () => /jellyfin notes\.mkv is not a readable video/ } },

  // ---- /items/:itemId/status and /items/:itemId/upscale
  { name: 'item status: not an id', send: () => get('/items/not-an-id/status'), expect: refused(400, /item id must be a Jellyfin item id/) },
  { name: 'item status: an encoded traversal', send: () => get('/items/..%2f..%2fetc%2fpasswd/status'), expect: refused(400, /item id must be a Jellyfin item id/) },
  { name: 'item status: broken percent-encoding', send: () => get('/items/%E0%A4%A/status'), expect: refused(400, /Failed to decode param/) },
  { name: 'item status: an item whose path climbs out', send: () => get(`/items/${ITEM.traversal}/status`), expect: refused(403, /outside the media folders/) },
  { name: 'item upscale: 3000 characters of id', send: () => ({ method: 'POST', path: `/items/${'a'.repeat(3000)}/upscale` }), expect: refused(400, /item id must be a Jellyfin item id/) },
  { name: 'item upscale: force=maybe', send: () => ({ method: 'POST', path: `/items/${ITEM.traversal}/upscale?force=maybe` }), expect: refused(400, /force must be 1, true, 0 or false/) },
  { name: 'item upscale: an item whose file is a symlink leading outside', send: () => ({ method: 'POST', path: `/items/${ITEM.symlink}/upscale` }), expect: refused(403, /leads outside the media folders/) },

  // ---- jobs by id, cancel, query parameters, the API key
  { name: 'job: not a UUID', send: () => get('/jobs/not-a-uuid'), expect: refused(400, /job id must be a UUID/) },
  { name: 'job: SQL in the id', send: () => get(`/jobs/'%20OR%201=1--`), expect: refused(400, /job id must be a UUID/) },
  { name: 'job: a UUID with a NUL byte after it', send: () => get(`/jobs/${UNKNOWN_JOB}%00`), expect: refused(400, /job id must be a UUID/) },
  { name: 'job: broken percent-encoding', send: () => get('/jobs/%E0%A4%A'), expect: refused(400, /Failed to decode param/) },
  { name: 'job: unknown', send: () => get(`/jobs/${UNKNOWN_JOB}`), expect: refused(404, /no job/) },
  { name: 'segments: not a UUID', send: () => get('/jobs/1234/segments'), expect: refused(400, /job id must be a UUID/) },
  { name: 'segments: unknown job', send: () => get(`/jobs/${UNKNOWN_JOB}/segments`), expect: refused(404, /no job/) },
  { name: 'cancel: not a UUID', send: () => ({ method: 'POST', path: '/jobs/..%2f..%2f/cancel' }), expect: refused(400, /job id must be a UUID/) },
  { name: 'cancel: unknown job', send: () => ({ method: 'POST', path: `/jobs/${UNKNOWN_JOB}/cancel` }), expect: refused(404, /no job/) },
  { name: 'cancel: malformed JSON body', send: () => raw(`/jobs/${UNKNOWN_JOB}/cancel`, '{', 'application/json'), expect: refused(400, /not valid JSON/) },
  { name: 'cancel: a 100 KB body', send: () => raw(`/jobs/${UNKNOWN_JOB}/cancel`, JSON.stringify({ reason: 'r'.repeat(100_000) }), 'application/json'), expect: refused(413, /too large/) },
  { name: 'cancel: without the API key', send: () => ({ method: 'POST', path: `/jobs/${UNKNOWN_JOB}/cancel`, key: false }), expect: refused(401, /needs the API key/) },
  { name: 'trigger: a wrong API key', send: (t) => json('POST', '/upscale-trigger', GOOD_BODY(t), { 'x-api-key': 'wrong' }), expect: refused(401, /the API key is wrong/) },
  { name: 'trigger: a 10 KB API key', send: (t) => json('POST', '/upscale-trigger', GOOD_BODY(t), { 'x-api-key': 'k'.repeat(10_000) }), expect: refused(401, /the API key is wrong/) },
  { name: 'trigger: api_key given twice in the query', send: (t) => ({ ...json('POST', `/upscale-trigger?api_key=${API_KEY}&api_key=${API_KEY}`, GOOD_BODY(t)), key: false }), expect: refused(401, /needs the API key/) },
  { name: 'jobs: without the API key', send: () => ({ ...get('/jobs'), key: false }), expect: refused(401, /reads Upflow's jobs or settings and needs the API key/) },
  { name: 'metrics: without the API key', send: () => ({ ...get('/metrics'), key: false }), expect: refused(401, /needs the API key/) },
  { name: 'hls-status: without the API key', send: () => ({ ...get('/hls-status/good.mp4'), key: false }), expect: refused(401, /needs the API key/) },
  { name: 'item status without the key: an item whose path climbs out (no path in the answer)', send: () => ({ ...get(`/items/${ITEM.traversal}/status`), key: false }), expect: refused(403, /^this item cannot be upscaled; the reason is in Upflow's log$/) },
  { name: 'item status without the key: an item whose path is a folder', send: () => ({ ...get(`/items/${ITEM.folder}/status`), key: false }), expect: refused(400, /^this item cannot be upscaled; the reason is in Upflow's log$/) },
  { name: 'item status without the key: an item Jellyfin does not have', send: () => ({ ...get(`/items/${ITEM.unknown}/status`), key: false }), expect: refused(404, /^no video is known for this item$/) },
  { name: 'trigger: from a page of another site', send: (t) => json('POST', '/upscale-trigger', GOOD_BODY(t), { origin: 'http://attacker.example' }), expect: refused(403, /^requests from pages of http:\/\/attacker\.example are not allowed/) },
  { name: 'webhook: text/plain from a page of another site', send: () => ({ ...webhook(ITEM.unknown), headers: { 'content-type': 'text/plain', origin: 'https://attacker.example' } }), expect: refused(403, /not allowed/) },
  { name: 'cancel: from a sandboxed frame (Origin: null)', send: () => ({ method: 'POST', path: `/jobs/${UNKNOWN_JOB}/cancel`, headers: { origin: 'null' } }), expect: refused(403, /^requests from pages of null are not allowed/) },
  { name: 'trigger: force=yes', send: (t) => json('POST', '/upscale-trigger?force=yes', GOOD_BODY(t)), expect: refused(400, /force must be 1, true, 0 or false/) },
  { name: 'trigger: force given twice', send: (t) => json('POST', '/upscale-trigger?force=1&force=0', GOOD_BODY(t)), expect: refused(400, /force must be/) },
  { name: 'trigger: force with broken percent-encoding', send: (t) => json('POST', '/upscale-trigger?force=%ZZ', GOOD_BODY(t)), expect: refused(400, /force must be/) },

  // ---- what Node itself refuses, before Express
  { name: 'a URL of 20 KB', send: () => get(`/hls-status/${'u'.repeat(20_000)}`), expect: refused(431, /too large/) },
  { name: 'a request line that is not HTTP', send: () => ({ method: 'GET', path: '/', wire: 'GET /health HTTP/9.9 please\r\n\r\n' }), expect: refused(400, /not valid HTTP/) },

  // ---- /hls-status/:filename
  { name: 'hls-status: a NUL byte', send: () => get('/hls-status/good%00.mp4'), expect: refused(400, /filename contains a NUL byte/) },
  { name: 'hls-status: 2000 characters', send: () => get(`/hls-status/${'f'.repeat(2000)}`), expect: refused(400, /filename/) },
  { name: 'hls-status: an encoded traversal', send: () => get('/hls-status/..%2f..%2fetc%2fpasswd'), expect: refused(404, /no upscale known/) },
  { name: 'hls-status: SQL wildcards', send: () => get('/hls-status/%25'), expect: refused(404, /no upscale known/) },
  { name: 'hls-status: broken percent-encoding', send: () => get('/hls-status/%E0%A4%A'), expect: refused(400, /Failed to decode param/) },
  { name: 'hls-status: ?path= climbing out of the media folder', send: () => get('/hls-status/good.mp4?path=..%2Fcanary%2Fsecret.mp4'), expect: refused(403, /^\.\.\/canary\/secret\.mp4 is outside the media folders/) },
  { name: 'hls-status: ?path= an absolute path outside', send: () => get('/hls-status/good.mp4?path=%2Fetc%2Fpasswd'), expect: refused(403, /^\/etc\/passwd is outside the media folders/) },
  { name: 'hls-status: ?path= a symlink leading outside', send: () => get('/hls-status/good.mp4?path=escape.mp4'), expect: refused(403, /^escape\.mp4 leads outside the media folders/) },
  { name: 'hls-status: ?path= given twice', send: () => get('/hls-status/good.mp4?path=good.mp4&path=good.mp4'), expect: refused(400, /path must be a string \(given once\)/) },
  { name: 'hls-status: ?path= with a NUL byte', send: () => get('/hls-status/good.mp4?path=good.mp4%00'), expect: refused(400, /path contains a NUL byte/) },
  { name: 'hls-status: ?path= empty', send: () => get('/hls-status/good.mp4?path='), expect: refused(400, /path must not be empty/) },
  { name: 'hls-status: ?path= a file that is not that title', send: () => get('/hls-status/good.mp4?path=names%2F...And%20Justice%20for%20All.mp4'), expect: refused(404, /^no upscale known for good\.mp4 at names\/\.\.\.And Justice for All\.mp4$/) },

  // ---- /hls/...: never anything from outside the HLS folder
  { name: 'hls: raw ../../', send: () => get('/hls/../../canary/secret.m3u8'), expect: hidden },
  { name: 'hls: ..%2f encoded slashes', send: () => get('/hls/..%2f..%2fcanary%2fsecret.m3u8'), expect: hidden },
  { name: 'hls: %2e%2e encoded dots', send: () => get('/hls/%2e%2e/%2e%2e/canary/secret.m3u8'), expect: hidden },
  { name: 'hls: one level up, fully encoded', send: () => get('/hls/%2e%2e%2fcanary.m3u8'), expect: hidden },
  { name: 'hls: double-encoded', send: () => get('/hls/%252e%252e%252f%252e%252e%252fcanary%252fsecret.m3u8'), expect: hidden },
  { name: 'hls: encoded backslashes', send: () => get('/hls/..%5c..%5ccanary%5csecret.m3u8'), expect: hidden },
  { name: 'hls: overlong UTF-8 dots', send: () => get('/hls/%c0%ae%c0%ae/%c0%ae%c0%ae/canary/secret.m3u8'), expect: hidden },
  { name: 'hls: an absolute path after /hls/', send: (t) => get(`/hls/${t.canary}/secret.m3u8`), expect: hidden },
  { name: 'hls: an encoded absolute path', send: (t) => get(`/hls/${encodeURIComponent(`${t.canary}/secret.m3u8`)}`), expect: hidden },
  { name: "hls: out of a title's folder to a segment", send: (t) => get(`/hls/${t.goodKey}/..%2f..%2f..%2fcanary%2fsecret.ts`), expect: hidden },
  { name: 'hls: to Postgres files, no HLS extension', send: () => get('/hls/..%2fpostgres%2fPG_VERSION'), expect: hidden },
  { name: 'hls: to the final files', send: (t) => get(`/hls/..%2foutput%2f${t.goodKey}.mkv`), expect: hidden },
  { name: 'hls: a NUL byte', send: () => get('/hls/%00.m3u8'), expect: hidden },
  { name: "hls: ffmpeg's segment list", send: (t) => get(`/hls/${t.goodKey}/segments.csv`), expect: hidden },
  { name: 'hls: a dot file', send: () => get('/hls/.canary.m3u8'), expect: hidden },
  { name: 'hls: a symlink planted in a title folder, to a playlist outside', send: () => get(`/hls/${PLANTED.linksInside}/stream.m3u8`), expect: hidden },
  { name: 'hls: a symlink planted in a title folder, to /etc/hostname', send: () => get(`/hls/${PLANTED.linksInside}/seg00000.ts`), expect: hidden },
  { name: 'hls: a title folder that is a symlink out', send: () => get(`/hls/${PLANTED.linkedFolder}/secret.m3u8`), expect: hidden },
  { name: 'hls: a planted symlink, with a token for its folder', send: () => keyless(`/hls/t/${signHlsToken(TOKENS, PLANTED.linksInside, Date.now())}/${PLANTED.linksInside}/stream.m3u8`), expect: hidden },

  // ---- /hls without the key: only the signed URL of the title itself
  { name: 'hls without the key or a token', send: (t) => keyless(`/hls/${t.goodKey}/stream.m3u8`), expect: refused(401, /needs the API key \(X-Api-Key header\) or the signed hls_url/) },
  { name: 'hls token: the signature altered', send: (t) => keyless(`/hls/t/${altered(t.goodToken)}/${t.goodKey}/stream.m3u8`), expect: refused(403, /not for this title, or was altered/) },
  { name: 'hls token: the expiry moved later', send: (t) => keyless(`/hls/t/${laterExpiry(t.goodToken)}/${t.goodKey}/stream.m3u8`), expect: refused(403, /not for this title, or was altered/) },
  { name: "hls token: another title's, on the good title", send: (t) => keyless(`/hls/t/${signHlsToken(TOKENS, 'other-0badc0de', Date.now())}/${t.goodKey}/stream.m3u8`), expect: refused(403, /not for this title/) },
  { name: "hls token: the good title's, on another title", send: (t) => keyless(`/hls/t/${t.goodToken}/other-0badc0de/stream.m3u8`), expect: refused(403, /not for this title/) },
  { name: 'hls token: expired', send: (t) => keyless(`/hls/t/${signHlsToken(TOKENS, t.goodKey, Date.now() - parseDurationMs('7h'))}/${t.goodKey}/seg00000.ts`), expect: refused(403, /has expired/) },
  { name: 'hls token: signed for 30 days', send: (t) => keyless(`/hls/t/${signHlsToken(hlsTokens(API_KEY, parseDurationMs('30d'))!, t.goodKey, Date.now())}/${t.goodKey}/stream.m3u8`), expect: refused(403, /outlives UPFLOW_HLS_TOKEN_TTL/) },
  { name: 'hls token: ..', send: (t) => keyless(`/hls/t/../${t.goodKey}/stream.m3u8`), expect: refused(403, /malformed/) },
  { name: 'hls token: 10 KB of it', send: (t) => keyless(`/hls/t/${'1'.repeat(10_000)}.${t.goodToken.split('.')[1]}/${t.goodKey}/stream.m3u8`), expect: refused(403, /malformed/) },
  { name: 'hls token: with a NUL byte', send: (t) => keyless(`/hls/t/${t.goodToken}%00/${t.goodKey}/stream.m3u8`), expect: refused(403, /malformed/) },
  { name: "hls token: another title's, climbing into the good title's folder", send: (t) => keyless(`/hls/t/${signHlsToken(TOKENS, 'other-0badc0de', Date.now())}/other-0badc0de/../${t.goodKey}/stream.m3u8`), expect: hidden },
  { name: "hls token: another title's, encoded ../ into the good title's folder", send: (t) => keyless(`/hls/t/${signHlsToken(TOKENS, 'other-0badc0de', Date.now())}/other-0badc0de/..%2f${t.goodKey}%2fstream.m3u8`), expect: hidden },
  { name: 'hls token: the good one, encoded ../ out of its folder', send: (t) => keyless(`/hls/t/${t.goodToken}/${t.goodKey}/..%2f..%2f..%2fcanary%2fsecret.ts`), expect: hidden },
  { name: 'hls token: the good one, twice', send: (t) => keyless(`/hls/t/${t.goodToken}/t/${t.goodToken}/${t.goodKey}/stream.m3u8`), expect: hidden },
  { name: 'hls token: after the title', send: (t) => keyless(`/hls/${t.goodKey}/t/${t.goodToken}/stream.m3u8`), expect: hidden },

  // ---- files that are not usable videos: the job fails at probe (or verification) with the reason
  badFile('a text file named .mkv', 'text'),
  badFile('an empty file', 'empty'),
  badFile('an MP4 cut before its index', 'truncated'),
  badFile('an MP4 of 2000 bytes: the header alone', 'headerOnly'),
  badFile('a Matroska file cut to a third (its header keeps the full duration)', 'truncatedMkv'),
  badFile('64 KB of noise named .mp4', 'noise'),
  badFile('audio only', 'audioOnly'),
  badFile('audio with cover art', 'coverArtOnly'),
  badFile('a PNG picture', 'png'),
  badFile('a JPEG picture', 'jpeg'),
  badFile('a PNG named .mp4', 'pngNamedMp4'),
  badFile('zero duration (a header and nothing else)', 'zeroDuration'),
  badFile('zero frames', 'zeroFrames'),
  badFile('subtitles only', 'subtitlesOnly'),
  // A playlist passes the path guard itself, then names files anywhere.
  badFile('an HLS playlist named .mkv naming a video outside by its absolute path', 'playlistAbsolute'),
  badFile('an HLS playlist named .mp4 naming a video outside by ../', 'playlistRelative'),
  badFile('an ffconcat list naming a symlink that leads outside', 'concatList'),
  badFile('an SDP file naming a network stream, named .mp4', 'sdp'),
  // Only the containers video files come in are read; whatever ffmpeg could also read is refused.
  badFile('an animated GIF named .mp4', 'gif'),
  badFile('a raw H.264 stream without a container, named .mkv', 'rawH264'),
  badFile('a WAV file named .mkv', 'wav'),

  // ---- valid media that is easy to get wrong: upscaled correctly
  oddFile('odd dimensions 161x91 (4:4:4)', 'oddSize'),
  oddFile('odd dimensions 161x91 (FFV1 4:2:0, FLAC)', 'oddSizeLossless'),
  oddFile('rotated 90° in the display matrix', 'rotated90'),
  oddFile('rotated 270° in the display matrix', 'rotated270'),
  oddFile('variable frame rate', 'variableFrameRate'),
  oddFile('10-bit 4:2:0', 'tenBit'),
  oddFile('HDR: 10-bit, BT.2020, PQ (smpte2084)', 'hdr'),
  oddFile('a single frame (0.04 s)', 'singleFrame'),
  oddFile('an MPEG-TS cut to a quarter (no index to contradict it: the part there is upscaled)', 'cutShortTs'),
  oddFile('a unicode name', 'unicodeName'),
  oddFile('a name of 250 bytes', 'longName'),
  oddFile('a name that starts with dots', 'dotsName'),
  oddFile("a name full of shell and ffmpeg syntax: ' \" | [ ] % , ; $ &", 'syntaxName'),
];

/** What a request got: the status, the body as text and, when it is JSON, parsed. */
interface Answer {
  status: number;
  text: string;
  json: Record<string, unknown> | undefined;
}

interface JobAnswer {
  id: string;
  state: string;
  workflowId: string;
  titleKey: string;
  sourcePath: string;
  failureReason: string | null;
  finalPath: string | null;
  finishedAt: string | null;
}

/** The outcome of one case, gathered while every case runs at once; asserted in its own test. */
interface Outcome {
  answer?: Answer;
  job?: JobAnswer;
  error?: Error;
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** Every path under `root` (but not under `skip`) with its size and modification time. */
function treeOf(root: string, skip: string[] = []): string[] {
  const found: string[] = [];
  const visit = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (skip.includes(full)) continue;
      const stat = fs.lstatSync(full);
      found.push(`${path.relative(root, full)} ${entry.isDirectory() ? 'dir' : `${stat.size} ${stat.mtimeMs}`}`);
      if (entry.isDirectory()) visit(full);
    }
  };
  visit(root);
  return found.sort();
}

/** The data folder's own entries, less the journal SQLite keeps beside Temporal's database now and then. */
const dataEntries = (dir: string) => fs.readdirSync(path.join(dir, 'data')).filter((name) => !/^temporal\.db-(journal|wal|shm)$/.test(name)).sort();

const even = (n: number) => 2 * Math.round(n / 2);

/** Degrees a player turns the file's picture (its display matrix), 0 without one. */
function rotationOf(file: string): number {
  const out = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream_side_data=rotation', '-of', 'csv=p=0', file], { encoding: 'utf8' });
  return Number(out.trim() || 0);
}

function colorTagsOf(file: string): Record<string, string> {
  const out = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=color_primaries,color_transfer,color_space', '-of', 'json', file], { encoding: 'utf8' });
  return (JSON.parse(out) as { streams: Array<Record<string, string>> }).streams[0]!;
}

describe('a barrage of bad input, on the real stack', () => {
  let upflow: UpflowProcess;
  let standIn: JellyfinStandIn;
  let connection: Connection;
  let temporal: Client;
  let setup: Setup;
  let goodJobId: string;
  let barrageAt: number;
  let treeBefore: string[];
  let dataEntriesBefore: string[];
  const outcomes = new Map<string, Promise<Outcome>>();
  /** For docs/bench/bad-input.json (UPFLOW_RECORD_FIGURES=1): cases whose checks all passed, by outcome, and what the checks after the barrage found. */
  const held: Record<OutcomeKind, number> = { refused: 0, failed: 0, upscaled: 0, hidden: 0 };
  const after: Record<string, unknown> = {};
  let recorder: FiguresRecorder | undefined;

  /** The status line and the body of whatever comes back on a raw socket. */
  const sendWire = (bytes: string): Promise<Answer> => new Promise((resolve, reject) => {
    const url = new URL(upflow.apiUrl);
    const socket = net.connect(Number(url.port), url.hostname, () => socket.write(bytes));
    let received = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
    socket.on('error', reject).on('close', () => {
      const text = received.slice(received.indexOf('\r\n\r\n') + 4);
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] ?? 0), text, json: parseJson(text) });
    });
  });

  const send = (request: Sent): Promise<Answer> => request.wire !== undefined ? sendWire(request.wire) : new Promise((resolve, reject) => {
    const url = new URL(upflow.apiUrl);
    const headers: Record<string, string | number> = { ...(request.key === false ? {} : { 'x-api-key': API_KEY }), ...request.headers };
    if (request.body !== undefined) headers['content-length'] = Buffer.byteLength(request.body);
    const req = http.request({ host: url.hostname, port: url.port, method: request.method, path: request.path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, text, json: parseJson(text) });
      });
    });
    req.on('error', reject);
    req.end(request.body);
  });

  const jobOf = async (id: string): Promise<JobAnswer> => {
    const answer = await waitFor(`job ${id} to end`, async () => {
      const got = await send(get(`/jobs/${id}`));
      const state = got.json?.state;
      return got.status === 200 && (state === 'complete' || state === 'failed' || state === 'cancelled') ? got : undefined;
    }, 150_000, 500);
    return answer.json as unknown as JobAnswer;
  };

  /** Never rejects: a case's failure surfaces in its own test. */
  const run = async (c: Case): Promise<Outcome> => {
    try {
      const answer = await send(c.send(setup));
      const jobId = answer.json?.job_id;
      const wantsJob = 'failed' in c.expect || 'upscaled' in c.expect;
      return { answer, ...(wantsJob && typeof jobId === 'string' ? { job: await jobOf(jobId) } : {}) };
    } catch (err) {
      return { error: err as Error };
    }
  };

  beforeAll(async () => {
    standIn = await startJellyfinStandIn();
    upflow = await startUpflow({
      UPFLOW_API_KEY: API_KEY,
      UPFLOW_TRIGGER_RATE_LIMIT: '100000',
      SRGAN_ENABLE: '0',
      SRGAN_SCALE_FACTOR: String(SCALE),
      JELLYFIN_URL: standIn.url,
      JELLYFIN_API_KEY: standIn.apiKey,
    });
    connection = await Connection.connect({ address: `127.0.0.1:${upflow.env.UPFLOW_TEMPORAL_PORT}` });
    temporal = new Client({ connection });
    const { dir, mediaDir: media } = upflow;

    // What traversal aims at: a real video and HLS-looking files outside the media and HLS folders.
    const canary = path.join(dir, 'canary');
    const canaryVideo = await makeClip(path.join(canary, 'secret.mp4'), { seconds: 1, width: 160, height: 90 });
    const canarySegment = await makeClip(path.join(canary, 'secret-segment.ts'), { seconds: 1, width: 160, height: 90 });
    fs.writeFileSync(path.join(canary, 'secret.m3u8'), `#EXTM3U\n# ${CANARY}\n`);
    fs.writeFileSync(path.join(canary, 'secret.ts'), CANARY);
    fs.writeFileSync(path.join(dir, 'data', 'canary.m3u8'), `#EXTM3U\n# ${CANARY}\n`);
    fs.writeFileSync(path.join(dir, 'data', 'hls', '.canary.m3u8'), `#EXTM3U\n# ${CANARY}\n`);
    // Links planted in the HLS folder: serving must follow none of them.
    const planted = path.join(dir, 'data', 'hls', PLANTED.linksInside);
    fs.mkdirSync(planted);
    fs.symlinkSync(path.join(canary, 'secret.m3u8'), path.join(planted, 'stream.m3u8'));
    fs.symlinkSync('/etc/hostname', path.join(planted, 'seg00000.ts'));
    fs.symlinkSync(canary, path.join(dir, 'data', 'hls', PLANTED.linkedFolder));
    await makeClip(path.join(`${media}-evil`, 'x.mp4'), { seconds: 1, width: 160, height: 90 });
    fs.symlinkSync(canaryVideo, path.join(media, 'escape.mp4'));
    fs.symlinkSync(canary, path.join(media, 'escape-dir'));
    fs.symlinkSync('/dev/zero', path.join(media, 'zero.mp4'));
    fs.symlinkSync(path.join(media, 'loop-b.mp4'), path.join(media, 'loop-a.mp4'));
    fs.symlinkSync(path.join(media, 'loop-a.mp4'), path.join(media, 'loop-b.mp4'));
    fs.symlinkSync(path.join(media, 'nowhere.mp4'), path.join(media, 'dangling.mp4'));
    execFileSync('mkfifo', [path.join(media, 'pipe.mp4')]);

    // The good clip: long enough to be still streaming when the barrage has arrived.
    const goodClip = await makeClip(path.join(media, 'good.mp4'), { seconds: GOOD_SECONDS, width: 320, height: 180 });
    const playlist = (name: string, segment: string): string => {
      const file = path.join(media, 'bad', name);
      fs.writeFileSync(file, `#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:1,\n${segment}\n#EXT-X-ENDLIST\n`);
      return file;
    };
    const concatList = path.join(media, 'concat list.mp4');
    fs.writeFileSync(concatList, 'ffconcat version 1.0\nfile escape.mp4\n');
    // A session description: RTP from a port on this machine, which no file guard sees.
    fs.mkdirSync(path.join(media, 'bad'), { recursive: true });
    const sdp = path.join(media, 'bad', 'stream.mp4');
    fs.writeFileSync(sdp, 'v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 127.0.0.1\nt=0 0\nm=video 5004 RTP/AVP 96\na=rtpmap:96 H264/90000\n');
    const ffmpegTo = (name: string, args: string[]): string => {
      const file = path.join(media, 'bad', name);
      execFileSync('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...args, file]);
      return file;
    };
    const bad = {
      ...(await makeBadInputs(path.join(media, 'bad'))),
      ...(await makeMoreBadInputs(path.join(media, 'bad'))),
      playlistAbsolute: { file: playlist('playlist.mkv', canarySegment), reason: /playlist\.mkv is a list of other files \(hls\), not a video/ },
      playlistRelative: { file: playlist('relative playlist.mp4', '../../canary/secret-segment.ts'), reason: /relative playlist\.mp4 is a list of other files \(hls\)/ },
      concatList: { file: concatList, reason: /concat list\.mp4 is a list of other files \(concat\), not a video/ },
      sdp: { file: sdp, reason: /stream\.mp4 is a list of other files \(sdp\), not a video/ },
      gif: { file: ffmpegTo('animated.mp4', ['-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=10:duration=1', '-f', 'gif']), reason: /animated\.mp4 is a gif file, not a video container Upflow reads/ },
      rawH264: { file: ffmpegTo('raw h264.mkv', ['-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=25:duration=1', '-c:v', 'libx264', '-f', 'h264']), reason: /raw h264\.mkv is a h264 file, not a video container Upflow reads/ },
      wav: { file: ffmpegTo('sound.mkv', ['-f', 'lavfi', '-i', 'sine=duration=1', '-f', 'wav']), reason: /sound\.mkv is audio only \(wav\)/ },
    };
    const clip = (name: string) => makeClip(path.join(media, 'names', name), { seconds: 2, width: 160, height: 90 });
    const odd: Record<string, OddMedia> = {
      ...(await makeOddMedia(path.join(media, 'odd'))),
      unicodeName: { file: await clip('Ünïcødé 日本語 🎬 clip.mp4'), width: 160, height: 90 },
      longName: { file: await clip(`${'L'.repeat(246)}.mp4`), width: 160, height: 90 },
      dotsName: { file: await clip('...And Justice for All.mp4'), width: 160, height: 90 },
      syntaxName: { file: await clip(`it's "[a|b]" 100%, x;y $HOME & z.mp4`), width: 160, height: 90 },
    };
    const notes = path.join(media, 'jellyfin notes.mkv');
    fs.copyFileSync(bad.text.file, notes);
    standIn.items.set(ITEM.traversal, { name: 'Traversal', path: `${media}/../canary/secret.mp4` });
    standIn.items.set(ITEM.symlink, { name: 'Symlink', path: path.join(media, 'escape.mp4') });
    standIn.items.set(ITEM.nulPath, { name: 'NUL path', path: `${media}/a\0.mp4` });
    standIn.items.set(ITEM.nulName, { name: 'Notes\0', path: notes });
    standIn.items.set(ITEM.relative, { name: 'Relative', path: 'Movies/film.mkv' });
    standIn.items.set(ITEM.folder, { name: 'Folder', path: path.join(media, 'odd') });
    treeBefore = treeOf(dir, [path.join(dir, 'data')]);
    dataEntriesBefore = dataEntries(dir);

    const good = await send(trigger(goodClip, 'Good'));
    expect(good.status).toBe(202);
    goodJobId = good.json!.job_id as string;
    const goodToken = new URL(good.json!.hls_url as string).pathname.split('/')[3]!;
    setup = { dir, media, canary, canaryVideo, bad, odd, goodKey: good.json!.title_key as string, goodToken };
    // Every case at once, while the good clip streams.
    recorder = await startRecordingFigures('bad-input', 'tests/e2e/bad-input.test.ts');
    barrageAt = Date.now();
    for (const c of CASES) outcomes.set(c.name, run(c));
  }, 240_000);

  afterAll(async () => {
    const byOutcome: Record<OutcomeKind, number> = { refused: 0, failed: 0, upscaled: 0, hidden: 0 };
    for (const c of CASES) byOutcome[outcomeKind(c.expect)] += 1;
    await recorder?.write({
      settings: { upscaler: `ffmpeg lanczos x${SCALE}`, goodClipSeconds: GOOD_SECONDS, apiKey: 'set', sentAtOnce: true },
      cases: CASES.length,
      byOutcome,
      held,
      ...after,
    });
    await connection?.close();
    await stopAndRemove(upflow);
    await standIn?.close();
  }, 120_000);

  it('has at least 50 cases, each named once', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(50);
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const { answer, job, error } = await outcomes.get(c.name)!;
    if (error || !answer) throw error;
    const expected = c.expect;
    if ('refused' in expected) {
      expect([answer.status, answer.json?.error]).toEqual([expected.refused, expect.stringMatching(expected.error)]);
      held.refused += 1;
      return;
    }
    if ('hidden' in expected) {
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.status).toBeLessThan(500);
      expect(answer.json?.error).toEqual(expect.any(String));
      expect(answer.text).not.toContain(CANARY);
      held.hidden += 1;
      return;
    }
    expect([answer.status, answer.json?.status]).toEqual([202, 'started']);
    if ('failed' in expected) {
      const reason = expected.failed(setup);
      expect([job?.state, job?.failureReason]).toEqual(['failed', expect.stringMatching(reason)]);
      // Temporal holds the same reason as the workflow's failure (recorded in Postgres a moment before).
      const handle = temporal.workflow.getHandle(job!.workflowId, job!.id);
      const failure = await handle.result().then(() => undefined, (err: unknown) => err);
      expect(failure).toBeInstanceOf(WorkflowFailedError);
      expect((failure as WorkflowFailedError).cause?.message).toMatch(reason);
      expect((await handle.describe()).status.name).toBe('FAILED');
      held.failed += 1;
      return;
    }
    const source = expected.upscaled(setup);
    expect([job?.state, job?.failureReason]).toEqual(['complete', null]);
    const final = ffprobe(job!.finalPath!);
    expect([final.width, final.height]).toEqual([even(source.width * SCALE), even(source.height * SCALE)]);
    // Turned once, when decoded: a display matrix left on the output would turn it again.
    expect(rotationOf(job!.finalPath!)).toBe(0);
    expect(Math.abs(final.durationSeconds - ffprobe(source.file).durationSeconds)).toBeLessThan(0.3);
    // HDR is tone-mapped: an 8-bit SDR picture tagged as such, not HDR tags on SDR values.
    if (source.hdr) expect(colorTagsOf(job!.finalPath!)).toEqual({ color_primaries: 'bt709', color_transfer: 'bt709', color_space: 'bt709' });
    // It plays: every frame decodes without a complaint.
    expect(execFileSync('ffmpeg', ['-v', 'error', '-nostdin', '-i', job!.finalPath!, '-f', 'null', '-'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })).toBe('');
    held.upscaled += 1;
  }, 180_000);

  it('completes the good clip triggered before the barrage, after it had arrived', async () => {
    await Promise.all(outcomes.values());
    const job = await jobOf(goodJobId);
    expect([job.state, job.failureReason]).toEqual(['complete', null]);
    expect(Date.parse(job.finishedAt!)).toBeGreaterThan(barrageAt);
    // In one go: no chunk attempt was lost to the barrage, no segment made twice.
    const events = (await send(get(`/jobs/${goodJobId}`))).json!.events as Array<{ kind: string; data: { attempt?: number } | null }>;
    const starts = events.filter((e) => e.kind === 'chunk-started');
    after.goodClip = {
      state: job.state,
      chunksStarted: starts.length,
      chunksRetried: starts.filter((e) => (e.data?.attempt ?? 1) > 1).length,
      segmentsRemade: events.filter((e) => e.kind === 'segment-remade').length,
    };
    expect(starts.length).toBeGreaterThan(0);
    expect(starts.map((e) => e.data?.attempt)).toEqual(starts.map(() => 1));
    expect(events.filter((e) => e.kind === 'segment-remade')).toEqual([]);
    const final = ffprobe(job.finalPath!);
    expect([final.width, final.height, final.hasAudio]).toEqual([640, 360, true]);
    expect(Math.abs(final.durationSeconds - GOOD_SECONDS)).toBeLessThan(0.2);
    const playlist = await send(get(`/hls/${setup.goodKey}/stream.m3u8`));
    expect([playlist.status, playlist.text.trim().endsWith('#EXT-X-ENDLIST')]).toEqual([200, true]);
    // And by its signed URL alone, as a player has it.
    const signed = await send(keyless(`/hls/t/${setup.goodToken}/${setup.goodKey}/stream.m3u8`));
    expect([signed.status, signed.text]).toEqual([200, playlist.text]);
  }, 180_000);

  it('wrote nothing outside its folders, and the worker never crashed', async () => {
    await Promise.all(outcomes.values());
    const { dir } = setup;
    // The media folder, the canary, the sibling folder and the working directory are as they were.
    const treeAfter = treeOf(dir, [path.join(dir, 'data')]);
    after.outside = {
      entriesChanged: [...treeAfter.filter((e) => !treeBefore.includes(e)), ...treeBefore.filter((e) => !treeAfter.includes(e))].length,
      workerRestarts: upflow.output().match(/worker exited unexpectedly/g)?.length ?? 0,
      // The API logs every answer of 500 or more as "request failed".
      serverErrorsLogged: upflow.output().match(/"msg":"request failed"/g)?.length ?? 0,
    };
    expect(treeAfter).toEqual(treeBefore);
    expect(dataEntries(dir)).toEqual(dataEntriesBefore);
    // HLS and final files only under their titles' names: the jobs' titles, and finals of complete jobs only.
    const jobs = (await send(get('/jobs'))).json!.jobs as JobAnswer[];
    const keys = new Set(jobs.map((j) => j.titleKey));
    const hls = fs.readdirSync(path.join(dir, 'data', 'hls')).filter((name) => name !== '.canary.m3u8' && !Object.values(PLANTED).includes(name));
    expect(hls.filter((name) => !keys.has(name))).toEqual([]);
    const finals = jobs.filter((j) => j.state === 'complete').map((j) => `${j.titleKey}.mkv`);
    expect(fs.readdirSync(path.join(dir, 'data', 'output')).sort()).toEqual([...new Set(finals)].sort());
    // Every job's source lies inside the media folder.
    expect(jobs.map((j) => j.sourcePath).filter((source) => !source.startsWith(`${setup.media}/`))).toEqual([]);
    expect(upflow.output()).not.toMatch(/worker exited unexpectedly/);
    // No request ended in a 500 (the API logs each one).
    expect(upflow.output()).not.toMatch(/"msg":"request failed"/);
    expect((await send(get('/health'))).status).toBe(200);
  }, 180_000);
});
