/**
 * A private Postgres cluster under the data folder, for `upflow up` and the tests when no
 * DATABASE_URL is given: initialised once (user `upflow`, a random password kept next to the
 * cluster, password auth on 127.0.0.1 only, no Unix socket), started on a free port.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from './logger';
import { commandLineIncludes, findFreePort, isRoot, lookupSystemUser, pidIn, runToCompletion, startChild, type ManagedChild } from './process';

export interface PostgresClusterOptions {
  dir: string;
  logFile: string;
  logger: Logger;
  port?: number;
}

export interface PostgresCluster {
  url: string;
  port: number;
  stop(): Promise<void>;
}

const SUPERUSER = 'upflow';
const DATABASE = 'upflow';
/** Postgres will not run as root; when Upflow runs as root the cluster belongs to this user. */
const SERVICE_USER = 'postgres';
const START_TIMEOUT_MS = 60_000;

export class PostgresMissingError extends Error {
  constructor() {
    super('PostgreSQL is not installed: run `npm run setup` (it installs the Debian package postgresql), or set DATABASE_URL to use an existing server');
    this.name = 'PostgresMissingError';
  }
}

/** The newest installed server's bin folder (Debian keeps them under /usr/lib/postgresql/<major>). */
/**
 * A fresh temporary folder for a data directory: readable by others, because the private
 * cluster runs as the `postgres` user when Upflow runs as root (mkdtemp makes it 0700).
 */
export function makeTempDataDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o755);
  return dir;
}

export function findPostgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  const majors = fs.existsSync(root) ? fs.readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  for (const major of majors) {
    const bin = path.join(root, major, 'bin');
    if (fs.existsSync(path.join(bin, 'initdb')) && fs.existsSync(path.join(bin, 'postgres'))) return bin;
  }
  return undefined;
}

export async function startPostgresCluster(options: PostgresClusterOptions): Promise<PostgresCluster> {
  const bin = findPostgresBinDir();
  if (!bin) throw new PostgresMissingError();
  const dir = path.resolve(options.dir);
  const passwordFile = `${dir}.password`;
  const runAsUser = isRoot() ? SERVICE_USER : undefined;
  const owner = runAsUser ? lookupSystemUser(runAsUser) : undefined;
  if (runAsUser && !owner) throw new Error(`running as root needs the "${SERVICE_USER}" user (from the postgresql package) to own the cluster`);
  if (owner) assertTraversable(path.dirname(dir), owner.uid);

  if (!fs.existsSync(path.join(dir, 'PG_VERSION'))) {
    await initCluster({ bin, dir, passwordFile, runAsUser, owner, logger: options.logger });
  }
  const password = readPassword(passwordFile);
  await stopStalePostmaster(dir, options.logger);

  const port = options.port ?? (await findFreePort());
  const child = startChild({
    name: 'postgres',
    command: path.join(bin, 'postgres'),
    args: ['-D', dir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    runAsUser,
    logFile: options.logFile,
  });
  const stop = async () => {
    // SIGINT is Postgres's "fast" shutdown: it ends sessions and checkpoints.
    await child.stop('SIGINT', 30_000);
  };
  try {
    await waitUntilAccepting({ port, password, child, logFile: options.logFile });
    await ensureDatabase(port, password);
  } catch (err) {
    await stop();
    throw err;
  }
  options.logger.debug({ port, dir }, 'postgres started');
  return { url: connectionUrl(port, password, DATABASE), port, stop };
}

function connectionUrl(port: number, password: string, database: string): string {
  return `postgres://${SUPERUSER}:${password}@127.0.0.1:${port}/${database}`;
}

function readPassword(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    throw new Error(`the Postgres cluster's password file ${file} is missing; remove the cluster folder next to it to start afresh`);
  }
}

/** The service user must be able to reach the cluster folder through every parent. */
function assertTraversable(dir: string, uid: number): void {
  for (let current = dir; ; current = path.dirname(current)) {
    if (fs.existsSync(current)) {
      const stat = fs.statSync(current);
      const searchable = stat.uid === uid ? (stat.mode & 0o100) !== 0 : (stat.mode & 0o001) !== 0;
      if (!searchable) {
        throw new Error(`the ${SERVICE_USER} user cannot reach ${dir}: ${current} is not searchable by others (chmod o+x ${current}, choose another UPFLOW_DATA_DIR, or set DATABASE_URL)`);
      }
    }
    if (current === path.dirname(current)) return;
  }
}

async function initCluster(o: {
  bin: string;
  dir: string;
  passwordFile: string;
  runAsUser?: string;
  owner?: { uid: number; gid: number };
  logger: Logger;
}): Promise<void> {
  o.logger.info({ dir: o.dir }, 'initialising a Postgres cluster (first start only)');
  fs.rmSync(o.dir, { recursive: true, force: true });
  fs.mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  const password = crypto.randomBytes(18).toString('hex');
  // initdb reads the password from a file the service user can read; it is removed right after.
  const pwfile = `${o.dir}.initdb-password`;
  fs.writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (o.owner) {
    fs.chownSync(o.dir, o.owner.uid, o.owner.gid);
    fs.chownSync(pwfile, o.owner.uid, o.owner.gid);
  }
  const result = await runToCompletion({
    name: 'initdb',
    command: path.join(o.bin, 'initdb'),
    args: ['-D', o.dir, '-U', SUPERUSER, `--pwfile=${pwfile}`, '--auth=scram-sha-256', '--encoding=UTF8', '--locale=C.UTF-8', '--no-sync'],
    runAsUser: o.runAsUser,
  });
  fs.rmSync(pwfile, { force: true });
  if (result.code !== 0) {
    fs.rmSync(o.dir, { recursive: true, force: true });
    throw new Error(`initdb failed for ${o.dir}: ${lastLines(result.output, 5)}`);
  }
  fs.writeFileSync(o.passwordFile, `${password}\n`, { mode: 0o600 });
}

/** A postmaster left running by a killed `upflow up` holds the folder; stop it first. */
async function stopStalePostmaster(dir: string, logger: Logger): Promise<void> {
  const pid = pidIn(path.join(dir, 'postmaster.pid'));
  const isPostgres = pid !== undefined && commandLineIncludes(pid, 'postgres');
  if (!isPostgres) return; // Postgres itself replaces a pid file whose process is gone.
  logger.warn({ pid }, 'stopping a Postgres left running by an earlier Upflow');
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + 20_000;
  while (fs.existsSync(`/proc/${pid}`) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (fs.existsSync(`/proc/${pid}`)) process.kill(pid, 'SIGKILL');
}

async function waitUntilAccepting(o: { port: number; password: string; child: ManagedChild; logFile: string }): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const client = new pg.Client({ connectionString: connectionUrl(o.port, o.password, 'postgres'), connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.end();
      return;
    } catch (err) {
      await client.end().catch(() => undefined);
      if (o.child.hasExited() || Date.now() > deadline) {
        const log = fs.existsSync(o.logFile) ? lastLines(fs.readFileSync(o.logFile, 'utf8'), 3) : '';
        throw new Error(`Postgres did not start (${(err as Error).message}); see ${o.logFile}: ${log}`, { cause: err });
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  }
}

async function ensureDatabase(port: number, password: string): Promise<void> {
  const client = new pg.Client({ connectionString: connectionUrl(port, password, 'postgres') });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
}

function lastLines(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).join(' | ');
}
