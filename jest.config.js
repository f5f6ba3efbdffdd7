const swc = { ...require('./src/util/swc-options.js'), sourceMaps: 'inline' };

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest', swc] },
  // jose ships ESM only: let swc turn it into CommonJS like our own code.
  transformIgnorePatterns: ['/node_modules/(?!(jose)/)'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  setupFiles: ['reflect-metadata'],
  // Jest's runtime, with each worker's test files sharing V8's parse of the modules they all load.
  runtime: '<rootDir>/test/support/code-caching-runtime.js',
  testTimeout: 60_000,
  maxWorkers: 2,
  // A worker's heap grew past 1 GB over some forty files while every file's module registry was
  // kept alive (prom-client's GC observer, src/metrics/runtime-metrics.ts); a worker that large
  // took more than jest-worker's 500 ms to exit, and jest warned that it had been force-exited.
  // A file now leaves some 100 MB; the limit stays as a guard should a leak come back.
  workerIdleMemoryLimit: '800MB',
};
