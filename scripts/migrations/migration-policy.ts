import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The migration policy, checked in CI (`npm run lint`, `.ci/run`):
 * - a released migration (listed in migrations/released.json with the sha256 of its text) never
 *   changes and is never removed: a database that ran it must not meet a different text;
 * - a new migration sorts after every released one (TypeORM runs them by timestamp: one that
 *   sorts earlier would run out of order on an upgraded database and in order on a fresh one);
 * - timestamps are unique, file names are `<timestamp>-<Name>.ts` with the class `<Name><timestamp>`,
 *   and migrations/index.ts lists every file, in order.
 * Releasing (`npm run migrations:release`) adds the new migrations to the manifest.
 */
export interface ReleasedMigration {
  readonly file: string;
  readonly sha256: string;
}

export interface MigrationFile {
  readonly file: string;
  readonly timestamp: number;
  readonly className: string;
  readonly sha256: string;
}

const FILE_NAME = /^(\d{13})-([A-Z][A-Za-z0-9]*)\.ts$/;

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The migration files of a folder (index.ts and the manifest aside), sorted by timestamp. */
export function migrationFiles(dir: string): { files: MigrationFile[]; problems: string[] } {
  const problems: string[] = [];
  const files: MigrationFile[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (name === 'index.ts' || name === 'released.json') continue;
    const match = FILE_NAME.exec(name);
    if (match === null) {
      problems.push(`${name}: a migration file is named <13-digit timestamp>-<PascalCaseName>.ts`);
      continue;
    }
    const text = readFileSync(path.join(dir, name), 'utf8');
    const className = `${match[2]}${match[1]}`;
    if (!new RegExp(`export class ${className}\\b`).test(text)) problems.push(`${name}: it must export the class ${className}`);
    files.push({ file: name, timestamp: Number(match[1]), className, sha256: sha256(text) });
  }
  files.sort((a, b) => a.timestamp - b.timestamp);
  return { files, problems };
}

export function readManifest(dir: string): ReleasedMigration[] {
  const file = path.join(dir, 'released.json');
  if (!existsSync(file)) return [];
  return (JSON.parse(readFileSync(file, 'utf8')) as { migrations: ReleasedMigration[] }).migrations;
}

/** Every way the folder breaks the policy; empty when it keeps it. */
export function checkMigrationPolicy(dir: string): string[] {
  const { files, problems } = migrationFiles(dir);
  const byName = new Map(files.map((file) => [file.file, file]));
  const released = readManifest(dir);

  for (const entry of released) {
    const file = byName.get(entry.file);
    if (file === undefined) problems.push(`${entry.file}: released, so it may not be removed or renamed`);
    else if (file.sha256 !== entry.sha256)
      problems.push(`${entry.file}: released, so it may not change (add a new migration that repairs it instead)`);
  }
  const lastReleased = Math.max(0, ...released.map((entry) => byName.get(entry.file)?.timestamp ?? 0));
  const releasedNames = new Set(released.map((entry) => entry.file));
  for (const file of files) {
    if (!releasedNames.has(file.file) && file.timestamp <= lastReleased) {
      problems.push(
        `${file.file}: a new migration must sort after the last released one (${lastReleased}); rename it with a later timestamp`,
      );
    }
  }
  const seen = new Map<number, string>();
  for (const file of files) {
    const other = seen.get(file.timestamp);
    if (other !== undefined) problems.push(`${file.file}: its timestamp is also ${other}'s`);
    seen.set(file.timestamp, file.file);
  }

  const indexFile = path.join(dir, 'index.ts');
  const index = existsSync(indexFile) ? readFileSync(indexFile, 'utf8') : '';
  const listed =
    /export const migrations = \[([^\]]*)\]/
      .exec(index)?.[1]
      ?.split(',')
      .map((name) => name.trim())
      .filter((name) => name !== '') ?? [];
  const expected = files.map((file) => file.className);
  if (listed.join(',') !== expected.join(',')) {
    problems.push(`index.ts: \`migrations\` must list every migration class in timestamp order: [${expected.join(', ')}]`);
  }
  return problems;
}

/** The manifest after a release: the released entries as they are, then every new file. */
export function releasedAfterRelease(dir: string): ReleasedMigration[] {
  const released = readManifest(dir);
  const names = new Set(released.map((entry) => entry.file));
  const added = migrationFiles(dir)
    .files.filter((file) => !names.has(file.file))
    .map(({ file, sha256: hash }) => ({ file, sha256: hash }));
  return [...released, ...added];
}
