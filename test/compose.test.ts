import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The check CI runs on docker-compose.yml (.ci/validate-compose.js, against the Compose
 * Specification's schema): the file passes, and the mistakes it exists for are caught.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { validateCompose } = require('../.ci/validate-compose.js') as { validateCompose(text: string): string[] };

const compose = readFileSync(path.resolve(__dirname, '../docker-compose.yml'), 'utf8');

test('docker-compose.yml follows the Compose Specification', () => {
  expect(validateCompose(compose)).toEqual([]);
});

test.each([
  [
    'a misspelt key',
    compose.replace('    restart: unless-stopped', '    restrat: unless-stopped'),
    /must NOT have additional properties: restrat/,
  ],
  [
    'a healthcheck option that does not exist',
    compose.replace('      start_period: 60s', '      startPeriod: 60s'),
    /additional properties: startPeriod/,
  ],
  [
    'ports as a map',
    compose.replace('    ports:\n      - "4000:4000"', '    ports:\n      http: 4000'),
    /\/services\/api\/ports must be array/,
  ],
  [
    'depends_on with an unknown condition',
    compose.replace('condition: service_healthy', 'condition: healthy'),
    /condition must be equal to one of the allowed values/,
  ],
  ['not YAML', 'services: [', /not a compose file/],
])('%s is refused', (_name, text, problem) => {
  expect(validateCompose(text).join('\n')).toMatch(problem);
});

test('variables are interpolated with their defaults before validation, as Compose does', () => {
  expect(validateCompose(compose.replace('"4000:4000"', '${API_PORT:-4000}:4000'))).toEqual([]);
  // Valid only once interpolated: the condition's enum knows no "${...}".
  expect(validateCompose(compose.replace('condition: service_healthy', 'condition: ${CONDITION:-service_healthy}'))).toEqual([]);
  expect(validateCompose(compose.replace('condition: service_healthy', 'condition: ${CONDITION:-healthy}')).join('\n')).toMatch(
    /allowed values/,
  );
});
