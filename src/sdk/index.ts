export { JobwatchWorker } from './worker';
export { JobAbortedError, type ClaimedJob, type JobContext, type WorkerOptions } from './worker.types';
export type { JobStep, ProgressUpdate, TaskStatus, TaskUpdate, TrapDecision } from './types';
export { GraphQLClient, JobwatchError } from './graphql-client';
