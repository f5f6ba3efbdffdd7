import { registerEnumType } from 'type-graphql';

export const TrapDecision = { RETRY: 'RETRY', SKIP: 'SKIP', ABORT: 'ABORT' } as const;
export type TrapDecision = (typeof TrapDecision)[keyof typeof TrapDecision];

registerEnumType(TrapDecision, {
  name: 'TrapDecision',
  description: 'What to do about a trapped error (Clarive).',
  valuesConfig: {
    RETRY: { description: 'Run the failed operation again; the job goes back to RUNNING.' },
    SKIP: { description: 'Go on past the failed operation; the job goes back to RUNNING.' },
    ABORT: { description: 'Give up: the job FAILS.' },
  },
});
