/**
 * Who may reach what, and what a caller without the API key is told: the open routes, and the
 * answers with their paths, addresses and Jellyfin's words taken out (api/security.ts,
 * api/public-answers.ts). The real stack's side is tests/e2e/access.test.ts.
 */
import { z } from 'zod';
import { anonymousItemStatus, internalError, publicItemLookupError, publicItemStatus, withoutDetails } from '../../api/public-answers';
import { isOpenRoute } from '../../api/security';
import { UpflowError } from '../../core/errors';
import type { ItemStatus } from '../../core/jellyfin-items';
import { httpStatusOf } from '../../api/http-errors';

describe('the routes open without the key', () => {
  it.each([
    ['GET', '/health'], ['HEAD', '/health'], ['GET', '/'], ['GET', '/client/upflow-jellyfin.js'], ['GET', '/client/status-page.js'],
    ['GET', '/items/5f0c3d1a9b8e4c2d8a7b6c5d4e3f2a10/status'], ['GET', '/hls/film-1a2b3c4d/stream.m3u8'], ['GET', '/hls/x/seg00001.ts'],
  ])('%s %s', (method, route) => expect(isOpenRoute(method, route)).toBe(true));

  it.each([
    ['GET', '/jobs'], ['GET', '/jobs/01a21211-5d1c-76b5-97c6-cd631f10ee8b'], ['GET', '/jobs/01a21211-5d1c-76b5-97c6-cd631f10ee8b/segments'],
    ['GET', '/metrics'], ['GET', '/cleanup-runs'], ['GET', '/hls-status/film.mkv'], ['POST', '/upscale-trigger'],
    ['POST', '/items/5f0c3d1a9b8e4c2d8a7b6c5d4e3f2a10/upscale'], ['POST', '/items/5f0c3d1a9b8e4c2d8a7b6c5d4e3f2a10/status'],
    ['POST', '/jobs/01a21211-5d1c-76b5-97c6-cd631f10ee8b/cancel'], ['POST', '/health'], ['DELETE', '/'],
    ['GET', '/client/../jobs'], ['GET', '/client/x/y.js'], ['GET', '/items/x/status/more'], ['GET', '/hlsx/a.m3u8'], ['GET', '/nope'],
  ])('not %s %s', (method, route) => expect(isOpenRoute(method, route)).toBe(false));
});

describe('answers to a caller without the key', () => {
  const failed: ItemStatus = {
    item_id: 'a'.repeat(32), status: 'failed', hls_url: null, segments: 0, content_seconds: 0, ready: [], duration_seconds: null, segment_seconds: null, rate: null,
    complete: false, progress_percent: 0, model: null, title_key: 'film-1a2b3c4d', job_id: null, queue_position: null,
    reason: '/srv/media/private/film.mkv is not a readable video',
  };

  it('name the failing part, not its address or error', () => {
    expect(withoutDetails('Postgres is unreachable (connect ECONNREFUSED 10.0.0.5:5432)')).toBe('Postgres is unreachable');
    expect(withoutDetails('Temporal is unreachable (No connection established. Last error: (a) (b))')).toBe('Temporal is unreachable');
    expect(withoutDetails('Temporal is unreachable')).toBe('Temporal is unreachable');
  });

  it("say a job failed, not the reason that names its file", () => {
    expect(publicItemStatus(failed)).toEqual({ ...failed, reason: "upscaling failed; the reason is on Upflow's status page and in its log" });
    const streaming: ItemStatus = { ...failed, status: 'streaming' };
    delete streaming.reason;
    expect(publicItemStatus(streaming)).toBe(streaming);
  });

  it("give how far an item is, not its stream or its title's name, to a caller who is not its viewer", () => {
    const streaming: ItemStatus = { ...failed, status: 'streaming', hls_url: 'http://upflow.lan:8080/hls/t/1.x/film-1a2b3c4d/stream.m3u8', segments: 3, content_seconds: 3 };
    delete streaming.reason;
    expect(anonymousItemStatus(streaming)).toEqual({ ...streaming, hls_url: null, title_key: null });
    expect(anonymousItemStatus(failed)).toEqual({ ...publicItemStatus(failed), hls_url: null, title_key: null });
  });

  it('keep the status of an item lookup that failed, in generic words', () => {
    const seen = (err: unknown) => {
      const mapped = publicItemLookupError(err);
      return mapped instanceof UpflowError ? [httpStatusOf(mapped.kind), mapped.message] : mapped;
    };
    expect(seen(new UpflowError('Forbidden', 'Jellyfin item 1: /srv/private/alice/home-video.mkv is outside the media folders (UPFLOW_MEDIA_ROOTS)'))).toEqual([403, "this item cannot be upscaled; the reason is in Upflow's log"]);
    expect(seen(new UpflowError('InvalidMedia', 'Jellyfin item 1 (Holiday, Audio) is Audio, not a video'))).toEqual([422, "this item cannot be upscaled; the reason is in Upflow's log"]);
    expect(seen(new UpflowError('NotFound', 'Jellyfin has no item 1'))).toEqual([404, 'no video is known for this item']);
    expect(seen(new UpflowError('NotFound', 'Jellyfin item 1: /srv/media/gone.mkv does not exist'))).toEqual([404, 'no video is known for this item']);
    expect(seen(new UpflowError('Upstream', 'Jellyfin at http://10.0.0.9:8096 is unreachable (ECONNREFUSED): check JELLYFIN_URL'))).toEqual([502, "Upflow cannot look this item up in Jellyfin now; the reason is in Upflow's log"]);
    expect(seen(new UpflowError('Unavailable', 'Jellyfin is not configured: set JELLYFIN_URL and JELLYFIN_API_KEY'))).toEqual([503, "Upflow cannot look this item up in Jellyfin now; the reason is in Upflow's log"]);
    const postgresDown = Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432'), { code: 'ECONNREFUSED' });
    expect(seen(postgresDown)).toEqual([503, 'Postgres is unreachable']);
    // The caller's own input and unexpected failures pass as they are (400 with the field; a 500 with an id).
    const invalid = new z.ZodError([]);
    expect(publicItemLookupError(invalid)).toBe(invalid);
    const bug = new TypeError('x is undefined');
    expect(publicItemLookupError(bug)).toBe(bug);
  });

  it('give an unexpected failure an id and no internal text', () => {
    const { id, message } = internalError();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(message).toBe(`internal error ${id}: the details are in Upflow's log under this id`);
    expect(internalError().id).not.toBe(id);
  });
});
