/**
 * docker-compose.yml and the Dockerfiles, checked without Docker (no engine runs where the
 * tests run): the services and what they mount, publish, reserve and wait for; Upflow's
 * environment against the configuration schema; build contexts, COPY sources and the `upflow`
 * subcommands against the repository. Reads files only.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, loadConfig, type Config } from '../../core/config';

const REPO = path.join(__dirname, '..', '..');
const read = (file: string): string => fs.readFileSync(path.join(REPO, file), 'utf8');

interface DeviceReservation {
  driver?: string;
  count?: number | 'all';
  device_ids?: string[];
  capabilities?: string[];
}

interface Service {
  image?: string;
  build?: { context: string; dockerfile?: string };
  command?: string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  volumes?: string[];
  ports?: string[];
  profiles?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test: string[] };
  restart?: string;
  configs?: { source: string; target: string }[];
  deploy?: { resources?: { reservations?: { devices?: DeviceReservation[] } } };
}

interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  configs?: Record<string, unknown>;
}

const compose = parse(read('docker-compose.yml'), { merge: true }) as ComposeFile;
const services = compose.services;
const serviceNames = Object.keys(services);
const UPFLOW_SERVICES = ['api', 'worker-cpu', 'worker-gpu'];
const WORKERS = ['worker-cpu', 'worker-gpu'];
/** Process-wide variables an Upflow container may set besides the configuration's own. */
const OS_VARIABLES = ['TZ'];

function service(name: string): Service {
  const found = services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
}

/**
 * Compose's interpolation: `$$` is `$`; `${NAME:-default}`, `${NAME-default}` and `${NAME}` read
 * `vars` (the .env); `${NAME:?message}` (and `${NAME?message}`) stop compose with the message
 * when NAME is unset or empty (unset).
 */
function interpolate(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\$|\$\{(\w+)(?:(:?[-?])([^}]*))?\}/g, (match, name?: string, operator?: string, operand?: string) => {
    if (match === '$$') return '$';
    const value = vars[name!];
    if (operator === ':-') return value ? value : (operand ?? '');
    if (operator === '-') return value ?? operand ?? '';
    if ((operator === ':?' && !value) || (operator === '?' && value === undefined)) throw new Error(`required variable ${name} is missing a value: ${operand ?? ''}`);
    return value ?? '';
  });
}

/** What every deployment's .env must hold: compose refuses to start without it. */
const REQUIRED_DOTENV = { UPFLOW_API_KEY: '3f9c0e6b2a7d41c8b5e9f0a1d2c3b4a5' };

function rawEnvironment(name: string): Record<string, string> {
  const environment = service(name).environment;
  if (!environment || Array.isArray(environment)) throw new Error(`${name}: environment should be a map`);
  return Object.fromEntries(Object.entries(environment).map(([key, value]) => [key, String(value ?? '')]));
}

/** The environment the container gets, with `vars` as the .env beside docker-compose.yml. */
function environmentOf(name: string, vars: Record<string, string> = {}): Record<string, string> {
  const dotenv = { ...REQUIRED_DOTENV, ...vars };
  return Object.fromEntries(Object.entries(rawEnvironment(name)).map(([key, value]) => [key, interpolate(value, dotenv)]));
}

function configOf(name: string, vars: Record<string, string> = {}): Config {
  return loadConfig(environmentOf(name, vars), '/');
}

interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
  /** A named volume (declared under `volumes:`), not a folder of the host. */
  named: boolean;
  raw: string;
}

function mountsOf(name: string): Mount[] {
  return (service(name).volumes ?? []).map((raw) => {
    const [source = '', target = '', mode] = interpolate(raw, {}).split(':');
    return { source, target, readOnly: mode === 'ro', named: !/^[./~]/.test(source), raw };
  });
}

function dependenciesOf(name: string): Record<string, { condition: string }> {
  const dependsOn = service(name).depends_on ?? {};
  return Array.isArray(dependsOn) ? Object.fromEntries(dependsOn.map((d) => [d, { condition: 'service_started' }])) : dependsOn;
}

