import { registerEnumType } from 'type-graphql';
import { JobStatus, JobStep, JobTab, STATUS_DESCRIPTIONS, TAB_STATUSES } from './job-status';

registerEnumType(JobStatus, {
  name: 'JobStatus',
  description: 'Where a job is in its life (DOMAIN.md). Terminal: SUCCEEDED, FAILED, CANCELLED, REJECTED, EXPIRED, ABENDED.',
  valuesConfig: Object.fromEntries(
    Object.entries(STATUS_DESCRIPTIONS).map(([status, description]) => [status, { description }]),
  ) as Record<JobStatus, { description: string }>,
});

registerEnumType(JobTab, {
  name: 'JobTab',
  description: 'The monitor tabs, each a fixed set of statuses.',
  valuesConfig: Object.fromEntries(
    Object.entries(TAB_STATUSES).map(([tab, statuses]) => [tab, { description: statuses.join(', ') }]),
  ) as Record<JobTab, { description: string }>,
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

export const JobOrderField = {
  CREATED_AT: 'CREATED_AT',
  STARTED_AT: 'STARTED_AT',
  FINISHED_AT: 'FINISHED_AT',
  NAME: 'NAME',
} as const;
export type JobOrderField = (typeof JobOrderField)[keyof typeof JobOrderField];

registerEnumType(JobOrderField, {
  name: 'JobOrderField',
  description: 'What the job list is sorted by; ties are broken by id so paging is stable.',
  valuesConfig: {
    CREATED_AT: { description: 'Creation time.' },
    STARTED_AT: { description: 'Start time of the current attempt; jobs never started sort as the oldest.' },
    FINISHED_AT: { description: 'Finish time; unfinished jobs sort as the oldest.' },
    NAME: { description: 'Job name.' },
  },
});

export const OrderDirection = { ASC: 'ASC', DESC: 'DESC' } as const;
export type OrderDirection = (typeof OrderDirection)[keyof typeof OrderDirection];

registerEnumType(OrderDirection, {
  name: 'OrderDirection',
  description: 'Sort direction.',
  valuesConfig: { ASC: { description: 'Ascending.' }, DESC: { description: 'Descending.' } },
});

export const TaskStatus = { WAITING: 'WAITING', PROCESSING: 'PROCESSING', COMPLETED: 'COMPLETED', FAILED: 'FAILED' } as const;
export type TaskStatus = (typeof TaskStatus)[keyof typeof TaskStatus];

registerEnumType(TaskStatus, {
  name: 'TaskStatus',
  description: "A task's state (the Delphix monitor's Waiting / Processing / Completed tabs, plus FAILED).",
  valuesConfig: {
    WAITING: { description: 'Not started.' },
    PROCESSING: { description: 'Being worked on.' },
    COMPLETED: { description: 'Done.' },
    FAILED: { description: 'Ended with an error.' },
  },
});
