import { BadUserInputError } from '../errors';

/**
 * A lease names one attempt of one job: `<job id>.<token>`, the token being a random UUID
 * stored on the job when it was claimed and dropped when the attempt ends. Every worker call
 * after the claim presents it; only the current lease of a held job is honoured.
 */
export interface Lease {
  readonly jobId: string;
  readonly token: string;
}

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const LEASE = new RegExp(`^(${UUID})\\.(${UUID})$`, 'i');

export function formatLease(jobId: string, token: string): string {
  return `${jobId}.${token}`;
}

export function parseLease(lease: string, field = 'lease'): Lease {
  const match = LEASE.exec(lease);
  if (match === null) throw new BadUserInputError(`${field} is not a lease returned by claimJob`, field);
  return { jobId: (match[1] as string).toLowerCase(), token: (match[2] as string).toLowerCase() };
}
