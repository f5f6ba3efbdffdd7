import { readFileSync } from 'node:fs';
import path from 'node:path';
import semver from 'semver';

/**
 * The lockfile is the same on every machine (so `npm install` on a fresh clone leaves the tree
 * clean and `npm ci` works), and `engines` promises exactly the Node versions that every locked
 * package supports: no more (a user would meet EBADENGINE or worse), no less.
 */
interface LockedPackage {
  readonly version?: string;
  readonly optional?: boolean;
  readonly os?: readonly string[];
  readonly cpu?: readonly string[];
  readonly engines?: { readonly node?: string };
  readonly optionalDependencies?: Readonly<Record<string, string>>;
}

const root = path.resolve(__dirname, '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, LockedPackage>;
};
const locked = Object.entries(lock.packages).filter(([key]) => key !== '');

/** Every minor release line of the Node majors anyone might run. */
const NODE_VERSIONS = Array.from({ length: 10 }, (_, i) => 18 + i).flatMap((major) =>
  Array.from({ length: 40 }, (_, minor) => `${major}.${minor}.0`),
);

describe('dependencies', () => {
  test('engines.node allows exactly the Node versions every locked package supports', () => {
    const needs = locked
      .filter(([, entry]) => entry.engines?.node !== undefined && entry.os === undefined && entry.cpu === undefined)
      .map(([key, entry]) => ({ key, range: entry.engines!.node! }));
    const mismatches = NODE_VERSIONS.flatMap((version) => {
      const promised = semver.satisfies(version, pkg.engines.node);
      const refusedBy = needs.filter(({ range }) => !semver.satisfies(version, range)).map(({ key, range }) => `${key} (${range})`);
      const supported = refusedBy.length === 0;
      if (promised === supported) return [];
      return [promised ? `${version} is promised but refused by ${refusedBy.join(', ')}` : `${version} works but is not promised`];
    });
    expect(mismatches).toEqual([]);
  });

  test('the lockfile keeps every platform’s optional packages, so it is the same on every machine', () => {
    const missing = locked.flatMap(([key, entry]) =>
      Object.keys(entry.optionalDependencies ?? {})
        .filter((name) => lock.packages[`node_modules/${name}`] === undefined && lock.packages[`${key}/node_modules/${name}`] === undefined)
        .map((name) => `${key} -> ${name}`),
    );
    expect(missing).toEqual([]);
    // The platforms a team works on are all there (not only the one that last ran npm install).
    const platforms = new Set(locked.flatMap(([, entry]) => entry.os ?? []));
    expect([...platforms]).toEqual(expect.arrayContaining(['linux', 'darwin', 'win32']));
  });
});
