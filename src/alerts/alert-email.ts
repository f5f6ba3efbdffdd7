/** A payload value as text: strings as they are, other JSON as JSON, nothing as nothing. */
function asText(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The email an alert delivery becomes: what happened, to which job, its error, and its link. */
export function alertEmail(event: string, payload: Readonly<Record<string, unknown>>): { subject: string; text: string } {
  const job = (payload['job'] ?? {}) as Record<string, unknown>;
  const rule = (payload['rule'] ?? {}) as Record<string, unknown>;
  const rawError: unknown = job['error'];
  const error = typeof rawError === 'object' && rawError !== null ? (rawError as { message?: unknown; stack?: unknown }) : null;
  const line = (label: string, value: unknown) =>
    value === null || value === undefined || value === '' ? [] : [`${label}: ${asText(value)}`];
  // One line: a job name cannot add headers (nodemailer encodes, but a subject stays one line).
  const subject = `[Jobwatch] ${event}: ${asText(job['name'] ?? job['id'] ?? 'a job').replace(/[\r\n]+/g, ' ')}`.slice(0, 250);
  const text = [
    `${event}: ${asText(job['name'])}`,
    '',
    ...line('Job', job['url'] ?? job['id']),
    ...line('Type', job['type']),
    ...line('Scope', job['scope']),
    ...line('Owner', job['owner']),
    ...line('Status', job['status']),
    ...line('Step', job['step']),
    ...line('Attempt', job['attempt']),
    ...line('By', payload['actor']),
    ...line('Message', payload['message'] ?? job['message']),
    ...(error === null
      ? []
      : ['', `Error: ${asText(error.message)}`, ...(typeof error.stack === 'string' ? [error.stack.slice(0, 4000)] : [])]),
    '',
    `Sent by the alert rule "${asText(rule['name'])}" (${asText(rule['id'])}).`,
  ];
  return { subject, text: text.join('\n') };
}
