/** Unit tests are fast and pure; integration and e2e tests start real servers (see tests/README.md). */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest'], '^.+\\.js$': ['@swc/jest'] },
  // @jellyfin/sdk ships ES modules only: compiled to CommonJS like the sources (Node itself loads it as is).
  transformIgnorePatterns: ['/node_modules/(?!@jellyfin/sdk/)'],
  testMatch: ['<rootDir>/tests/**/*.test.ts'],
  testTimeout: 120000,
  // Real servers and ffmpeg share 2 cores: one test file at a time (npm test passes --runInBand).
  maxWorkers: 1,
};
