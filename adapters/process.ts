/**
 * Long-running child processes (Postgres, the Temporal dev server, the worker) and the ports
 * they listen on. Each child gets its own process group so a terminal's Ctrl-C reaches only
 * `upflow up`, which then stops the children in order; `stop()` signals the whole group so
 * grandchildren (ffmpeg under a worker) go too.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export interface ChildSpec {
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Run as this system user (Postgres refuses to run as root). */
  runAsUser?: string;
  /** Append stdout and stderr here; without it the child writes to this terminal. */
  logFile?: string;
}

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ManagedChild {
  name: string;
  pid: number;
  exited: Promise<ChildExit>;
  hasExited(): boolean;
  /** Sends `signal` to the child's group, then SIGKILL after `graceMs`; resolves once it is gone. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<ChildExit>;
}

export interface SystemUser {
  uid: number;
  gid: number;
  home: string;
}

/** Looks a user up in /etc/passwd (os.userInfo only knows the current user). */
export function lookupSystemUser(name: string): SystemUser | undefined {
  const passwd = fs.readFileSync('/etc/passwd', 'utf8');
  for (const line of passwd.split('\n')) {
    const [user, , uid, gid, , home] = line.split(':');
    if (user === name && uid !== undefined && gid !== undefined) {
      return { uid: Number(uid), gid: Number(gid), home: home ?? '/' };
    }
  }
  return undefined;
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

export function startChild(spec: ChildSpec): ManagedChild {
  let user: SystemUser | undefined;
  if (spec.runAsUser && isRoot()) {
    user = lookupSystemUser(spec.runAsUser);
    if (!user) throw new Error(`${spec.name} must run as user "${spec.runAsUser}", which does not exist on this machine`);
  }
  let stdio: Array<'ignore' | 'inherit' | number> = ['ignore', 'inherit', 'inherit'];
  let logFd: number | undefined;
  if (spec.logFile) {
    fs.mkdirSync(path.dirname(spec.logFile), { recursive: true });
    logFd = fs.openSync(spec.logFile, 'a');
    stdio = ['ignore', logFd, logFd];
  }
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: spec.env ?? process.env,
    stdio,
    detached: true,
    uid: user?.uid,
    gid: user?.gid,
  });
  if (logFd !== undefined) fs.closeSync(logFd);

  let exit: ChildExit | undefined;
  const exited = new Promise<ChildExit>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    });
    child.once('error', (err: NodeJS.ErrnoException) => {
      // spawn failures (ENOENT, EACCES) arrive here instead of 'exit'.
      exit = { code: err.code === 'ENOENT' ? 127 : 126, signal: null };
      resolve(exit);
    });
  });
  if (child.pid === undefined) {
    throw new Error(`could not start ${spec.name} (${spec.command})`);
  }
  const pid = child.pid;
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // The group is already gone.
    }
  };
  return {
    name: spec.name,
    pid,
    exited,
    hasExited: () => exit !== undefined,
    async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000) {
      if (exit) {
        signalGroup('SIGKILL'); // leftovers of the group, if any
        return exit;
      }
      signalGroup(signal);
      const timer = setTimeout(() => signalGroup('SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(timer);
      signalGroup('SIGKILL');
      return result;
    },
  };
}

function pidFile(runDir: string, name: string): string {
  return path.join(runDir, `${name}.pid`);
}

export function writePidFile(runDir: string, name: string, pid: number): void {
  fs.mkdirSync(runDir, { recursive: true });
  fs.writeFileSync(pidFile(runDir, name), `${pid}\n`);
}

/**
 * A previous `upflow up` that was killed with SIGKILL cannot stop its children; the next one
 * does it from their pid files. Only a process group still led by that pid is touched.
 */
export function killStaleFromPidFile(runDir: string, name: string): boolean {
  const file = pidFile(runDir, name);
  const pid = pidIn(file);
  fs.rmSync(file, { force: true });
  return pid !== undefined && killGroupIfLeader(pid);
}

