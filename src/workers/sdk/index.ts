export { JobwatchWorker, JobAbortedError } from './worker';
export type { ClaimedJob, JobContext, JobStep, ProgressUpdate, TaskStatus, TaskUpdate, TrapDecision, WorkerOptions } from './worker';
export { GraphQLClient, JobwatchError } from './graphql-client';
