/** The first GraphQL error's message (the server's own words, validation included), or the transport's. */
export const errorOf = (result: { error?: { graphQLErrors: ReadonlyArray<{ message: string }>; message: string } | undefined }) =>
  result.error === undefined ? undefined : (result.error.graphQLErrors[0]?.message ?? result.error.message);
