/**
 * The console's page for a job: `PUBLIC_URL` + `/jobs/<id>`, the one link the API, webhooks,
 * emails and notifications all give. Null when PUBLIC_URL is not set (no link is better than
 * a guessed one).
 */
export function jobUrl(publicUrl: string | undefined, jobId: string): string | null {
  return publicUrl === undefined ? null : `${publicUrl}/jobs/${encodeURIComponent(jobId)}`;
}
