/** A minimal GraphQL-over-HTTP client for workers: no dependency beyond `fetch`. */

export class JobwatchError extends Error {
  override readonly name = 'JobwatchError';
  constructor(
    message: string,
    readonly code: string,
    readonly extensions: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }

  /** The lease named an attempt that has ended: stop working on it, report nothing more. */
  get leaseLost(): boolean {
    return this.code === 'CONFLICT' && this.extensions['reason'] === 'LEASE_LOST';
  }
}

export interface ClientOptions {
  readonly url: string;
  /** A bearer token, or a function returning a fresh one (called for every request). */
  readonly token: string | (() => string | Promise<string>);
  readonly fetch?: typeof fetch;
  /** Per-request timeout. */
  readonly timeoutMs?: number;
}

export class GraphQLClient {
  constructor(private readonly options: ClientOptions) {}

  async request<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const token = typeof this.options.token === 'function' ? await this.options.token() : this.options.token;
    const response = await (this.options.fetch ?? fetch)(this.options.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
    });
    let body: { data?: T; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
    try {
      body = (await response.json()) as typeof body;
    } catch {
      throw new JobwatchError(`HTTP ${response.status} without a GraphQL answer`, response.status >= 500 ? 'UNAVAILABLE' : 'BAD_RESPONSE');
    }
    const error = body.errors?.[0];
    if (error !== undefined) {
      throw new JobwatchError(
        error.message,
        String((error.extensions?.['code'] as string | undefined) ?? 'UNKNOWN'),
        error.extensions ?? {},
      );
    }
    if (body.data === undefined) throw new JobwatchError(`HTTP ${response.status} without data`, 'BAD_RESPONSE');
    return body.data;
  }
}
