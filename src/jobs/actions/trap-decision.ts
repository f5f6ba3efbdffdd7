import { graphqlEnum } from '../../graphql/graphql-enum';

export const TrapDecision = graphqlEnum('TrapDecision', 'What to do about a trapped error (Clarive).', {
  RETRY: 'Run the failed operation again; the job goes back to RUNNING.',
  SKIP: 'Go on past the failed operation; the job goes back to RUNNING.',
  ABORT: 'Give up: the job FAILS.',
});
export type TrapDecision = keyof typeof TrapDecision;
