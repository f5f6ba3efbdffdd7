import type { DocumentNode } from 'graphql';

/** Documents longer than this are parsed each time: a cache of large one-off documents would only hold memory. */
const MAX_CACHED_LENGTH = 16 * 1024;

/**
 * Parsed and validated documents by their text, least recently used first out (what Apollo's
 * document store does for HTTP, for the WebSocket path). Thousands of subscribers of one
 * monitor page send the same few documents: each is parsed and validated once, and every
 * subscription holds the same syntax tree instead of its own copy of several kilobytes.
 * Only documents that passed validation are kept, so refused input never fills it. Validation
 * depends on the schema and the document alone; what depends on variables (cost, rate limits,
 * variable coercion) is still checked for every operation.
 */
export class DocumentCache {
  private readonly entries = new Map<string, DocumentNode>();

  constructor(private readonly maxEntries = 1_000) {}

  /** The cached document of `source`, or the one `prepare` makes (cached when it is a document). */
  get<E>(source: string, prepare: () => DocumentNode | E): DocumentNode | E {
    const cached = this.entries.get(source);
    if (cached !== undefined) {
      this.entries.delete(source);
      this.entries.set(source, cached);
      return cached;
    }
    const prepared = prepare();
    if (isDocument(prepared) && source.length <= MAX_CACHED_LENGTH) {
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
      this.entries.set(source, prepared);
    }
    return prepared;
  }

  get size(): number {
    return this.entries.size;
  }
}

function isDocument(value: unknown): value is DocumentNode {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'Document';
}
