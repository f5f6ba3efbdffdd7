import { readFileSync } from 'node:fs';
import path from 'node:path';
import { API_NODE_FLAGS } from '../bench/support/api-process';

/**
 * The API runs with the same Node flags wherever it is started for real: `npm start`, the Docker
 * image's CMD, and the benchmarks that measure it (a flag the benches measured and production
 * lacked would make their figures about another program).
 */
const root = path.resolve(__dirname, '..');

test('npm start, the Docker image and the benchmarks start the API with the same Node flags', () => {
  const start = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts['start'];
  expect(start).toBe(['exec', 'node', ...API_NODE_FLAGS, 'dist/src/main.js'].join(' '));
  const cmd = /^CMD (\[.*\])$/m.exec(readFileSync(path.join(root, 'Dockerfile'), 'utf8'))?.[1];
  expect(cmd).toBeDefined();
  expect(JSON.parse(cmd!)).toEqual(['node', ...API_NODE_FLAGS, 'dist/src/main.js']);
});
