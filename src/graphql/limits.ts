/**
 * The limits every operation meets before it runs, on HTTP and WebSocket alike. The README's
 * "Limits" section lists them; tests send documents just past each one.
 */
export const LIMITS = {
  /** Nesting of selections, fragments flattened. The deepest real query (job → timeline → nodes → data) is 5. */
  maxDepth: 12,
  /** Aliased fields per operation: enough for a dashboard, not for 1,000 copies of a mutation. */
  maxAliases: 15,
  /** Directives per operation. */
  maxDirectives: 20,
  /** Lexical tokens per document, checked while parsing: big documents never reach validation. */
  maxTokens: 1000,
  /**
   * Cost: each field counts once per item it may be resolved for. `first` multiplies its
   * subtree (a variable counts with its value), other lists of objects count 20 items.
   */
  maxCost: 25_000,
  defaultListSize: 20,
  /** JSON request bodies. */
  maxBodyBytes: 512 * 1024,
} as const;
