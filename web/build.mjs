// Builds the console (web/) into dist/console with Vite, unless the last build came from the same
// sources: `npm start` runs it every time and it costs nothing then. Writes dist/console/sizes.json
// (gzip bytes of the JavaScript each page loads) and refuses a console over its budget.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..');
const outDir = path.join(root, 'dist', 'console');
const stampFile = path.join(outDir, '.source-hash');
/** The console's JavaScript budget (issue 13): under 200 KB gzip. */
export const BUDGET_BYTES = 200 * 1024;

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? files(full) : [full];
  });
}

function sourceHash() {
  const hash = createHash('sha256');
  const inputs = [...files(here), path.join(root, 'package-lock.json')].sort();
  for (const file of inputs) hash.update(path.relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
  return hash.digest('hex');
}

/** Gzip bytes of each page's JavaScript: its entry and every chunk it imports (statically). */
export function bundleSizes(dir = outDir) {
  const gz = (file) => gzipSync(readFileSync(path.join(dir, file)), { level: 9 }).length;
  const pages = {};
  for (const name of readdirSync(path.join(dir, '.vite'))) {
    const manifest = JSON.parse(readFileSync(path.join(dir, '.vite', name), 'utf8'));
    for (const [key, chunk] of Object.entries(manifest)) {
      if (!chunk.isEntry) continue;
      const seen = new Set();
      const visit = (k) => {
        if (seen.has(k)) return;
        seen.add(k);
        for (const i of manifest[k].imports ?? []) visit(i);
      };
      visit(key);
      const js = [...seen].map((k) => manifest[k].file);
      const css = [...seen].flatMap((k) => manifest[k].css ?? []);
      // Chunks loaded later (a page's code on its first visit), with what they import in turn.
      const later = new Set();
      const visitLater = (k) => {
        if (seen.has(k) || later.has(k)) return;
        later.add(k);
        for (const i of [...(manifest[k].imports ?? []), ...(manifest[k].dynamicImports ?? [])]) visitLater(i);
      };
      for (const k of seen) for (const i of manifest[k].dynamicImports ?? []) visitLater(i);
      const lazyJs = [...later].map((k) => manifest[k].file).filter((f) => f.endsWith('.js'));
      const jsGzipBytes = js.reduce((sum, f) => sum + gz(f), 0);
      const lazyJsGzipBytes = lazyJs.reduce((sum, f) => sum + gz(f), 0);
      pages[key] = {
        jsGzipBytes,
        lazyJsGzipBytes,
        totalJsGzipBytes: jsGzipBytes + lazyJsGzipBytes,
        cssGzipBytes: css.reduce((sum, f) => sum + gz(f), 0),
        files: js,
        lazyFiles: lazyJs,
      };
    }
  }
  return pages;
}

export async function buildConsole({ force = false } = {}) {
  const hash = sourceHash();
  if (!force && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === hash) return { built: false, sizes: bundleSizes() };
  // Always the production build of React and the rest, whatever NODE_ENV the caller runs under
  // (Jest sets "test", which would bundle React's development build).
  process.env.NODE_ENV = 'production';
  const { build } = await import('vite');
  const { pageConfig, PAGES } = await import('./vite.config.mjs');
  for (const page of Object.keys(PAGES)) await build({ ...pageConfig(page), logLevel: 'error' });
  const sizes = bundleSizes();
  writeFileSync(path.join(outDir, 'sizes.json'), JSON.stringify(sizes, null, 2) + '\n');
  writeFileSync(stampFile, hash);
  return { built: true, sizes };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  const { built, sizes } = await buildConsole({ force: process.argv.includes('--force') });
  const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;
  const { jsGzipBytes: first, totalJsGzipBytes: consoleJs } = sizes['index.html'];
  if (built) {
    console.log(
      `console built in ${((Date.now() - started) / 1000).toFixed(1)} s: ${kb(consoleJs)} JavaScript gzip in all (budget ${kb(BUDGET_BYTES)}), ${kb(first)} on the first page; GraphiQL ${kb(sizes['graphiql.html'].totalJsGzipBytes)}`,
    );
  }
  if (consoleJs > BUDGET_BYTES) {
    console.error(`the console's JavaScript is ${kb(consoleJs)} gzip, over its ${kb(BUDGET_BYTES)} budget`);
    process.exit(1);
  }
}
