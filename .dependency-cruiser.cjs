/**
 * The house plan as rules (`npm run lint` runs `depcruise`): which folder may import which.
 * api/, cli/, worker/ (entry points) · services/ (use cases) · workflows/ (orchestration,
 * deterministic) and activities/ (their side effects) · adapters/ (connections, I/O) · core/
 * (pure decisions and the contract). client-js/src/ is browser code: it sees the contract
 * alone. The picture and what a violation looks like: docs/architecture.md, "Layers".
 */
/** The contract: core files compiled for the browser too (client-js/tsconfig.json). */
const CONTRACT = '^core/(domain|jellyfin-items|models|switch-lead)\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import loop (type-only ones too: a loop of concerns). Move what both sides need down a layer.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'workflows-no-side-effects',
      severity: 'error',
      comment:
        'Workflow code runs in Temporal\'s deterministic sandbox: it reaches adapters and activities only through ' +
        'proxyActivities, so it may import activities as types (as the Temporal samples do) and nothing of adapters.',
      from: { path: '^workflows/' },
      to: { path: '^(adapters|activities|services|api|cli|worker)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'workflows-no-adapter-types',
      severity: 'error',
      comment: 'Workflows see the world through core/ and the activities\' signatures, not through adapters.',
      from: { path: '^workflows/' },
      to: { path: '^(adapters|services|api|cli|worker)/' },
    },
    {
      name: 'only-definitions-of-workflows',
      severity: 'error',
      comment:
        'workflows/ sits on top: below it only its signal/query/update definitions (workflows/definitions.ts) are imported.',
      from: { path: '^(core|adapters|services|activities|api|cli|client-js)/' },
      to: { path: '^workflows/', pathNot: '^workflows/definitions\\.ts$' },
    },
    {
      name: 'api-not-to-activities',
      severity: 'error',
      comment: 'api/ is transport: it asks services/, never activities/ (which run on a worker).',
      from: { path: '^api/' },
      to: { path: '^activities/' },
    },
    {
      name: 'cli-not-to-activities',
      severity: 'error',
      comment: 'cli/ is transport too: it asks services/ or the running API. Only the benches reach in, to time the frame pipeline a chunk runs (frame-pipeline.ts, onnx-stream.ts) stage by stage.',
      from: { path: '^cli/' },
      to: { path: '^activities/', pathNot: '^activities/(frame-pipeline|onnx-stream)\\.ts$' },
    },
    {
      name: 'services-not-to-transport',
      severity: 'error',
      comment: 'Use cases serve api/ and cli/ alike; they know neither, nor the activities.',
      from: { path: '^services/' },
      to: { path: '^(api|cli|activities|worker)/' },
    },
    {
      name: 'adapters-only-io',
      severity: 'error',
      comment: 'Adapters hold connections and I/O; use cases, transport and activities sit above them.',
      from: { path: '^adapters/' },
      to: { path: '^(services|api|cli|activities|workflows|worker)/' },
    },
    {
      name: 'core-is-pure',
      severity: 'error',
      comment: 'core/ holds pure decisions and the contract: it imports nothing of the layers above it.',
      from: { path: '^core/' },
      to: { path: '^(api|adapters|services|activities|workflows|cli|worker|client-js)/' },
    },
    {
      name: 'client-js-only-contract',
      severity: 'error',
      comment: 'The browser scripts see Upflow through the contract in core/ (domain, jellyfin-items, models, switch-lead) and npm packages only.',
      from: { path: '^client-js/src/' },
      // Node built-ins have a rule of their own (no-node-in-browser-code).
      to: { pathNot: [CONTRACT, '^client-js/src/', '(^|/)node_modules/'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'contract-only-contract',
      severity: 'error',
      comment: 'The contract is compiled for the browser: it imports only itself.',
      from: { path: CONTRACT },
      to: { pathNot: CONTRACT },
    },
    {
      name: 'no-node-in-browser-code',
      severity: 'error',
      comment: 'The contract and client-js/src/ run in the browser: no Node built-ins.',
      from: { path: [CONTRACT, '^client-js/src/'] },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to nothing.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: '(^|/)node_modules/' },
    exclude: { path: '(^|/)(node_modules|dist|\\.upflow|\\.git)/' },
    // Type-only imports count: they are what the workflow and contract rules are about.
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.cjs', '.mjs', '.json', '.d.ts'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
