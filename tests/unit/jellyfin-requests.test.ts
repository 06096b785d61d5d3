/** Jellyfin's side, pure parts: the JELLYFIN_* settings, item ids, and which trigger body is which. */
import { z } from 'zod';
import { describeIssue, itemIdParam, parseTriggerRequest, triggerQuery } from '../../api/schemas';
import { loadConfig } from '../../core/config';
import { UpflowError, ConfigError } from '../../core/errors';
import { normalizeItemId } from '../../core/jellyfin-items';
import { httpStatusOf } from '../../api/http-errors';

const ID = '0a1b2c3d4e5f40718293a4b5c6d7e8f9';
const DASHED = '0A1B2C3D-4E5F-4071-8293-A4B5C6D7E8F9';

/** What the API answers for a body: the parsed request, or the 400's reason. */
function parsed(body: unknown): ReturnType<typeof parseTriggerRequest> | string {
  try {
    return parseTriggerRequest(body);
  } catch (err) {
    if (err instanceof z.ZodError) return describeIssue(err);
    if (err instanceof UpflowError) return `${httpStatusOf(err.kind)} ${err.message}`;
    throw err;
  }
}

describe('JELLYFIN_URL and JELLYFIN_API_KEY', () => {
  it('are both needed, and the URL loses its trailing slash', () => {
    expect(loadConfig({}, '/x').jellyfin).toBeUndefined();
    expect(loadConfig({ JELLYFIN_URL: 'https://media.example.net/jellyfin/', JELLYFIN_API_KEY: 'k' }, '/x').jellyfin)
      .toEqual({ url: 'https://media.example.net/jellyfin', apiKey: 'k' });
    expect(() => loadConfig({ JELLYFIN_URL: 'http://jellyfin:8096' }, '/x'))
      .toThrow(new ConfigError('JELLYFIN_API_KEY is not set: Jellyfin needs both JELLYFIN_URL and JELLYFIN_API_KEY'));
    expect(() => loadConfig({ JELLYFIN_API_KEY: 'k' }, '/x')).toThrow(/^JELLYFIN_URL is not set/);
  });

  it.each(['jellyfin:8096', 'ftp://jellyfin/', 'not a url'])('refuses JELLYFIN_URL=%s, naming it', (url) => {
    expect(() => loadConfig({ JELLYFIN_URL: url, JELLYFIN_API_KEY: 'k' }, '/x')).toThrow(/^JELLYFIN_URL=".*" is invalid: expected an http\(s\) URL/);
  });
});

describe('Jellyfin item ids', () => {
  it('take the 32-digit and the dashed form, any case, as one id', () => {
    expect(normalizeItemId(ID)).toBe(ID);
    expect(normalizeItemId(DASHED)).toBe(ID);
    expect(normalizeItemId(` ${ID.toUpperCase()} `)).toBe(ID);
  });

  it.each(['', 'film-1', `${ID}0`, ID.slice(1), '0a1b2c3d-4e5f40718293a4b5c6d7e8f9', '../System/Info'])('refuse %j', (text) => {
    expect(normalizeItemId(text)).toBeUndefined();
  });

  it('name the route parameter when wrong', () => {
    expect(itemIdParam.parse({ itemId: DASHED })).toEqual({ itemId: ID });
    const result = itemIdParam.safeParse({ itemId: 'x' });
    expect(result.success ? '' : describeIssue(result.error)).toBe('itemId: item id must be a Jellyfin item id (32 hex digits, dashes allowed)');
  });
});

