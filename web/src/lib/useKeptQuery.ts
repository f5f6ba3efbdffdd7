import { useState } from 'react';
import { useQuery, type AnyVariables, type UseQueryArgs, type UseQueryResponse } from 'urql';

/**
 * urql's useQuery, except that a refetch failing (a network blip, a server restarting) keeps the
 * data read before it, beside the error. urql's own result drops the data on an error, so a view
 * that had its answer would turn into an error page for the length of a blip; a monitor keeps
 * showing what it last knew (the connection banner says it may be behind). Only the same
 * operation's data is kept: other variables are another question.
 */
export function useKeptQuery<Data, Variables extends AnyVariables = AnyVariables>(
  args: UseQueryArgs<Variables, Data>,
): UseQueryResponse<Data, Variables> {
  const [result, execute] = useQuery<Data, Variables>(args);
  const key = result.operation?.key;
  const [kept, setKept] = useState<{ readonly key: number | undefined; readonly data: Data }>();
  if (result.data !== undefined && (kept?.data !== result.data || kept.key !== key)) setKept({ key, data: result.data });
  if (result.data === undefined && result.error !== undefined && kept !== undefined && kept.key === key) {
    return [{ ...result, data: kept.data, stale: true }, execute];
  }
  return [result, execute];
}
