/** Writes schema/schema.graphql from the code: npm run schema */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { printJobwatchSchema } from '../src/app/schema';

printJobwatchSchema()
  .then((sdl) => {
    const file = path.resolve(process.cwd(), 'schema', 'schema.graphql');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, sdl);
    process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
  })
  .catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
