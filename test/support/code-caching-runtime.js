'use strict';
const { compileFunction } = require('node:vm');
const Runtime = require('jest-runtime').default;

/**
 * Jest's runtime, with V8's code cache kept across the test files of a worker.
 *
 * Jest gives every test file a module registry of its own, so each file compiles the whole server
 * again: some 1,800 modules (typeorm, graphql, Apollo, the app), about 320 ms of parsing a file.
 * The transformed source of a module is the same in every file; V8's code cache for it is too. The
 * first file of a worker produces it; the next ones hand it back to `compileFunction`, which then
 * skips parsing. Each file still runs every module afresh in its own context: isolation is
 * unchanged, only the parse is shared. V8 checks the source and its own flags against the cache
 * and compiles from source when they differ.
 */
const codeCache = new Map();

/**
 * The transformed text of each dependency (a file under node_modules), kept across the test files
 * of a worker. Jest already keeps the transform's result for the worker, but finds it again for
 * every module of every file by reading the file from disk, stat-ing it and building its options:
 * some 1,800 files a test file, about 150 ms. Dependencies do not change during a run; our own
 * sources and tests still go through jest each time.
 */
const dependencyTransforms = new Map();

class CodeCachingRuntime extends Runtime {
  constructor(...args) {
    super(...args);
    const executor = this.executor;
    if (executor === undefined || typeof executor.compile !== 'function') {
      throw new Error('jest-runtime changed: ModuleExecutor.compile is gone; update test/support/code-caching-runtime.js');
    }
    shareDependencyTransforms(this.transformCache);
    const compile = executor.compile.bind(executor);
    // Whatever compileCached cannot compile, jest's own compile reports (its syntax error messages).
    executor.compile = (scriptSource, filename) => {
      try {
        return compileCached(executor, scriptSource, filename);
      } catch {
        return compile(scriptSource, filename);
      }
    };
  }
}

/** TransformCache.transform of jest-runtime 30, answering a dependency from the worker's map. */
function shareDependencyTransforms(transformCache) {
  if (
    transformCache === undefined ||
    typeof transformCache.transform !== 'function' ||
    !(transformCache.transforms instanceof Map) ||
    !(transformCache.sourceMaps instanceof Map)
  ) {
    throw new Error('jest-runtime changed: TransformCache is not as it was; update test/support/code-caching-runtime.js');
  }
  const transform = transformCache.transform.bind(transformCache);
  transformCache.transform = (filename, options) => {
    if (options?.isInternalModule === true || !filename.includes('/node_modules/')) return transform(filename, options);
    const key = options === undefined ? filename : `${filename}\0${JSON.stringify(options)}`;
    let transformed = dependencyTransforms.get(key);
    if (transformed === undefined) {
      const code = transform(filename, options);
      transformed = transformCache.transforms.get(filename);
      if (transformed === undefined || transformed.code !== code) return code;
      dependencyTransforms.set(key, transformed);
      return code;
    }
    transformCache.transforms.set(filename, transformed);
    if (transformed.sourceMapPath) transformCache.sourceMaps.set(filename, transformed.sourceMapPath);
    return transformed.code;
  };
}

/** ModuleExecutor.compile of jest-runtime 30, with `cachedData`. */
function compileCached(executor, scriptSource, filename) {
  const vmContext = executor.environment.getVmContext();
  if (vmContext == null) return null;
  const scriptFilename = executor.resolution.isCoreModule(filename) ? `jest-nodejs-core-${filename}` : filename;
  const known = codeCache.get(scriptFilename);
  const cachedData = known !== undefined && known.source === scriptSource ? known.data : undefined;
  const compiled = compileFunction(scriptSource, executor.injectedModuleParameters, {
    filename: scriptFilename,
    importModuleDynamically: (specifier, _function, importAttributes, ...rest) =>
      executor.dynamicImport(specifier, scriptFilename, vmContext, importAttributes, rest[0]),
    parsingContext: vmContext,
    ...(cachedData === undefined ? { produceCachedData: true } : { cachedData }),
  });
  if (cachedData === undefined && compiled.cachedDataProduced === true) {
    codeCache.set(scriptFilename, { source: scriptSource, data: Buffer.from(compiled.cachedData) });
  } else if (compiled.cachedDataRejected === true) {
    codeCache.delete(scriptFilename);
  }
  return compiled;
}

module.exports = CodeCachingRuntime;
