// The console's build: hashed assets under dist/console, nothing loaded from elsewhere. The
// console and GraphiQL (development only) are built apart, so that neither page's JavaScript
// holds any of the other's: the console's size is its own. Each build writes a manifest that the
// server and the size report (build.mjs) read.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (relative) => fileURLToPath(new URL(relative, import.meta.url));

export const PAGES = { console: 'index.html', graphiql: 'graphiql.html' };

export function pageConfig(page) {
  return defineConfig({
    configFile: false,
    root: here('.'),
    base: '/',
    logLevel: 'warn',
    publicDir: false,
    oxc: { jsx: { runtime: 'automatic' } },
    build: {
      outDir: here('../dist/console'),
      // The console's build comes first and starts afresh; GraphiQL's adds to it.
      emptyOutDir: page === 'console',
      manifest: page === 'console' ? '.vite/manifest.json' : `.vite/manifest-${page}.json`,
      target: 'es2022',
      // The strict Content-Security-Policy allows no inline script: no polyfill injected inline.
      modulePreload: { polyfill: false },
      assetsInlineLimit: 0,
      chunkSizeWarningLimit: 4000,
      rollupOptions: {
        input: { [page]: here(PAGES[page]) },
        onwarn(warning, warn) {
          // GraphiQL's dependencies say "use client" (a React Server Components hint, moot here).
          if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
          warn(warning);
        },
      },
    },
  });
}

export default pageConfig('console');
