// Lets Node load TypeScript sources (tests, and the worker threads and child processes they start),
// compiled by swc as jest compiles them (swc-options.js). Only runs from source need it: built code is JavaScript.
//
// What swc made is kept in node_modules/.cache, keyed by the source, its path and the options: a
// test run starts hundreds of relay threads and dozens of server processes from the same sources,
// and each paid for loading swc (about 35 ms a thread) and compiling every file again (a server
// process: some 200 files). swc is loaded only when a file is not in the cache.
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { threadId } = require('node:worker_threads');

const OPTIONS = require('./swc-options.js');
const CACHE_DIR = path.join(__dirname, '..', '..', 'node_modules', '.cache', 'jobwatch-register-ts');
const SALT = `${require('@swc/core/package.json').version}\0${JSON.stringify(OPTIONS)}`;
let swc;

require.extensions['.ts'] = function compile(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  module._compile(compiled(source, filename), filename);
};

function compiled(source, filename) {
  const key = crypto.createHash('sha256').update(SALT).update('\0').update(filename).update('\0').update(source).digest('hex');
  const file = path.join(CACHE_DIR, `${key}.js`);
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    // not compiled yet
  }
  swc ??= require('@swc/core');
  const { code } = swc.transformSync(source, { filename, ...OPTIONS });
  try {
    fs.mkdirSync(CACHE_DIR, { recursive: true });
    // Written whole, then renamed: a reader in another thread or process never sees half a file.
    const partial = `${file}.${process.pid}-${threadId}.partial`;
    fs.writeFileSync(partial, code);
    fs.renameSync(partial, file);
  } catch {
    // A cache that cannot be written (a read-only node_modules) only makes the next start slower.
  }
  return code;
}
