/**
 * The layering rules (.dependency-cruiser.cjs, run by `npm run lint`) catch what they are for:
 * a small tree of planted files, one per forbidden arrow, next to the allowed ones, cruised with
 * the repository's own configuration. Writes only under the system's temporary folder.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const REPO = path.join(__dirname, '..', '..');
const DEPCRUISE = path.join(REPO, 'node_modules', '.bin', 'depcruise');

/** Each file of the planted tree, by its path from the tree's root. */
const PLANTED: Record<string, string> = {
  'core/domain.ts': 'export type JobState = "queued";\n',
  'core/plan.ts': 'import { store } from "../services/jobs";\nexport const plan = store;\n',
  'core/loop-a.ts': 'import { b } from "./loop-b";\nexport const a = b;\n',
  'core/loop-b.ts': 'import { a } from "./loop-a";\nexport const b = () => a;\n',
  'adapters/postgres.ts': 'export const store = 1;\n',
  'services/jobs.ts': 'export { store } from "../adapters/postgres";\n',
  'services/views.ts': 'import { r } from "../api/routes";\nexport const v = r;\n',
  'adapters/ffmpeg.ts': 'import { store } from "../services/jobs";\nexport const f = store;\n',
  'activities/index.ts': 'export const activities = { ping: async () => 1 };\n',
  'workflows/definitions.ts': 'export const cancelSignal = "cancel";\n',
  'workflows/title.ts': [
    'import type { activities } from "../activities";', // allowed: the Temporal samples' way
    'import { store } from "../adapters/postgres";', // forbidden: side effects in the sandbox
    'export type A = typeof activities;',
    'export const s = store;',
    '',
  ].join('\n'),
  'workflows/plan.ts': 'export const plan = 1;\n',
  'activities/media.ts': 'import { plan } from "../workflows/plan";\nimport { cancelSignal } from "../workflows/definitions";\nexport const m = [plan, cancelSignal];\n',
  'activities/frame-pipeline.ts': 'export const runFramePipeline = 1;\n',
  'cli/bench.ts': 'import { runFramePipeline } from "../activities/frame-pipeline";\nimport { activities } from "../activities";\nexport const b = [runFramePipeline, activities];\n',
  'api/routes.ts': 'import { activities } from "../activities";\nimport { store } from "../services/jobs";\nexport const r = [activities, store];\n',
  'client-js/src/page.ts': 'import fs from "node:fs";\nimport type { JobState } from "../../core/domain";\nimport { plan } from "../../core/plan";\nexport const p: [unknown, JobState?, unknown?] = [fs, undefined, plan];\n',
};

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

function cruise(root: string): Violation[] {
  // The JSON report exits 0 whatever it found (the text one exits with the number of errors).
  const report = execFileSync(DEPCRUISE, ['--config', path.join(REPO, '.dependency-cruiser.cjs'), '--output-type', 'json', '.'], { cwd: root, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  return (JSON.parse(report) as { summary: { violations: Violation[] } }).summary.violations;
}

describe('the layering rules', () => {
  let root: string;
  let found: string[];
  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'upflow-layers-'));
    for (const [file, text] of Object.entries(PLANTED)) {
      fs.mkdirSync(path.join(root, path.dirname(file)), { recursive: true });
      fs.writeFileSync(path.join(root, file), text);
    }
    found = cruise(root).map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort();
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('finds each planted forbidden arrow, and nothing else', () => {
    expect(found).toEqual([
      'adapters-only-io: adapters/ffmpeg.ts → services/jobs.ts',
      'api-not-to-activities: api/routes.ts → activities/index.ts',
      'cli-not-to-activities: cli/bench.ts → activities/index.ts',
      'client-js-only-contract: client-js/src/page.ts → core/plan.ts',
      'core-is-pure: core/plan.ts → services/jobs.ts',
      'no-circular: core/loop-a.ts → core/loop-b.ts',
      'no-node-in-browser-code: client-js/src/page.ts → fs',
      'only-definitions-of-workflows: activities/media.ts → workflows/plan.ts',
      'services-not-to-transport: services/views.ts → api/routes.ts',
      'workflows-no-adapter-types: workflows/title.ts → adapters/postgres.ts',
      'workflows-no-side-effects: workflows/title.ts → adapters/postgres.ts',
    ]);
  });
});
