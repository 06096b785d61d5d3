/** Upflow's Jellyfin client against the stand-in server over real HTTP: each failure's reason. */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { JellyfinClient } from '../../adapters/jellyfin';
import { loadConfig } from '../../core/config';
import { itemSource } from '../../services/title-sources';
import { findFreePort } from '../../adapters/process';
import { UpflowError } from '../../core/errors';
import { startJellyfinStandIn, VIEWER_TOKEN, type JellyfinStandIn } from '../support/jellyfin-stand-in';
import { listenLocally } from '../support/local-server';
import { httpStatusOf } from '../../api/http-errors';

const FILM = '0a1b2c3d4e5f40718293a4b5c6d7e8f9';
const SERIES = '1b2c3d4e5f6a40718293a4b5c6d7e8f9';
const CARTOON = '2c3d4e5f6a7b40718293a4b5c6d7e8f9';
const SHOW = '3d4e5f6a7b8c40718293a4b5c6d7e8f9';
const EPISODE = '4e5f6a7b8c9d40718293a4b5c6d7e8f9';

/** A server that answers every request with `handler`; closed after `use`. */
async function withServer(handler: http.RequestListener, use: (url: string) => Promise<void>): Promise<void> {
  const server = await listenLocally(handler);
  try {
    await use(server.url);
  } finally {
    await server.close();
  }
}

const json = (status: number, body: unknown): http.RequestListener => (_req, res) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

async function failure(promise: Promise<unknown>): Promise<UpflowError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(UpflowError);
  return err as UpflowError;
}

