import type { GraphQLField } from 'graphql';

/**
 * The extension that marks a field whose answer depends on who asks beyond their rules (their
 * user id): `@Extensions(VIEWER_SPECIFIC)`. Subscription events are resolved once for every
 * subscriber with the same rules (src/realtime/shared-execution.ts) unless the document asks
 * such a field; a field that reads `ctx.principal` and is not marked would hand one viewer's
 * answer to another.
 */
export const VIEWER_SPECIFIC = { viewerSpecific: true } as const;

export function isViewerSpecific(field: GraphQLField<unknown, unknown> | null | undefined): boolean {
  return field?.extensions?.['viewerSpecific'] === true;
}
