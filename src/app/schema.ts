import 'reflect-metadata';
import { assertValidSchema, type GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { JobsResolver } from '../jobs/jobs.resolver';
import { JobFieldsResolver } from '../jobs/job-fields.resolver';
import { JobActionsResolver } from '../jobs/actions/job-actions.resolver';
import { BulkActionsResolver } from '../jobs/actions/bulk-actions.resolver';
import { JobMutationsResolver } from '../jobs/job-mutations.resolver';
import { PermissionsResolver } from '../permissions/permissions.resolver';
import { PermissionMutationsResolver } from '../permissions/permission-mutations.resolver';
import { DateTimeScalar } from '../graphql/scalars';
import { WorkerResolver } from '../workers/worker.resolver';
import { JobStatsResolver } from '../jobs/stats/job-stats.resolver';
import { SubscriptionsResolver } from '../realtime/subscriptions.resolver';
import { NotificationsResolver } from '../notifications/notifications.resolver';
import { AlertRulesResolver } from '../alerts/alert-rules.resolver';
import { JobAttemptsResolver } from '../jobs/history/job-attempts';
import { JobHistoryResolver } from '../jobs/history/job-history.resolver';
import { JobFacetsResolver } from '../jobs/facets/job-facets.resolver';

export const resolvers = [
  JobsResolver,
  JobFieldsResolver,
  JobMutationsResolver,
  JobActionsResolver,
  BulkActionsResolver,
  PermissionsResolver,
  PermissionMutationsResolver,
  WorkerResolver,
  JobStatsResolver,
  SubscriptionsResolver,
  NotificationsResolver,
  AlertRulesResolver,
  JobAttemptsResolver,
  JobHistoryResolver,
  JobFacetsResolver,
] as const;

let built: Promise<GraphQLSchema> | undefined;

/** The schema, built once per process from the resolver classes. */
export function jobwatchSchema(): Promise<GraphQLSchema> {
  built ??= buildSchema({
    // type-graphql's own check runs the whole introspection query over the schema (about 140 ms,
    // at every start and in every test file). graphql-js's schema validation below finds the same
    // build errors; default values that cannot be printed fail the committed-SDL test
    // (printSchema prints every one of them).
    skipCheck: true,
    resolvers,
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    validate: { forbidUnknownValues: false, validationError: { target: false, value: false } },
    // type-graphql requires a PubSub once there are subscriptions, but every subscription here
    // brings its own `subscribe` fed by Postgres (JobEventHub): topics are never used.
    pubSub: {
      publish: () => {
        throw new Error('topics are not used: subscriptions are fed by Postgres notifications (JobEventHub)');
      },
      subscribe: () => {
        throw new Error('topics are not used: subscriptions are fed by Postgres notifications (JobEventHub)');
      },
    },
  }).then((schema) => {
    assertValidSchema(schema);
    return schema;
  });
  return built;
}

/** The SDL committed in schema/schema.graphql: sorted, so diffs show what really changed. */
export async function printJobwatchSchema(): Promise<string> {
  const header = '# Generated from the code by `npm run schema`; a test fails when this file is stale. Do not edit.\n\n';
  return `${header}${printSchema(lexicographicSortSchema(await jobwatchSchema()))}\n`;
}