/** "8080:8080" → host 8080, container 8080 (an optional leading host address is ignored). */
function portsOf(name: string): { host: number; container: number }[] {
  return (service(name).ports ?? []).map((spec) => {
    const parts = spec.split(':');
    return { host: Number(parts.at(-2)), container: Number(parts.at(-1)) };
  });
}

/** The `upflow` subcommands, as cli/main.ts registers them. */
function upflowSubcommands(): string[] {
  return [...read('cli/main.ts').matchAll(/\.command\('([a-z-]+)'\)/g)].map((m) => m[1]!);
}

describe('docker-compose.yml', () => {
  it('has the services of a deployment', () => {
    expect(serviceNames).toEqual(expect.arrayContaining(['postgres', 'temporal', 'temporal-ui', 'api', 'worker-cpu', 'worker-gpu', 'nginx']));
  });

  it('pins the version of every image it pulls', () => {
    for (const [name, s] of Object.entries(services)) {
      if (s.build) continue;
      expect(`${name}: ${s.image}`).toMatch(/: [\w./-]+:(?!latest$)[\w.-]+$/);
    }
  });

  it('starts everything but worker-gpu without a profile; worker-gpu with `--profile gpu`', () => {
    const profiled = Object.entries(services).filter(([, s]) => s.profiles).map(([name, s]) => [name, s.profiles]);
    expect(profiled).toEqual([['worker-gpu', ['gpu']]]);
  });

  it('gives the Upflow services only variables the configuration reads, so that a typo fails here', () => {
    for (const name of UPFLOW_SERVICES) {
      const unknown = Object.keys(rawEnvironment(name)).filter((key) => !CONFIG_VARIABLES.includes(key) && !OS_VARIABLES.includes(key));
      expect({ service: name, unknown }).toEqual({ service: name, unknown: [] });
    }
  });

  it('lets every other setting of the configuration through from .env (docs/deployment.md says which it sets itself)', () => {
    // What describes the containers, not the owner's choices: docker-compose.yml decides these.
    const setByCompose = {
      UPFLOW_CACHE_DIR: 'a path in the image',
      UPFLOW_API_HOST: 'the address the API listens on in its container',
      UPFLOW_API_PORT: 'the port nginx and the healthcheck reach',
      UPFLOW_TEMPORAL_PORT: "the dev server's, which compose does not start",
      UPFLOW_TEMPORAL_UI_PORT: "the dev server's web UI",
      UPFLOW_TEMPORAL_NAMESPACE: "compose's Temporal has the default namespace only",
      UPFLOW_DEMO: '`upflow up` alone makes the demo clip',
    };
    // And what a service has no use for: the API runs no model, the workers answer no request.
    const unused: Record<string, string[]> = { api: ['UPFLOW_EXECUTION_PROVIDER'], 'worker-cpu': ['UPFLOW_API_KEY'], 'worker-gpu': ['UPFLOW_API_KEY'] };
    for (const name of UPFLOW_SERVICES) {
      const environment = rawEnvironment(name);
      const missing = CONFIG_VARIABLES.filter((key) => !(key in environment) && !(key in setByCompose) && !unused[name]?.includes(key));
      expect({ service: name, missing }).toEqual({ service: name, missing: [] });
    }
  });

  it('passes .env variables through under their own names', () => {
    for (const name of UPFLOW_SERVICES) {
      for (const [key, value] of Object.entries(rawEnvironment(name))) {
        const passThrough = /^\$\{(\w+):-\}$/.exec(value);
        if (passThrough) expect(`${name}: ${key} <- ${passThrough[1]}`).toBe(`${name}: ${key} <- ${key}`);
      }
    }
  });

  it('gives values the configuration accepts, with compose defaults', () => {
    for (const name of UPFLOW_SERVICES) {
      const config = configOf(name);
      expect(config.databaseUrl).toBe('postgres://upflow:upflow@postgres:5432/upflow');
      expect(config.temporal.address).toBe('temporal:7233');
      expect(config.dataDir).toBe('/data');
      expect(config.hlsDir).toBe('/data/hls');
      expect(config.outputDir).toBe('/output');
      expect(config.mediaRoots).toEqual(['/media']);
      expect(config.hlsBaseUrl).toBe('http://localhost:8080/hls');
      expect(config.jellyfin).toBeUndefined();
      // Upflow's own defaults apply where .env is silent.
      expect(config.upscale).toEqual(loadConfig({}, '/').upscale);
      expect(config.cleanup.schedule).toBe('0 3 * * *');
    }
  });

  it('carries a typical .env into the configuration', () => {
    const dotenv = {
      UPFLOW_PUBLIC_HOST: 'upflow.lan',
      UPFLOW_MEDIA_PATH: '/srv/media',
      POSTGRES_PASSWORD: 's3cret',
      SRGAN_ENABLE: '1',
      UPFLOW_MODEL: 'realesrgan-x2',
      UPFLOW_CLEANUP_SCHEDULE: '30 4 * * *',
      UPFLOW_HLS_RETENTION: '7d',
      JELLYFIN_URL: 'http://jellyfin:8096',
      JELLYFIN_API_KEY: 'abc123',
      TZ: 'Europe/Berlin',
    };
    for (const name of UPFLOW_SERVICES) {
      const config = configOf(name, dotenv);
      expect(config.hlsBaseUrl).toBe('http://upflow.lan:8080/hls');
      expect(config.mediaRoots).toEqual(['/srv/media']);
      expect(config.databaseUrl).toBe('postgres://upflow:s3cret@postgres:5432/upflow');
      expect(config.upscale).toMatchObject({ aiEnabled: true, model: 'realesrgan-x2' });
      expect(config.cleanup.schedule).toBe('30 4 * * *');
      expect(config.hls.retentionMs).toBe(7 * 86_400_000);
      expect(config.jellyfin).toEqual({ url: 'http://jellyfin:8096', apiKey: 'abc123' });
      expect(environmentOf(name, dotenv).TZ).toBe('Europe/Berlin');
    }
  });

  it('never sets an empty TZ (Node takes it for an unknown zone, and the API stops)', () => {
    for (const name of UPFLOW_SERVICES) expect(environmentOf(name).TZ).toBe('UTC');
  });

  it('uses the same database password for Postgres, Temporal and Upflow', () => {
    const dotenv = { POSTGRES_PASSWORD: 'pw' };
    expect(environmentOf('postgres', dotenv).POSTGRES_PASSWORD).toBe('pw');
    expect(environmentOf('temporal', dotenv).POSTGRES_PWD).toBe('pw');
    expect(environmentOf('temporal-schema', dotenv).SQL_PASSWORD).toBe('pw');
    expect(configOf('api', dotenv).databaseUrl).toBe('postgres://upflow:pw@postgres:5432/upflow');
  });

  it('declares the volumes and configs its services use; repository files it mounts exist', () => {
    for (const name of serviceNames) {
      for (const mount of mountsOf(name)) {
        if (mount.named) expect(`${name}: ${mount.source}`).toBe(`${name}: ${Object.keys(compose.volumes ?? {}).find((v) => v === mount.source)}`);
        else if (!mount.raw.startsWith('${')) expect(`${name}: ${mount.source} exists`).toBe(`${name}: ${mount.source} ${fs.existsSync(path.join(REPO, mount.source)) ? 'exists' : 'is missing'}`);
      }
      for (const config of service(name).configs ?? []) expect(Object.keys(compose.configs ?? {})).toContain(config.source);
    }
  });

  it('waits only on services that exist and can report what it waits for', () => {
    for (const name of serviceNames) {
      for (const [target, { condition }] of Object.entries(dependenciesOf(name))) {
        const dependency = service(target);
        expect(['service_started', 'service_healthy', 'service_completed_successfully']).toContain(condition);
        if (condition === 'service_healthy') expect(`${name} -> ${target}: ${dependency.healthcheck ? 'healthcheck' : 'none'}`).toBe(`${name} -> ${target}: healthcheck`);
        // A one-shot container with a restart policy would run again and again.
        if (condition === 'service_completed_successfully') expect(`${name} -> ${target}: restart ${dependency.restart ?? 'no'}`).toBe(`${name} -> ${target}: restart no`);
      }
    }
  });

  it('starts the workers after the API, which brings the database schema up to date', () => {
    for (const name of WORKERS) expect(dependenciesOf(name).api).toEqual({ condition: 'service_healthy' });
  });

  it('serves HLS with nginx from the volume the workers write, read-only, on the port hls_url names', () => {
    const nginxConf = read('deploy/nginx.conf');
    const root = /^\s*root\s+(\S+);/m.exec(nginxConf)?.[1];
    const listen = Number(/^\s*listen\s+(\d+);/m.exec(nginxConf)?.[1]);
    expect(nginxConf).toMatch(/location \/hls\/ \{/);
    const nginxMounts = mountsOf('nginx');
    expect(nginxMounts).toContainEqual(expect.objectContaining({ source: './deploy/nginx.conf', target: '/etc/nginx/nginx.conf', readOnly: true }));

    for (const name of WORKERS) {
      const config = configOf(name);
      const dataMount = mountsOf(name).find((m) => m.target === config.dataDir);
      expect(dataMount).toMatchObject({ named: true, readOnly: false });
      // The worker's <data>/hls is nginx's <root>/hls, which `location /hls/` serves.
      expect(nginxMounts).toContainEqual(expect.objectContaining({ source: dataMount!.source, target: root, readOnly: true }));
      expect(path.relative(config.dataDir, config.hlsDir)).toBe('hls');
      expect(new URL(config.hlsBaseUrl).pathname).toBe('/hls');
    }
    const published = portsOf('nginx').find((p) => p.container === listen);
    expect(published).toEqual({ host: 8080, container: 8080 });
    for (const name of UPFLOW_SERVICES) expect(new URL(configOf(name).hlsBaseUrl).port).toBe(String(published!.host));
  });

  it('has nginx ask the API who may fetch HLS, at the API service\'s address, once the API is up', () => {
    const nginxConf = read('deploy/nginx.conf');
    const access = new URL(/^\s*set \$upflow_hls_access "([^"]+)";/m.exec(nginxConf)?.[1] ?? '');
    expect(access.hostname).toBe('api');
    expect(Number(access.port)).toBe(configOf('api').api.port);
    expect(access.pathname).toBe('/hls/access');
    expect(dependenciesOf('nginx').api).toEqual({ condition: 'service_healthy' });
    // Looked up through Docker's DNS per request, not once when nginx starts.
    expect(nginxConf).toMatch(/^\s*resolver 127\.0\.0\.11\b/m);
    expect(nginxConf).not.toMatch(/autoindex on/);
    expect(nginxConf).toMatch(/disable_symlinks on\b/);
  });

  it('publishes the API on 5000 and the Temporal web UI on 8233', () => {
    expect(portsOf('api')).toContainEqual({ host: 5000, container: configOf('api').api.port });
    expect(portsOf('temporal-ui')).toContainEqual({ host: 8233, container: 8080 });
  });

  it('publishes the Temporal web UI (no login, it can stop any workflow) on 127.0.0.1 only; only the API and nginx beyond', () => {
    expect(service('temporal-ui').ports).toEqual(['127.0.0.1:8233:8080']);
    for (const name of serviceNames) {
      const open = (service(name).ports ?? []).filter((spec) => !spec.startsWith('127.0.0.1:'));
      expect({ name, open: open.length > 0 }).toEqual({ name, open: name === 'api' || name === 'nginx' });
    }
  });

  it('refuses to start without UPFLOW_API_KEY in .env, and gives it to the API, which listens on every interface with it', () => {
    for (const empty of [{}, { UPFLOW_API_KEY: '' }] as Record<string, string>[]) {
      expect(() => Object.values(rawEnvironment('api')).map((value) => interpolate(value, empty))).toThrow(/^required variable UPFLOW_API_KEY is missing a value: set UPFLOW_API_KEY in \.env/);
    }
    const config = configOf('api', { UPFLOW_API_KEY: 'a-key-of-32-characters-000000000' });
    expect(config.api).toMatchObject({ apiKey: 'a-key-of-32-characters-000000000', host: '0.0.0.0' });
    // The workers reach no API: they get no key.
    for (const name of WORKERS) expect(configOf(name).api.apiKey).toBeUndefined();
  });

  it("carries UPFLOW_CORS_ORIGINS (the address browsers open Jellyfin at) and UPFLOW_TRUST_PROXY into the API's configuration", () => {
    const config = configOf('api', { JELLYFIN_URL: 'http://jellyfin:8096', JELLYFIN_API_KEY: 'j', UPFLOW_CORS_ORIGINS: 'http://media.lan:8096', UPFLOW_TRUST_PROXY: '172.16.0.0/12' });
    expect(config.api.corsOrigins).toEqual(['http://jellyfin:8096', 'http://media.lan:8096']);
    expect(config.api.trustProxy).toEqual(['172.16.0.0/12']);
  });

  it('mounts the library read-only where sources are accepted from, and the output folder', () => {
    for (const name of UPFLOW_SERVICES) {
      const config = configOf(name, { UPFLOW_MEDIA_PATH: '/srv/media' });
      const mounts = (service(name).volumes ?? []).map((raw) => interpolate(raw, { UPFLOW_MEDIA_PATH: '/srv/media' }));
      expect(mounts).toContainEqual(expect.stringMatching(new RegExp(`:${config.mediaRoots[0]}:ro$`)));
      const output = mountsOf(name).find((m) => m.target === config.outputDir);
      // The API only checks that finished files exist; workers write them.
      expect(output?.readOnly).toBe(name === 'api');
    }
  });

  it('lets workers write into the library only when asked (UPFLOW_MEDIA_ACCESS=rw, for UPFLOW_JELLYFIN_PUBLISH); the API never', () => {
    for (const name of UPFLOW_SERVICES) {
      const mounts = (service(name).volumes ?? []).map((raw) => interpolate(raw, { UPFLOW_MEDIA_ACCESS: 'rw' }));
      expect(mounts).toContainEqual(expect.stringMatching(new RegExp(`:/media:${WORKERS.includes(name) ? 'rw' : 'ro'}$`)));
    }
  });

  it('gives worker-gpu one NVIDIA GPU and the CUDA execution provider; worker-cpu the CPU', () => {
    const devices = service('worker-gpu').deploy?.resources?.reservations?.devices ?? [];
    expect(devices).toHaveLength(1);
    const [gpu] = devices;
    expect(gpu).toMatchObject({ driver: 'nvidia', capabilities: expect.arrayContaining(['gpu']) });
    expect(gpu!.count === 1 || gpu!.device_ids?.length === 1).toBe(true);
    expect(configOf('worker-gpu').inference.executionProvider).toBe('cuda');
    expect(service('worker-gpu').build?.dockerfile).toBe('deploy/Dockerfile.gpu');
    expect(configOf('worker-cpu').inference.executionProvider).toBe('cpu');
    expect(service('worker-cpu').deploy).toBeUndefined();
  });

  it('runs real upflow subcommands: the API and the workers', () => {
    const subcommands = upflowSubcommands();
    expect(subcommands).toEqual(expect.arrayContaining(['api', 'worker']));
    const expected: Record<string, string> = { api: 'api', 'worker-cpu': 'worker', 'worker-gpu': 'worker' };
    for (const name of UPFLOW_SERVICES) {
      const [node, script, subcommand] = service(name).command ?? [];
      expect([node, script, subcommand]).toEqual(['node', 'bin/upflow.js', expected[name]]);
      expect(fs.existsSync(path.join(REPO, script!))).toBe(true);
      expect(subcommands).toContain(subcommand);
    }
  });
});

