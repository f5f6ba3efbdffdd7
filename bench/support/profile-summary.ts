/**
 * A summary of a V8 .cpuprofile (node --cpu-prof): CPU time by area (the app's folders, each
 * npm package, node's internals, GC, idle), the functions with the most self time, and the
 * functions with the most inclusive time (recursion counted once).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

function area(url: string, name: string): string {
  if (url === '') return name.startsWith('(') ? name : '(native)';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules !== null) return modules[1] as string;
  if (url.startsWith('node:')) return 'node internals';
  const app = /\/dist\/(src\/[^/]+|bench)\//.exec(url);
  if (app !== null) return `app ${app[1] as string}`;
  return url;
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url
    .replace(/^.*node_modules\//, '')
    .replace(/^.*\/dist\//, '')
    .replace(/^file:\/\//, '');
  return `${functionName || '(anonymous)'} ${file === '' ? '' : `${file}:${lineNumber + 1}`}`.trim();
}

export function summariseProfile(file: string, top = 25): string[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  let total = 0;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    self.set(id, (self.get(id) ?? 0) + delta);
    total += delta;
  });
  const idle = [...self].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)').reduce((sum, [, us]) => sum + us, 0);
  const busy = total - idle;
  const lines: string[] = [];
  const share = (us: number) => `${((us / busy) * 100).toFixed(1).padStart(5)} %  ${(us / 1e6).toFixed(2).padStart(7)} s`;
  lines.push(`profiled ${(total / 1e6).toFixed(1)} s, of which busy ${(busy / 1e6).toFixed(1)} s; shares below are of the busy time`);

  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, us] of self) {
    const node = byId.get(id);
    if (node === undefined || node.callFrame.functionName === '(idle)') continue;
    const key = area(node.callFrame.url, node.callFrame.functionName);
    areas.set(key, (areas.get(key) ?? 0) + us);
    const name = label(node);
    functions.set(name, (functions.get(name) ?? 0) + us);
  }
  lines.push('', 'self time by area:');
  for (const [key, us] of [...areas].sort((a, b) => b[1] - a[1]).slice(0, 20)) lines.push(`  ${share(us)}  ${key}`);
  lines.push('', `top ${top} functions by self time:`);
  for (const [key, us] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${share(us)}  ${key}`);

  // Inclusive time: each node's self plus its subtree's, counted once per function along a path.
  const inclusive = new Map<string, number>();
  const root = profile.nodes[0];
  const walk = (node: ProfileNode, onPath: Set<string>): number => {
    let sum = self.get(node.id) ?? 0;
    const name = label(node);
    const fresh = !onPath.has(name);
    if (fresh) onPath.add(name);
    for (const child of node.children ?? []) {
      const childNode = byId.get(child);
      if (childNode !== undefined) sum += walk(childNode, onPath);
    }
    if (fresh) {
      onPath.delete(name);
      if (node.callFrame.functionName !== '(idle)' && node.callFrame.functionName !== '(root)')
        inclusive.set(name, (inclusive.get(name) ?? 0) + sum);
    }
    return sum;
  };
  if (root !== undefined) walk(root, new Set());
  lines.push('', `top ${top} functions by inclusive time:`);
  for (const [key, us] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${share(us)}  ${key}`);
  return lines;
}

if (require.main === module) {
  const file = process.argv[2];
  if (file === undefined) {
    process.stderr.write('usage: node dist/bench/support/profile-summary.js <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  for (const line of summariseProfile(file, Number(process.argv[3] ?? 25))) process.stdout.write(`${line}\n`);
}