describe('POST /upscale-trigger bodies', () => {
  it("reads the seed's body as a path", () => {
    expect(parsed({ Item: { Path: '/media/film.mkv', Name: 'Film' } })).toEqual({ kind: 'path', path: '/media/film.mkv', name: 'Film' });
  });

  it('takes the title\'s kind in the seed\'s body, and names content_kind when it is not one', () => {
    expect(parsed({ Item: { Path: '/media/toon.mkv' }, content_kind: 'animation' })).toEqual({ kind: 'path', path: '/media/toon.mkv', contentKind: 'animation' });
    expect(parsed({ Item: { Path: '/media/toon.mkv' }, content_kind: 'cartoon' })).toBe('content_kind must be one of live-action, animation');
  });

  it("reads the Webhook plugin's body as an item, ignoring its other fields", () => {
    const body = { NotificationType: 'PlaybackStart', ItemId: DASHED, Name: 'Film', ServerUrl: 'http://jf:8096', NotificationUsername: 'viewer', ItemType: 'Movie' };
    expect(parsed(body)).toEqual({ kind: 'item', itemId: ID, name: 'Film', notificationType: 'PlaybackStart' });
    expect(parsed({ ItemId: ID })).toEqual({ kind: 'item', itemId: ID, name: undefined, notificationType: undefined });
  });

  it("reads the template's position and viewer; an empty position (the plugin's rendering of none) is none", () => {
    const body = { NotificationType: 'PlaybackStart', ItemId: ID, PlaybackPositionTicks: '27000000000', DeviceId: 'tv-1', UserId: 'u1' };
    expect(parsed(body)).toMatchObject({ kind: 'item', itemId: ID, positionSeconds: 2700, viewer: 'jellyfin:tv-1' });
    expect(parsed({ ...body, PlaybackPositionTicks: '', DeviceId: '' })).toMatchObject({ positionSeconds: undefined, viewer: 'jellyfin:u1' });
  });

  it.each([
    [{ ItemId: ID, PlaybackPositionTicks: '-5' }, 'PlaybackPositionTicks must be a whole number of ticks ≥ 0'],
    [{ ItemId: 'film-1', NotificationType: 'PlaybackStart' }, 'ItemId must be a Jellyfin item id (32 hex digits, dashes allowed)'],
    [{ ItemId: 42 }, 'ItemId must be a string'],
    [{ ItemId: ID, NotificationType: 7 }, 'NotificationType must be a string such as PlaybackStart'],
    [{ Item: { Name: 'no path' } }, 'Item.Path must be a string'],
    [{ Item: { Path: '' } }, 'Item.Path must not be empty'],
    [{ Name: 'neither' }, '400 expected {"Item":{"Path":…,"Name":…}} or a Jellyfin Webhook plugin body with ItemId and NotificationType'],
    [undefined, '400 expected {"Item":{"Path":…,"Name":…}} or a Jellyfin Webhook plugin body with ItemId and NotificationType'],
    // Postgres text cannot hold a NUL: refused here rather than failing the insert with a 500.
    [{ Item: { Path: '/media/a.mkv', Name: 'a\0b' } }, 'Item.Name contains a NUL byte'],
    [{ ItemId: ID, Name: '\0' }, 'Name contains a NUL byte'],
    [{ Item: { Path: '/media/a.mkv', Name: 5 } }, 'Item.Name must be a string'],
    [{ Item: { Path: '/media/a.mkv', Name: 'x'.repeat(1025) } }, 'Item.Name is too long (at most 1024 characters)'],
    [{ ItemId: ID, NotificationType: 'x'.repeat(101) }, 'NotificationType is too long (at most 100 characters)'],
  ])('names what is wrong in %j', (body, reason) => {
    expect(parsed(body)).toBe(reason);
  });
});

describe("the web script's trigger query", () => {
  const query = (q: Record<string, string>) => {
    const result = triggerQuery.safeParse(q);
    return result.success ? result.data : describeIssue(result.error);
  };

  it("takes the viewer's position, whether they are paused, and their Jellyfin device id", () => {
    expect(query({ position_seconds: '61.5', paused: '1', device: 'TW96aWxsYS81LjA=' })).toEqual({ force: false, position_seconds: 61.5, paused: true, device: 'TW96aWxsYS81LjA=' });
    expect(query({ position_seconds: '0' })).toEqual({ force: false, position_seconds: 0, paused: false });
  });

  it('names the field that is wrong', () => {
    expect(query({ paused: 'maybe' })).toMatch(/paused must be 1, true, 0 or false/);
    expect(query({ device: 'two words' })).toMatch(/device must be 1 to 200 printable characters/);
    expect(query({ device: 'x'.repeat(201) })).toMatch(/device must be/);
  });
});
