/**
 * `npm run check:migrations` (part of `npm run lint`): the migration policy of
 * scripts/migrations/migration-policy.ts. `--release` records every new migration as released.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { checkMigrationPolicy, releasedAfterRelease } from './migrations/migration-policy';

const dir = path.resolve(process.cwd(), 'migrations');
const problems = checkMigrationPolicy(dir);
if (problems.length > 0) {
  process.stderr.write(`Migration policy: ${problems.length} problem(s)\n${problems.map((problem) => `  - ${problem}`).join('\n')}\n`);
  process.exit(1);
}
if (process.argv.includes('--release')) {
  const migrations = releasedAfterRelease(dir);
  writeFileSync(path.join(dir, 'released.json'), `${JSON.stringify({ migrations }, null, 2)}\n`);
  process.stdout.write(`released.json: ${migrations.length} released migrations\n`);
} else {
  process.stdout.write('Migration policy: ok\n');
}
