/** What every demo handler shares: its signature, and reading the job's config and asked outcome. */
import type { ClaimedJob, JobContext } from '../../../src/sdk';
import type { Simulate } from '../job-types';
import { chance } from '../util';

export type Handler = (job: ClaimedJob, ctx: JobContext) => Promise<string | void>;

export const SIMULATIONS: readonly Simulate[] = ['success', 'failure', 'trap', 'crash'];

/**
 * The outcome the feeder asked for in `config.simulate`, or a random one for jobs created by
 * hand. A rerun (attempt 2 and later) behaves: the cause was "fixed" before retrying.
 */
export function simulationOf(job: ClaimedJob, randomly: { failure?: number; crash?: number } = {}): Simulate {
  if (job.attempt > 1) return 'success';
  const asked = job.config['simulate'];
  if (typeof asked === 'string' && (SIMULATIONS as readonly string[]).includes(asked)) return asked as Simulate;
  if (chance(randomly.crash ?? 0)) return 'crash';
  return chance(randomly.failure ?? 0) ? 'failure' : 'success';
}

export function text(config: Record<string, unknown>, key: string, fallback: string): string {
  const value = config[key];
  return typeof value === 'string' && value.trim() !== '' ? value : fallback;
}

export function strings(config: Record<string, unknown>, key: string, fallback: readonly string[]): string[] {
  const value = config[key];
  const list = Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string' && item !== '') : [];
  return list.length > 0 ? list : [...fallback];
}
