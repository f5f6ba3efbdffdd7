import path from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * A worker thread running the module `entry`. Built code (`.js`) runs as it is; a TypeScript
 * source (the tests, which run src/ without building it) is compiled as it loads (register-ts.js).
 */
export function startWorkerThread(entry: string, options: WorkerOptions): Worker {
  if (!entry.endsWith('.ts')) return new Worker(entry, options);
  // register-ts.js sits beside this file in the sources (the only place a .ts entry comes from).
  const loader = `require(${JSON.stringify(path.join(__dirname, 'register-ts.js'))}); require(${JSON.stringify(entry)});`;
  return new Worker(loader, { ...options, eval: true });
}
