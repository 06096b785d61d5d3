/**
 * The service adapters `upflow up` is built on, against the real programs: a private Postgres
 * cluster, the Temporal CLI's dev server, and child processes that leave nothing behind.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { loadConfig } from '../../core/config';
import { createLogger } from '../../adapters/logger';
import { startPostgresCluster, makeTempDataDir } from '../../adapters/postgres-cluster';
import { findFreePort, killStaleFromPidFile, startChild, writePidFile } from '../../adapters/process';
import { findTemporalCli, startTemporalDevServer } from '../../adapters/temporal-server';
import { descendantsOf, isAlive, waitFor } from '../support/upflow-process';

const logger = createLogger({ level: 'silent' });
let dir: string;

beforeAll(() => {
  dir = makeTempDataDir('upflow-services-');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function count(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query<{ n: string }>('SELECT count(*) AS n FROM notes');
    return Number(result.rows[0]!.n);
  } finally {
    await client.end();
  }
}

describe('private Postgres cluster', () => {
  it('initialises once, keeps its data across restarts, and takes over from a killed run', async () => {
    const options = { dir: path.join(dir, 'pg'), logFile: path.join(dir, 'pg.log'), logger };
    const first = await startPostgresCluster(options);
    expect(first.url).toMatch(/^postgres:\/\/upflow:[0-9a-f]+@127\.0\.0\.1:\d+\/upflow$/);
    const client = new pg.Client({ connectionString: first.url });
    await client.connect();
    await client.query('CREATE TABLE notes (text text)');
    await client.query("INSERT INTO notes VALUES ('kept')");
    await client.end();
    // Password auth on TCP: a wrong password is refused.
    const wrong = new pg.Client({ connectionString: first.url.replace(/:[0-9a-f]+@/, ':nope@') });
    await expect(wrong.connect()).rejects.toThrow(/password authentication failed/);
    expect(fs.statSync(`${options.dir}.password`).mode & 0o777).toBe(0o600);
    await first.stop();

    const second = await startPostgresCluster(options);
    expect(await count(second.url)).toBe(1);
    // A run killed with SIGKILL leaves its postmaster behind; the next start stops it first.
    const postmasterPid = Number(fs.readFileSync(path.join(options.dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const third = await startPostgresCluster(options);
    expect(isAlive(postmasterPid)).toBe(false);
    expect(await count(third.url)).toBe(1);
    await third.stop();
    await second.stop(); // already gone: stopping again is harmless
  }, 120_000);
});

describe('Temporal dev server', () => {
  const cli = findTemporalCli(loadConfig({}).cacheDir);

  it('is installed by set-up', () => {
    expect(cli).toBeDefined();
  });

  it('starts with its web UI on free ports and stops', async () => {
    const [port, uiPort] = [await findFreePort(), await findFreePort()];
    const server = await startTemporalDevServer({
      cliPath: cli!, dbFile: path.join(dir, 'temporal.db'), port, uiPort, namespace: 'upflow-test', logFile: path.join(dir, 'temporal.log'), logger,
    });
    expect(server.address).toBe(`127.0.0.1:${port}`);
    const ui = await waitFor('the web UI', async () => fetch(server.uiUrl!).then((r) => (r.ok ? r : undefined), () => undefined), 30_000, 250);
    expect(ui.headers.get('content-type')).toMatch(/text\/html/);
    expect(fs.existsSync(path.join(dir, 'temporal.db'))).toBe(true);
    await server.stop();
    expect(isAlive(server.pid)).toBe(false);
  }, 120_000);

  it('starts again when the dev server exits while starting (its own ports taken by another start: temporalio/cli#667)', async () => {
    // The real CLI behind a script that, the first time only, exits as the panicking server does.
    const marker = path.join(dir, 'crashed-once');
    const flaky = path.join(dir, 'temporal-flaky');
    fs.writeFileSync(flaky, `#!/bin/sh\nif [ ! -e '${marker}' ]; then touch '${marker}'; echo 'panic: runtime error: invalid memory address or nil pointer dereference'; exit 2; fi\nexec '${cli!}' "$@"\n`, { mode: 0o755 });
    const server = await startTemporalDevServer({
      cliPath: flaky, dbFile: path.join(dir, 't3.db'), port: await findFreePort(), namespace: 'default', logFile: path.join(dir, 't3.log'), logger,
    });
    try {
      expect(fs.existsSync(marker)).toBe(true);
      expect(fs.readFileSync(path.join(dir, 't3.log'), 'utf8')).toContain('panic: runtime error');
    } finally {
      await server.stop();
    }
    expect(isAlive(server.pid)).toBe(false);
  }, 120_000);

  it('gives up with the reason when the dev server keeps exiting while starting', async () => {
    const broken = path.join(dir, 'temporal-broken');
    fs.writeFileSync(broken, "#!/bin/sh\necho 'temporal: the database is not one'\nexit 1\n", { mode: 0o755 });
    await expect(startTemporalDevServer({
      cliPath: broken, dbFile: path.join(dir, 't4.db'), port: await findFreePort(), namespace: 'default', logFile: path.join(dir, 't4.log'), logger,
    })).rejects.toThrow(/did not start \(it exited\).*the database is not one/);
    // One line per attempt.
    expect(fs.readFileSync(path.join(dir, 't4.log'), 'utf8').match(/not one/g)).toHaveLength(3);
  });

  it('says which port is taken and how to choose another', async () => {
    const blocker = net.createServer();
    const port = await findFreePort();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      await expect(startTemporalDevServer({
        cliPath: cli!, dbFile: path.join(dir, 't2.db'), port, namespace: 'default', logFile: path.join(dir, 't2.log'), logger,
      })).rejects.toThrow(`port ${port} for Temporal's gRPC is in use`);
    } finally {
      blocker.close();
    }
  });
});

describe('child processes', () => {
  it('stop() takes the whole process group, grandchildren included', async () => {
    const child = startChild({ name: 'tree', command: 'bash', args: ['-c', 'sleep 300 & sleep 300 & wait'], logFile: path.join(dir, 'tree.log') });
    const grandchildren = await waitFor('grandchildren', async () => {
      const found = descendantsOf(child.pid);
      return found.length >= 2 ? found : undefined;
    });
    const exit = await child.stop('SIGTERM', 5000);
    expect(exit.signal ?? exit.code).toBeTruthy();
    await waitFor('grandchildren to exit', async () => (grandchildren.some(isAlive) ? undefined : true), 5000);
  });

  it('a stale pid file from a killed run stops that group, and only a group leader', async () => {
    const runDir = path.join(dir, 'run');
    const stale = startChild({ name: 'stale', command: 'sleep', args: ['300'] });
    writePidFile(runDir, 'stale', stale.pid);
    expect(killStaleFromPidFile(runDir, 'stale')).toBe(true);
    await stale.exited;
    expect(fs.existsSync(path.join(runDir, 'stale.pid'))).toBe(false);
    // init is never touched, and a missing pid file is no error.
    writePidFile(runDir, 'other', 1);
    expect(killStaleFromPidFile(runDir, 'other')).toBe(false);
    expect(killStaleFromPidFile(runDir, 'never-written')).toBe(false);
  });

  it('names a program that does not exist', () => {
    expect(() => startChild({ name: 'missing', command: '/nonexistent/program', args: [] })).toThrow('could not start missing (/nonexistent/program)');
  });
});
