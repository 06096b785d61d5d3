import { decideHlsAccess, HLS_REFUSALS, hlsPlaylistPath, hlsTokenProblem, hlsTokens, parseHlsPath, signHlsToken, type HlsTokens } from '../../core/hls-access';

const KEY = 'unit-test-key-0123456789';
const TITLE = 'film-3fa9c1d2';
const OTHER = 'other-0badc0de';
const NOW = Date.parse('2026-12-01T20:00:00Z');
const HOUR = 3_600_000;

const tokens = hlsTokens(KEY, 6 * HOUR)!;

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * One character of the token flipped in its lowest bit. In the signature's last character that
 * bit is padding: base64url decodes both spellings to the same bytes.
 */
function tampered(token: string, at = token.length - 1): string {
  const flipped = BASE64URL[BASE64URL.indexOf(token[at]!) ^ 1]!;
  return token.slice(0, at) + flipped + token.slice(at + 1);
}

describe('HLS tokens', () => {
  it('are made only with a key', () => {
    expect(hlsTokens(undefined, HOUR)).toBeUndefined();
    expect(tokens.ttlSeconds).toBe(6 * 3600);
  });

  it('sign a title and an expiry as <expires>.<base64url HMAC-SHA256>', () => {
    const token = signHlsToken(tokens, TITLE, NOW);
    expect(token).toMatch(/^\d+\.[A-Za-z0-9_-]{43}$/);
    expect(Number(token.split('.')[0])).toBe(NOW / 1000 + 6 * 3600);
    expect(hlsTokenProblem(tokens, token, TITLE, NOW)).toBeUndefined();
  });

  it('derive the secret from the key: the same key signs alike, another key does not, and the key is not the secret', () => {
    const token = signHlsToken(tokens, TITLE, NOW);
    expect(signHlsToken(hlsTokens(KEY, 6 * HOUR)!, TITLE, NOW)).toBe(token);
    const other = hlsTokens(`${KEY}x`, 6 * HOUR)!;
    expect(hlsTokenProblem(other, token, TITLE, NOW)).toBe(HLS_REFUSALS.mismatch);
    expect(tokens.secret.equals(Buffer.from(KEY))).toBe(false);
  });

  it('hold until their expiry, not after', () => {
    const token = signHlsToken(tokens, TITLE, NOW);
    expect(hlsTokenProblem(tokens, token, TITLE, NOW + 6 * HOUR - 1000)).toBeUndefined();
    expect(hlsTokenProblem(tokens, token, TITLE, NOW + 6 * HOUR)).toBe(HLS_REFUSALS.expired);
    expect(hlsTokenProblem(tokens, token, TITLE, NOW + 30 * 86_400_000)).toBe(HLS_REFUSALS.expired);
  });

  it('open one title only', () => {
    const token = signHlsToken(tokens, TITLE, NOW);
    expect(hlsTokenProblem(tokens, token, OTHER, NOW)).toBe(HLS_REFUSALS.mismatch);
    expect(hlsTokenProblem(tokens, token, `${TITLE}0`, NOW)).toBe(HLS_REFUSALS.mismatch);
  });

  it('refuse a changed signature or expiry', () => {
    const token = signHlsToken(tokens, TITLE, NOW);
    const [expires, signature] = token.split('.') as [string, string];
    expect(Buffer.from(tampered(signature, signature.length - 1), 'base64url')).toEqual(Buffer.from(signature, 'base64url'));
    for (let at = expires.length + 1; at < token.length; at++) expect(hlsTokenProblem(tokens, tampered(token, at), TITLE, NOW)).toBe(HLS_REFUSALS.mismatch);
    expect(hlsTokenProblem(tokens, `${Number(expires) + 3600}.${signature}`, TITLE, NOW)).toBe(HLS_REFUSALS.mismatch);
    expect(hlsTokenProblem(tokens, `${Number(expires) - 1}.${signature}`, TITLE, NOW)).toBe(HLS_REFUSALS.mismatch);
  });

  it('refuse what is not a token', () => {
    const token = signHlsToken(tokens, TITLE, NOW);
    const [expires, signature] = token.split('.') as [string, string];
    for (const bad of ['', '.', token.slice(0, -1), `${token}A`, `0${token}`, `${expires}.${signature}=`, `${expires}:${signature}`,
      `-${token}`, `${expires}.${signature.replace(/.$/, '+')}`, `1e10.${signature}`, `${'9'.repeat(13)}.${signature}`, `${expires}.${signature}.x`]) {
      expect([bad, hlsTokenProblem(tokens, bad, TITLE, NOW)]).toEqual([bad, HLS_REFUSALS.malformed]);
    }
  });

  it('refuse a token that outlives the TTL now set (signed before it was shortened)', () => {
    const longLived = signHlsToken(hlsTokens(KEY, 7 * 24 * HOUR)!, TITLE, NOW);
    expect(hlsTokenProblem(tokens, longLived, TITLE, NOW)).toBe(HLS_REFUSALS.outlivesTtl);
    // A minute ahead: another API process's clock.
    const ahead = signHlsToken(tokens, TITLE, NOW + 50_000);
    expect(hlsTokenProblem(tokens, ahead, TITLE, NOW)).toBeUndefined();
  });

  it('give reasons nginx can put into JSON as they are', () => {
    for (const reason of Object.values(HLS_REFUSALS)) expect(reason).toMatch(/^[^"\\\n]+$/);
  });
});

describe('HLS paths', () => {
  it('name a title file, signed or not', () => {
    expect(parseHlsPath(`/${TITLE}/stream.m3u8`)).toEqual({ titleKey: TITLE, file: 'stream.m3u8' });
    expect(parseHlsPath(`/t/123.abc/${TITLE}/seg00003.ts`)).toEqual({ titleKey: TITLE, file: 'seg00003.ts', token: '123.abc' });
    for (const file of ['init.mp4', 'seg1.m4s', 'seg_00001.ts']) expect(parseHlsPath(`/${TITLE}/${file}`)?.file).toBe(file);
  });

  it('are what hls_url carries, and segment names resolve under the same token', () => {
    const token = signHlsToken(tokens, TITLE, NOW);
    const playlist = new URL(`http://upflow.lan:8080/hls/${hlsPlaylistPath(TITLE, token)}`);
    expect(playlist.pathname).toBe(`/hls/t/${token}/${TITLE}/stream.m3u8`);
    const segment = new URL('seg00003.ts', playlist);
    expect(parseHlsPath(segment.pathname.slice('/hls'.length))).toEqual({ titleKey: TITLE, file: 'seg00003.ts', token });
    expect(hlsPlaylistPath(TITLE)).toBe(`${TITLE}/stream.m3u8`);
  });

  it.each([
    '', '/', `/${TITLE}`, `/${TITLE}/`, `${TITLE}/stream.m3u8`, `//${TITLE}/stream.m3u8`, `/${TITLE}//stream.m3u8`,
    `/${TITLE}/segments.csv`, `/${TITLE}/stream.m3u8.tmp`, `/${TITLE}/.stream.m3u8`, `/${TITLE}/stream.M3U8x`,
    `/../${TITLE}/stream.m3u8`, `/${TITLE}/../stream.m3u8`, `/./${TITLE}/stream.m3u8`, '/../../canary/secret.m3u8',
    `/%2e%2e/${TITLE}/stream.m3u8`, `/${TITLE}/%73tream.m3u8`, `/${TITLE}%2fstream.m3u8`, `/${TITLE.toUpperCase()}/stream.m3u8`,
    `/-x/stream.m3u8`, `/${TITLE}/a/stream.m3u8`, '/t/stream.m3u8/x',
    // Around the token: missing, empty, doubled, a title smuggled before or after it.
    `/t/${TITLE}/stream.m3u8`, `/t//${TITLE}/stream.m3u8`, `/t/1.a/t/1.a/${TITLE}/stream.m3u8`, `/${TITLE}/t/1.a/stream.m3u8`,
    `/t/1.a/${OTHER}/../${TITLE}/stream.m3u8`, `/t/1.a/${TITLE}/../../${OTHER}/stream.m3u8`, `/T/1.a/${TITLE}/stream.m3u8`,
  ])('refuse %j', (requestPath) => {
    expect(parseHlsPath(requestPath)).toBeUndefined();
  });
});

describe('HLS access', () => {
  const signed = (titleKey: string, nowMs = NOW) => ({ titleKey, file: 'stream.m3u8', token: signHlsToken(tokens, titleKey, nowMs) });
  const plain = { titleKey: TITLE, file: 'stream.m3u8' };

  it('is open without a key configured, with or without anything presented', () => {
    const open: HlsTokens | undefined = undefined;
    expect(decideHlsAccess(plain, 'none', open, NOW)).toEqual({ allowed: true });
    expect(decideHlsAccess({ ...plain, token: 'junk' }, 'none', open, NOW)).toEqual({ allowed: true });
  });

  it('takes the key for every title, and a token for its own title', () => {
    expect(decideHlsAccess(plain, 'right', tokens, NOW)).toEqual({ allowed: true });
    expect(decideHlsAccess({ ...signed(OTHER), titleKey: TITLE }, 'right', tokens, NOW)).toEqual({ allowed: true });
    expect(decideHlsAccess(signed(TITLE), 'none', tokens, NOW)).toEqual({ allowed: true });
    // A wrong key beside a good token: the token is enough.
    expect(decideHlsAccess(signed(TITLE), 'wrong', tokens, NOW)).toEqual({ allowed: true });
  });

  it('answers 401 without a credential, 403 for a token that does not hold', () => {
    expect(decideHlsAccess(plain, 'none', tokens, NOW)).toEqual({ allowed: false, kind: 'Unauthorized', reason: HLS_REFUSALS.noCredential });
    expect(decideHlsAccess(plain, 'wrong', tokens, NOW)).toEqual({ allowed: false, kind: 'Unauthorized', reason: HLS_REFUSALS.wrongKey });
    expect(decideHlsAccess({ ...signed(OTHER), titleKey: TITLE }, 'none', tokens, NOW)).toEqual({ allowed: false, kind: 'Forbidden', reason: HLS_REFUSALS.mismatch });
    expect(decideHlsAccess(signed(TITLE, NOW - 7 * HOUR), 'none', tokens, NOW)).toEqual({ allowed: false, kind: 'Forbidden', reason: HLS_REFUSALS.expired });
    expect(decideHlsAccess({ ...plain, token: tampered(signed(TITLE).token) }, 'wrong', tokens, NOW)).toEqual({ allowed: false, kind: 'Forbidden', reason: HLS_REFUSALS.mismatch });
    expect(decideHlsAccess({ ...plain, token: 'x.y' }, 'none', tokens, NOW)).toEqual({ allowed: false, kind: 'Forbidden', reason: HLS_REFUSALS.malformed });
  });
});
