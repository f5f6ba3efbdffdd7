import { registerEnumType } from 'type-graphql';
import { graphqlEnum } from '../graphql/graphql-enum';
import { JobStatus, JobStep, JobTab, STATUS_DESCRIPTIONS, TAB_STATUSES } from './job-status';

registerEnumType(JobStatus, {
  name: 'JobStatus',
  description: 'Where a job is in its life (DOMAIN.md). Terminal: SUCCEEDED, FAILED, CANCELLED, REJECTED, EXPIRED, ABENDED.',
  valuesConfig: Object.fromEntries(Object.entries(STATUS_DESCRIPTIONS).map(([status, description]) => [status, { description }])),
});

registerEnumType(JobTab, {
  name: 'JobTab',
  description: 'The monitor tabs, each a fixed set of statuses.',
  valuesConfig: Object.fromEntries(Object.entries(TAB_STATUSES).map(([tab, statuses]) => [tab, { description: statuses.join(', ') }])),
});

registerEnumType(JobStep, {
  name: 'JobStep',
  description: 'The phase of a job: rerunning a step reruns every later step.',
  valuesConfig: {
    PRE: { description: 'Preparation that does not touch targets (build, tests).' },
    RUN: { description: 'The scheduled work; waits for scheduledAt.' },
    POST: { description: 'Always runs after PRE or RUN, on success or failure.' },
  },
});

export const JobOrderField = graphqlEnum('JobOrderField', 'What the job list is sorted by; ties are broken by id so paging is stable.', {
  CREATED_AT: 'Creation time.',
  STARTED_AT: 'Start time of the current attempt; jobs never started sort as the oldest.',
  FINISHED_AT: 'Finish time; unfinished jobs sort as the oldest.',
  NAME: 'Job name.',
});
export type JobOrderField = keyof typeof JobOrderField;

export const OrderDirection = graphqlEnum('OrderDirection', 'Sort direction.', { ASC: 'Ascending.', DESC: 'Descending.' });
export type OrderDirection = keyof typeof OrderDirection;

export const TaskStatus = graphqlEnum(
  'TaskStatus',
  "A task's state (the Delphix monitor's Waiting / Processing / Completed tabs, plus FAILED).",
  {
    WAITING: 'Not started.',
    PROCESSING: 'Being worked on.',
    COMPLETED: 'Done.',
    FAILED: 'Ended with an error.',
  },
);
export type TaskStatus = keyof typeof TaskStatus;