interface Instruction {
  keyword: string;
  args: string;
}

/** A Dockerfile's instructions: comment lines dropped, continuation lines joined. */
function instructions(dockerfile: string): Instruction[] {
  return read(dockerfile)
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const match = /^(\w+)\s+(.*)$/.exec(line);
      if (!match) throw new Error(`${dockerfile}: cannot read "${line}"`);
      return { keyword: match[1]!.toUpperCase(), args: match[2]! };
    });
}

/** The .dockerignore patterns used here: plain paths (a folder covers what is inside) and `*` globs. */
function isDockerignored(file: string, patterns: string[]): boolean {
  const normalized = path.posix.normalize(file).replace(/^\.\/|\/$/g, '');
  return patterns.some((pattern) => {
    const regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}(/.*)?$`);
    return regex.test(normalized);
  });
}

const dockerignore = read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
const builds = [...new Map(Object.values(services).filter((s) => s.build).map((s) => [s.build!.dockerfile ?? 'Dockerfile', s.build!])).values()];

describe('Dockerfiles', () => {
  it('are what compose builds: the CPU image and the GPU image, from the repository root', () => {
    expect(builds.map((b) => b.dockerfile).sort()).toEqual(['deploy/Dockerfile', 'deploy/Dockerfile.gpu']);
    for (const build of builds) {
      expect(fs.statSync(path.join(REPO, build.context)).isDirectory()).toBe(true);
      expect(fs.existsSync(path.join(REPO, build.context, build.dockerfile!))).toBe(true);
    }
  });

  it('copy only files that exist and that .dockerignore keeps in the build context', () => {
    expect(dockerignore).toEqual(expect.arrayContaining(['node_modules', '.upflow', 'client-js/dist', '.git', 'coverage', '.env']));
    for (const build of builds) {
      const copies = instructions(build.dockerfile!).filter((i) => (i.keyword === 'COPY' || i.keyword === 'ADD') && !i.args.includes('--from='));
      expect(copies.length).toBeGreaterThan(0);
      for (const copy of copies) {
        const words = copy.args.startsWith('[') ? (JSON.parse(copy.args) as string[]) : copy.args.split(/\s+/).filter((w) => !w.startsWith('--'));
        for (const source of words.slice(0, -1)) {
          expect(`${build.dockerfile}: ${source} ${fs.existsSync(path.join(REPO, build.context, source)) ? 'exists' : 'is missing'}`).toBe(`${build.dockerfile}: ${source} exists`);
          expect(`${build.dockerfile}: ${source} ${isDockerignored(source, dockerignore) ? 'is ignored' : 'is in the context'}`).toBe(`${build.dockerfile}: ${source} is in the context`);
        }
      }
    }
  });

  it('pin every base image', () => {
    for (const build of builds) {
      const steps = instructions(build.dockerfile!);
      const args = Object.fromEntries(steps.filter((s) => s.keyword === 'ARG').map((s) => s.args.split('=')).filter((kv) => kv.length === 2));
      const stages: string[] = [];
      for (const from of steps.filter((s) => s.keyword === 'FROM')) {
        const [image = '', , stage] = from.args.split(/\s+/).filter((w) => !w.startsWith('--'));
        const resolved = image.replace(/\$\{?(\w+)\}?/g, (_m, name: string) => args[name] ?? '');
        if (!stages.includes(resolved)) expect(`${build.dockerfile}: ${resolved}`).toMatch(/: [\w./-]+:(?!latest$)[\w.-]+$/);
        if (stage) stages.push(stage);
      }
    }
  });

  it('build the ONNX models and the Jellyfin script into the image, with the repository\'s own commands', () => {
    const packageJson = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    for (const build of builds) {
      const steps = instructions(build.dockerfile!);
      const runs = steps.filter((s) => s.keyword === 'RUN').map((s) => s.args).join('\n');
      expect(runs).toContain(packageJson.scripts.models);
      expect(runs).toContain('client-js/build.ts');
      const cacheDirs = steps.filter((s) => s.keyword === 'ENV').map((s) => /UPFLOW_CACHE_DIR=(\S+)/.exec(s.args)?.[1]).filter(Boolean);
      // Where the models were built is where the running image looks for them.
      expect(cacheDirs.length).toBeGreaterThanOrEqual(2);
      expect(new Set(cacheDirs).size).toBe(1);
    }
  });

  it('install onnxruntime\'s CUDA provider in the GPU image only, with a value its install script knows', () => {
    const installOf = (dockerfile: string) => /ONNXRUNTIME_NODE_INSTALL=(\S+)/.exec(read(dockerfile))?.[1];
    expect(installOf('deploy/Dockerfile')).toBe('skip');
    const gpuInstall = installOf('deploy/Dockerfile.gpu');
    const requireHere = createRequire(__filename);
    const metadata = requireHere('onnxruntime-node/script/install-metadata.js') as { requirements: Record<string, string[]> };
    expect(metadata.requirements['linux/x64']).toContain(gpuInstall);
  });
});
