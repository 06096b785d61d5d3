// Workflow code runs in Temporal's deterministic sandbox: it may import types from
// activities and pure modules from core/, never Node or I/O libraries.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeAndIoModules = [
  'fs', 'fs/*', 'node:*', 'child_process', 'path', 'os', 'crypto', 'http', 'https', 'net',
  'pg', 'express', 'pino', 'fluent-ffmpeg', 'onnxruntime-node', '@temporalio/client',
  '@temporalio/worker', '@temporalio/activity',
];

export default tseslint.config(
  { ignores: ['node_modules/**', '.upflow/**', 'coverage/**', 'client-js/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // With the types: a promise nobody awaits or catches would crash a worker when it rejects.
    files: ['activities/**/*.ts', 'adapters/**/*.ts', 'api/**/*.ts', 'cli/**/*.ts', 'core/**/*.ts', 'services/**/*.ts', 'worker/**/*.ts', 'workflows/**/*.ts'],
    languageOptions: { parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    files: ['bin/**/*.js', '*.config.js', '.dependency-cruiser.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', process: 'readonly', module: 'writable' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: nodeAndIoModules, message: 'Workflow code must stay deterministic: no Node or I/O modules.' },
          { group: ['../activities', '../activities/*', '../adapters/*'], allowTypeImports: true,
            message: 'Workflows import activities and adapters as types only.' },
        ],
      }],
    },
  },
);
