/** Unit tests are fast and pure; integration and e2e tests start real servers (see tests/README.md). */
module.exports = {
  // Node's environment with the host's typed arrays, which onnxruntime-node's float outputs need (int8 calibration).
  testEnvironment: '<rootDir>/tests/support/onnx-environment.ts',
  transform: { '^.+\\.ts$': ['@swc/jest'], '^.+\\.js$': ['@swc/jest'] },
  // @jellyfin/sdk ships ES modules only: compiled to CommonJS like the sources (Node itself loads it as is).
  transformIgnorePatterns: ['/node_modules/(?!@jellyfin/sdk/)'],
  testMatch: ['<rootDir>/tests/**/*.test.ts'],
  testTimeout: 120000,
  // Real servers and ffmpeg share 2 cores: one test file at a time (npm test passes --runInBand).
  maxWorkers: 1,
};
