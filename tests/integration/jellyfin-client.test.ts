/** Upflow's Jellyfin client against the stand-in server over real HTTP: each failure's reason. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { JellyfinClient } from '../../adapters/jellyfin';
import { findFreePort } from '../../adapters/process';
import { AppError } from '../../common/errors';
import { startJellyfinStandIn, type JellyfinStandIn } from '../support/jellyfin-stand-in';

const FILM = '0a1b2c3d4e5f40718293a4b5c6d7e8f9';
const SERIES = '1b2c3d4e5f6a40718293a4b5c6d7e8f9';

async function failure(promise: Promise<unknown>): Promise<AppError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

describe('the Jellyfin client', () => {
  let standIn: JellyfinStandIn;

  beforeAll(async () => {
    standIn = await startJellyfinStandIn({ items: { [FILM]: { name: 'Film', path: '/srv/media/Film (1987).mkv' } } });
  });
  afterAll(() => standIn.close());

  it('reads the server info and an item with the MediaBrowser token header', async () => {
    const client = new JellyfinClient({ url: standIn.url, apiKey: standIn.apiKey });
    await expect(client.serverInfo()).resolves.toEqual({ serverName: 'stand-in', version: '10.10.7' });
    await expect(client.item(FILM)).resolves.toEqual({ id: FILM, name: 'Film', path: '/srv/media/Film (1987).mkv' });
    expect(standIn.requests.filter((r) => r.path.startsWith('/Items/')).every((r) => r.authorized)).toBe(true);
  });

  it('asks Jellyfin once per item while its answer is fresh', async () => {
    const client = new JellyfinClient({ url: standIn.url, apiKey: standIn.apiKey });
    const before = standIn.requests.length;
    await client.item(FILM);
    await client.item(FILM);
    expect(standIn.requests.length - before).toBe(1);
  });

  it('names a refused key, an unknown item and an item without a file', async () => {
    const wrongKey = new JellyfinClient({ url: standIn.url, apiKey: 'wrong' });
    const refused = await failure(wrongKey.item(FILM));
    expect([refused.status, refused.message]).toEqual([502, expect.stringMatching(/refused the API key \(HTTP 401\): check JELLYFIN_API_KEY/)]);

    const client = new JellyfinClient({ url: standIn.url, apiKey: standIn.apiKey });
    const unknown = await failure(client.item('ffffffffffffffffffffffffffffffff'));
    expect([unknown.status, unknown.message]).toEqual([404, 'Jellyfin has no item ffffffffffffffffffffffffffffffff']);

    standIn.items.set(SERIES, { name: 'Series', path: '' });
    const noFile = await failure(client.item(SERIES));
    expect([noFile.status, noFile.message]).toEqual([422, expect.stringMatching(/has no file to upscale/)]);
  });

  it('says Jellyfin is unreachable, or is not Jellyfin', async () => {
    const closed = new JellyfinClient({ url: `http://127.0.0.1:${await findFreePort()}`, apiKey: 'k' });
    const unreachable = await failure(closed.serverInfo());
    expect([unreachable.status, unreachable.message]).toEqual([502, expect.stringMatching(/is unreachable \(ECONNREFUSED\): check JELLYFIN_URL/)]);

    const notJellyfin = http.createServer((_req, res) => res.end('<html>a router page</html>'));
    await new Promise<void>((resolve) => notJellyfin.listen(0, '127.0.0.1', resolve));
    try {
      const client = new JellyfinClient({ url: `http://127.0.0.1:${(notJellyfin.address() as AddressInfo).port}`, apiKey: 'k' });
      const wrong = await failure(client.item(FILM));
      expect([wrong.status, wrong.message]).toEqual([502, expect.stringMatching(/not JSON: is JELLYFIN_URL the server's address/)]);
    } finally {
      notJellyfin.close();
    }
  });
});