describe('the Jellyfin client', () => {
  let standIn: JellyfinStandIn;

  beforeAll(async () => {
    standIn = await startJellyfinStandIn({
      items: {
        [FILM]: { name: 'Film', path: '/srv/media/Film (1987).mkv' },
        [CARTOON]: { name: 'Cartoon', path: '/srv/media/Cartoon (1992).mkv', genres: ['Animation', 'Family'] },
        [SHOW]: { name: 'Show', path: '/srv/media/Show', type: 'Series', genres: ['Anime'] },
        [EPISODE]: { name: 'Pilot', path: '/srv/media/Show/S01E01.mkv', type: 'Episode', seriesId: SHOW },
      },
    });
  });
  afterAll(() => standIn.close());

  it('reads the server info and an item with the MediaBrowser token header, and asks for a refresh', async () => {
    const client = new JellyfinClient({ url: standIn.url, apiKey: standIn.apiKey });
    await expect(client.serverInfo()).resolves.toEqual({ serverName: 'stand-in', version: '10.10.7' });
    await expect(client.item(FILM)).resolves.toEqual({ id: FILM, name: 'Film', path: '/srv/media/Film (1987).mkv', type: 'Movie', genres: [] });
    await client.refreshItem(FILM);
    expect(standIn.requests.filter((r) => r.path.startsWith('/Items/')).map((r) => [r.method, r.path, r.authorized])).toEqual([
      ['GET', `/Items/${FILM}`, true],
      ['POST', `/Items/${FILM}/Refresh`, true],
    ]);
  });

  it('reads an item\'s genres, and an episode without any its series\' (which pick the model for animation)', async () => {
    const client = new JellyfinClient({ url: standIn.url, apiKey: standIn.apiKey });
    await expect(client.item(CARTOON)).resolves.toMatchObject({ genres: ['Animation', 'Family'] });
    await expect(client.item(EPISODE)).resolves.toMatchObject({ type: 'Episode', genres: ['Anime'] });
    // The trigger's source: the kind that picks the model, or none (UPFLOW_CONTENT_KIND applies).
    const media = fs.mkdtempSync(path.join(os.tmpdir(), 'upflow-kinds-'));
    const onDisk = (id: string, name: string) => {
      fs.writeFileSync(path.join(media, name), '');
      standIn.items.set(id, { ...standIn.items.get(id)!, path: path.join(media, name) });
    };
    onDisk(CARTOON, 'Cartoon (1992).mkv');
    onDisk(EPISODE, 'S01E01.mkv');
    const drama = 'ab2c3d4e5f6a40718293a4b5c6d7e8f9';
    standIn.items.set(drama, { name: 'Drama', path: '', genres: ['Drama'] });
    onDisk(drama, 'Drama (1961).mkv');
    const config = loadConfig({ UPFLOW_MEDIA_ROOTS: media }, '/x');
    const fresh = new JellyfinClient({ url: standIn.url, apiKey: standIn.apiKey });
    const kindOf = async (id: string) => (await itemSource({ config, jellyfin: fresh }, id)).contentKind;
    expect(await Promise.all([CARTOON, EPISODE, drama].map(kindOf))).toEqual(['animation', 'animation', undefined]);
    fs.rmSync(media, { recursive: true });
  });

  it('asks Jellyfin once per item while its answer is fresh', async () => {
    const client = new JellyfinClient({ url: standIn.url, apiKey: standIn.apiKey });
    const before = standIn.requests.length;
    await client.item(FILM);
    await client.item(FILM);
    expect(standIn.requests.length - before).toBe(1);
  });

  it("asks Jellyfin, with the viewer's own token, whether that user may see an item, and believes the answer briefly", async () => {
    standIn.users.set('kid-token-0123456789', { name: 'kid', hidden: new Set([FILM]) });
    const client = new JellyfinClient({ url: standIn.url, apiKey: standIn.apiKey });
    const asked = () => standIn.requests.filter((r) => r.path === `/Items/${FILM}` && !r.authorized).length;
    const before = asked();
    expect(await client.viewerAccess(VIEWER_TOKEN, FILM)).toBe('allowed');
    expect(await client.viewerAccess(VIEWER_TOKEN, FILM)).toBe('allowed');
    expect(await client.viewerAccess('kid-token-0123456789', FILM)).toBe('not-visible');
    expect(await client.viewerAccess('made-up-token-0000', FILM)).toBe('token-refused');
    expect(await client.viewerAccess('made-up-token-0000', FILM)).toBe('token-refused');
    // One question per token and item while the answer is fresh.
    expect(asked() - before).toBe(3);
    // Jellyfin down is not an answer about the viewer: it is an error, and not kept.
    const down = new JellyfinClient({ url: `http://127.0.0.1:${await findFreePort()}`, apiKey: 'k' });
    expect((await failure(down.viewerAccess(VIEWER_TOKEN, FILM))).kind).toBe('Upstream');
  });

  it('remembers an id Jellyfin does not have, and answers it again without asking', async () => {
    const client = new JellyfinClient({ url: standIn.url, apiKey: standIn.apiKey });
    const probe = 'eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee';
    const before = standIn.requests.length;
    for (let i = 0; i < 5; i++) {
      const unknown = await failure(client.item(probe));
      expect([httpStatusOf(unknown.kind), unknown.message]).toEqual([404, `Jellyfin has no item ${probe}`]);
    }
    expect(standIn.requests.length - before).toBe(1);
  });

  it('names a refused key, an unknown item and an item without a file', async () => {
    const wrongKey = new JellyfinClient({ url: standIn.url, apiKey: 'wrong' });
    const refused = await failure(wrongKey.item(FILM));
    expect([httpStatusOf(refused.kind), refused.message]).toEqual([502, expect.stringMatching(/refused the API key \(HTTP 401\): check JELLYFIN_API_KEY/)]);

    const client = new JellyfinClient({ url: standIn.url, apiKey: standIn.apiKey });
    const unknown = await failure(client.item('ffffffffffffffffffffffffffffffff'));
    expect([httpStatusOf(unknown.kind), unknown.message]).toEqual([404, 'Jellyfin has no item ffffffffffffffffffffffffffffffff']);

    standIn.items.set(SERIES, { name: 'Series', path: '' });
    const noFile = await failure(client.item(SERIES));
    expect([httpStatusOf(noFile.kind), noFile.message]).toEqual([422, expect.stringMatching(/has no file to upscale/)]);
  });

  it('asks again on a new connection when a kept-alive one was reset (Jellyfin restarted), and not more than once', async () => {
    let resets = 1;
    let asked = 0;
    const info = json(200, { ServerName: 'restarted', Version: '10.10.7' });
    await withServer((req, res) => {
      asked += 1;
      // As a connection Jellyfin closed while the client kept it: reset before any answer.
      if (resets-- > 0) req.socket.destroy();
      else info(req, res);
    }, async (url) => {
      const client = new JellyfinClient({ url, apiKey: 'k' });
      await expect(client.serverInfo()).resolves.toEqual({ serverName: 'restarted', version: '10.10.7' });
      expect(asked).toBe(2);
      resets = 2;
      asked = 0;
      const reset = await failure(client.serverInfo());
      expect([httpStatusOf(reset.kind), reset.message]).toEqual([502, `Jellyfin at ${url} is unreachable (ECONNRESET): check JELLYFIN_URL`]);
      expect(asked).toBe(2);
    });
  });

  it('says Jellyfin is unreachable, or is not Jellyfin', async () => {
    const closed = new JellyfinClient({ url: `http://127.0.0.1:${await findFreePort()}`, apiKey: 'k' });
    const unreachable = await failure(closed.serverInfo());
    expect([httpStatusOf(unreachable.kind), unreachable.message]).toEqual([502, expect.stringMatching(/is unreachable \(ECONNREFUSED\): check JELLYFIN_URL/)]);

    await withServer((_req, res) => res.end('<html>a router page</html>'), async (url) => {
      const wrong = await failure(new JellyfinClient({ url, apiKey: 'k' }).item(FILM));
      expect([httpStatusOf(wrong.kind), wrong.message]).toEqual([502, expect.stringMatching(/not JSON: is JELLYFIN_URL the server's address/)]);
    });

    // A URL missing Jellyfin's base path: its /System/Info is someone else's 404, not "no such item".
    await withServer(json(404, {}), async (url) => {
      const missing = await failure(new JellyfinClient({ url, apiKey: 'k' }).serverInfo());
      expect([httpStatusOf(missing.kind), missing.message]).toEqual([502, expect.stringMatching(/has no \/System\/Info \(HTTP 404\): is JELLYFIN_URL the server's address/)]);
    });
  });

  it('gives up on a server that does not answer within the timeout', async () => {
    await withServer(() => undefined, async (url) => {
      const silent = await failure(new JellyfinClient({ url, apiKey: 'k' }, { timeoutMs: 200 }).item(FILM));
      expect([httpStatusOf(silent.kind), silent.message]).toEqual([502, `Jellyfin at ${url} is unreachable (no answer within 0.2 s): check JELLYFIN_URL`]);
    });
  });

  it('names a server too old for GET /Items/{id}', async () => {
    await withServer(json(405, {}), async (url) => {
      const old = await failure(new JellyfinClient({ url, apiKey: 'k' }).item(FILM));
      expect([httpStatusOf(old.kind), old.message]).toEqual([502, `Jellyfin at ${url} does not answer GET /Items/${FILM} (HTTP 405): Upflow needs Jellyfin 10.9 or newer`]);
    });
  });

  it("takes the media source's path when Path is empty or null, a dashed id; refuses folders and audio", async () => {
    const dashed = '0a1b2c3d-4e5f-4071-8293-a4b5c6d7e8f9';
    const asked: string[] = [];
    const answer = (Path: string | null): http.RequestListener => (req, res) => {
      asked.push(req.url ?? '');
      json(200, { Id: FILM, Name: 'Film', Path, Type: 'Movie', MediaSources: [{ Path: null }, { Path: '/srv/media/film.mkv' }] })(req, res);
    };
    for (const path of ['', null]) {
      await withServer(answer(path), async (url) => {
        await expect(new JellyfinClient({ url, apiKey: 'k' }).item(dashed)).resolves.toEqual({ id: FILM, name: 'Film', path: '/srv/media/film.mkv', type: 'Movie', genres: [] });
      });
    }
    // The URL carries the 32-digit form, whatever the caller passed.
    expect(asked).toEqual([`/Items/${FILM}`, `/Items/${FILM}`]);

    await withServer(json(200, { Id: SERIES, Name: 'Series', Path: null, Type: 'Series' }), async (url) => {
      const folder = await failure(new JellyfinClient({ url, apiKey: 'k' }).item(SERIES));
      expect([httpStatusOf(folder.kind), folder.message]).toEqual([422, `Jellyfin item ${SERIES} (Series, Series) has no file to upscale`]);
    });

    await withServer(json(200, { Id: SERIES, Name: 'Song', Path: '/srv/music/song.flac', Type: 'Audio', MediaType: 'Audio' }), async (url) => {
      const song = await failure(new JellyfinClient({ url, apiKey: 'k' }).item(SERIES));
      expect([httpStatusOf(song.kind), song.message]).toEqual([422, `Jellyfin item ${SERIES} (Song, Audio) is Audio, not a video`]);
    });

    const bad = await failure(new JellyfinClient({ url: standIn.url, apiKey: standIn.apiKey }).item('../System/Info'));
    expect(httpStatusOf(bad.kind)).toBe(400);
  });
});