/**
 * One stack per data folder: `<run>/stack.pid` names the Upflow process that runs it. A second
 * stack would stop the first's Postgres, Temporal and worker as if a killed Upflow had left them.
 * The file of an owner that is gone (killed) is taken over.
 */
export function lockStack(runDir: string, dataDir: string): { release(): void } {
  const file = pidFile(runDir, 'stack');
  fs.mkdirSync(runDir, { recursive: true });
  for (let attempt = 0; ; attempt++) {
    try {
      fs.writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
    }
    const owner = pidIn(file);
    if (owner !== undefined && owner !== process.pid && commandLineIncludes(owner, 'upflow')) {
      throw new Error(`Upflow is already running on the data folder ${dataDir} (pid ${owner}): use it (its API), stop it first, or set UPFLOW_DATA_DIR to another folder`);
    }
    fs.rmSync(file, { force: true });
  }
  return {
    release() {
      if (pidIn(file) === process.pid) fs.rmSync(file, { force: true });
    },
  };
}

/** The pid a pid file names (its first line); undefined when there is none. */
export function pidIn(file: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').split('\n')[0]!.trim());
    return Number.isInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** A live process whose command line holds `text` (a pid from an earlier boot may now be anything else). */
export function commandLineIncludes(pid: number, text: string): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text);
  } catch {
    return false;
  }
}

/** SIGKILLs the process group `pid` leads; false when no such live group exists. */
export function killGroupIfLeader(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the "(comm)" part: state ppid pgrp ...
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) !== pid) return false;
    process.kill(-pid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}

/** Ports handed out by this process, never handed out twice (a child may not have bound one yet). */
const portsHandedOut = new Set<number>();
/** Below the kernel's ephemeral range, and above the ports well-known services listen on. */
const LOWEST_LISTEN_PORT = 20_000;

/**
 * A port to listen on, below the kernel's ephemeral range. A port the kernel gives for
 * `listen(0)` comes from the range outgoing connections also use: a long-lived connection
 * (a pg pool's, Temporal's own between its services) can take it between this check and the
 * child's bind, and the child then fails with "address already in use" until that connection
 * closes. Below the range only another listener can take it.
 */
export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  const [low, high] = [LOWEST_LISTEN_PORT, ephemeralPortRangeStart() - 1];
  for (let attempt = 0; attempt < 200 && high > low; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (portsHandedOut.has(port) || !(await isPortFree(port, host))) continue;
    portsHandedOut.add(port);
    return port;
  }
  // A kernel whose ephemeral range starts low, or a crowded machine: the kernel's choice.
  return kernelChosenPort(host);
}

function ephemeralPortRangeStart(): number {
  try {
    const low = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) ? low : 32_768;
  } catch {
    return 32_768;
  }
}

function kernelChosenPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** Resolves once something accepts TCP connections on host:port. */
export async function waitForTcpPort(host: string, port: number, timeoutMs: number, child?: ManagedChild): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (child?.hasExited()) throw new Error(`${child.name} exited before it listened on ${host}:${port}`);
    if (Date.now() > deadline) throw new Error(`nothing listened on ${host}:${port} within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface RunResult {
  code: number | null;
  output: string;
}

/** Runs a short command to completion (initdb and the like), capturing its output. */
export function runToCompletion(spec: Omit<ChildSpec, 'logFile'>): Promise<RunResult> {
  let user: SystemUser | undefined;
  if (spec.runAsUser && isRoot()) {
    user = lookupSystemUser(spec.runAsUser);
    if (!user) return Promise.reject(new Error(`${spec.name} must run as user "${spec.runAsUser}", which does not exist on this machine`));
  }
  return new Promise((resolve) => {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      uid: user?.uid,
      gid: user?.gid,
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', (err) => resolve({ code: 127, output: `${output}${err.message}` }));
    child.once('close', (code) => resolve({ code, output }));
  });
}
