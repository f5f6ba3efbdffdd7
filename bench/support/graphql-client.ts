/** GraphQL over HTTP as the benches' workers speak it: one POST, errors thrown, claims in batches. */

/** Posts one operation; answers its data, or throws its errors (the first 500 characters). */
export async function postGraphql<T>(url: string, authorization: string, query: string, variables: Record<string, unknown>): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown[] };
  if (body.errors !== undefined) throw new Error(JSON.stringify(body.errors).slice(0, 500));
  return body.data as T;
}

export interface Claim {
  readonly lease: string;
  readonly jobId: string;
}

/** Claims up to `count` jobs of `type` through the API, 20 at a time, as workers would; stops when none is left. */
export async function claimJobs(url: string, authorization: string, count: number, workerId: string, type: string): Promise<Claim[]> {
  const claims: Claim[] = [];
  while (claims.length < count) {
    const answers = await Promise.all(
      Array.from({ length: Math.min(20, count - claims.length) }, () =>
        postGraphql<{ claimJob: { lease: string; job: { id: string } } | null }>(
          url,
          authorization,
          `mutation { claimJob(workerId: "${workerId}", types: ["${type}"]) { lease job { id } } }`,
          {},
        ),
      ),
    );
    const got = answers.flatMap((data) => (data.claimJob === null ? [] : [data.claimJob]));
    if (got.length === 0) break;
    for (const claim of got) claims.push({ lease: claim.lease, jobId: claim.job.id });
  }
  return claims;
}
