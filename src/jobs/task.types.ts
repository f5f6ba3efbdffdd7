import { Field, Float, Int, ObjectType } from 'type-graphql';
import { DateTimeScalar } from '../graphql/scalars';
import { TaskStatus } from './job.enums';

@ObjectType({ simpleResolvers: true, description: 'A part of a job with its own progress: a table, a file, a mailbox folder.' })
export class Task {
  @Field(() => String, { description: 'The task name, unique within its job.' })
  name!: string;

  @Field(() => Int, { description: 'Its place in the job, for display order.' })
  position!: number;

  @Field(() => TaskStatus, { description: 'WAITING, PROCESSING, COMPLETED or FAILED.' })
  status!: TaskStatus;

  @Field(() => Float, { description: 'Units done.' })
  done!: number;

  @Field(() => Float, { nullable: true, description: 'Units in all; null while unknown.' })
  total!: number | null;

  @Field(() => Float, { nullable: true, description: 'Units left (total - done); null while the total is unknown.' })
  remaining!: number | null;

  @Field(() => String, { nullable: true, description: 'What is counted ("rows", "messages").' })
  unit!: string | null;

  @Field(() => Float, { nullable: true, description: 'Percentage 0-100; null while the total is unknown.' })
  percent!: number | null;

  @Field(() => Float, { nullable: true, description: 'Units per minute.' })
  ratePerMinute!: number | null;

  @Field(() => String, { nullable: true, description: 'The last status line of the task.' })
  message!: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When the task started processing.' })
  startedAt!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When it completed or failed.' })
  finishedAt!: Date | null;

  @Field(() => DateTimeScalar, { description: 'When it last changed.' })
  updatedAt!: Date;
}

@ObjectType({ simpleResolvers: true, description: "How many of a job's tasks are in each state (the job page's tabs)." })
export class TaskCounts {
  @Field(() => Int, { description: 'Tasks not started.' })
  waiting!: number;

  @Field(() => Int, { description: 'Tasks being processed.' })
  processing!: number;

  @Field(() => Int, { description: 'Tasks done.' })
  completed!: number;

  @Field(() => Int, { description: 'Tasks that failed.' })
  failed!: number;

  @Field(() => Int, { description: 'All tasks.' })
  total!: number;
}

export interface TaskRow {
  job_id: string;
  name: string;
  position: number;
  status: TaskStatus;
  done: number;
  total: number | null;
  unit: string | null;
  rate_per_minute: number | null;
  message: string | null;
  started_at: Date | null;
  finished_at: Date | null;
  updated_at: Date;
}

export function toTask(row: TaskRow): Task {
  return {
    name: row.name,
    position: row.position,
    status: row.status,
    done: row.done,
    total: row.total,
    remaining: row.total === null ? null : Math.max(0, row.total - row.done),
    unit: row.unit,
    percent: row.total === null ? null : row.total === 0 ? 100 : Math.min(100, (row.done / row.total) * 100),
    ratePerMinute: row.rate_per_minute,
    message: row.message,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    updatedAt: row.updated_at,
  };
}

export function countTasks(tasks: readonly Task[]): TaskCounts {
  const counts: TaskCounts = { waiting: 0, processing: 0, completed: 0, failed: 0, total: tasks.length };
  for (const task of tasks) {
    if (task.status === 'WAITING') counts.waiting += 1;
    else if (task.status === 'PROCESSING') counts.processing += 1;
    else if (task.status === 'COMPLETED') counts.completed += 1;
    else counts.failed += 1;
  }
  return counts;
}
