/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query Me {\n    me {\n      id\n      name\n      actions\n      rules\n    }\n  }\n": typeof types.MeDocument,
    "\n  fragment JobRow on Job {\n    id\n    name\n    type\n    asset\n    scope\n    status\n    step\n    message\n    owner\n    ownerName\n    createdAt\n    startedAt\n    finishedAt\n    duration\n    slowerThanUsual\n    terminal\n    progress {\n      percent\n      indeterminate\n      done\n      total\n      unit\n      ratePerMinute\n      etaSeconds\n      phase\n      updatedAt\n    }\n    viewerCan {\n      cancel\n      restart\n      delete\n      approve\n      reject\n      reschedule\n      resolveTrap\n      pauseTrap\n      start\n    }\n  }\n": typeof types.JobRowFragmentDoc,
    "\n  query JobsPage($filter: JobFilter, $first: Int, $after: String) {\n    jobs(filter: $filter, first: $first, after: $after) {\n      nodes {\n        ...JobRow\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": typeof types.JobsPageDocument,
    "\n  subscription JobsLive($filter: JobFilter, $snapshot: Int) {\n    jobUpdated(filter: $filter, snapshot: $snapshot) {\n      ...JobRow\n      removed\n    }\n  }\n": typeof types.JobsLiveDocument,
    "\n  query UnreadNotifications {\n    notifications(first: 0, unreadOnly: true) {\n      unreadCount\n    }\n  }\n": typeof types.UnreadNotificationsDocument,
    "\n  subscription NotificationArrivals {\n    notifications {\n      ...NotificationRow\n    }\n  }\n": typeof types.NotificationArrivalsDocument,
    "\n  fragment NotificationRow on Notification {\n    id\n    kind\n    jobId\n    jobName\n    actor\n    message\n    createdAt\n    readAt\n  }\n": typeof types.NotificationRowFragmentDoc,
    "\n  query NotificationsPage($after: String) {\n    notifications(first: 50, after: $after) {\n      nodes {\n        ...NotificationRow\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      unreadCount\n    }\n  }\n": typeof types.NotificationsPageDocument,
    "\n  mutation MarkNotificationsRead($ids: [ID!], $all: Boolean) {\n    markNotificationsRead(ids: $ids, all: $all)\n  }\n": typeof types.MarkNotificationsReadDocument,
    "\n  query AdminAlertRules {\n    alertRules {\n      id\n      name\n      webhookUrl\n      email\n      events\n      enabled\n      createdAt\n    }\n  }\n": typeof types.AdminAlertRulesDocument,
    "\n  mutation AdminCreateAlertRule($input: AlertRuleInput!) {\n    createAlertRule(input: $input) {\n      secret\n      rule {\n        id\n        name\n      }\n    }\n  }\n": typeof types.AdminCreateAlertRuleDocument,
    "\n  mutation AdminDeleteAlertRule($id: ID!) {\n    deleteAlertRule(id: $id)\n  }\n": typeof types.AdminDeleteAlertRuleDocument,
    "\n  query AdminAlertDeliveries($ruleId: ID!) {\n    alertDeliveries(ruleId: $ruleId, first: 50) {\n      id\n      event\n      jobId\n      status\n      attempts\n      lastStatusCode\n      lastError\n      createdAt\n      deliveredAt\n    }\n  }\n": typeof types.AdminAlertDeliveriesDocument,
    "\n  query AdminGrants($userId: String) {\n    grants(userId: $userId) {\n      id\n      userId\n      role\n      scope\n      grantedBy\n      createdAt\n    }\n  }\n": typeof types.AdminGrantsDocument,
    "\n  mutation AdminGrantRole($userId: String!, $role: String!, $scope: String) {\n    grantRole(userId: $userId, role: $role, scope: $scope) {\n      id\n    }\n  }\n": typeof types.AdminGrantRoleDocument,
    "\n  mutation AdminRevokeGrant($id: ID!) {\n    revokeGrant(id: $id)\n  }\n": typeof types.AdminRevokeGrantDocument,
    "\n  query AdminRoles {\n    roles {\n      name\n      description\n      builtIn\n      rules\n      updatedAt\n    }\n  }\n": typeof types.AdminRolesDocument,
    "\n  mutation AdminCreateRole($input: RoleInput!) {\n    createRole(input: $input) {\n      name\n    }\n  }\n": typeof types.AdminCreateRoleDocument,
    "\n  mutation AdminUpdateRole($name: String!, $input: RoleInput!) {\n    updateRole(name: $name, input: $input) {\n      name\n    }\n  }\n": typeof types.AdminUpdateRoleDocument,
    "\n  mutation AdminDeleteRole($name: String!) {\n    deleteRole(name: $name)\n  }\n": typeof types.AdminDeleteRoleDocument,
    "\n  query JobAttempts($id: ID!) {\n    job(id: $id) {\n      id\n      attempts {\n        attempt\n        status\n        step\n        workerId\n        startedAt\n        finishedAt\n        duration\n        error {\n          message\n          stack\n        }\n      }\n    }\n  }\n": typeof types.JobAttemptsDocument,
    "\n    mutation JobCancel($id: ID!, $reason: String) {\n      cancelJob(id: $id, reason: $reason) {\n        ...JobDetail\n      }\n    }\n  ": typeof types.JobCancelDocument,
    "\n    mutation JobRestart($id: ID!, $step: JobStep, $runNow: Boolean) {\n      restartJob(id: $id, step: $step, runNow: $runNow) {\n        ...JobDetail\n      }\n    }\n  ": typeof types.JobRestartDocument,
    "\n    mutation JobApprove($id: ID!, $comment: String) {\n      approveJob(id: $id, comment: $comment) {\n        ...JobDetail\n      }\n    }\n  ": typeof types.JobApproveDocument,
    "\n    mutation JobReject($id: ID!, $comment: String) {\n      rejectJob(id: $id, comment: $comment) {\n        ...JobDetail\n      }\n    }\n  ": typeof types.JobRejectDocument,
    "\n    mutation JobReschedule($id: ID!, $scheduledAt: DateTime!, $maxStartAt: DateTime) {\n      rescheduleJob(id: $id, scheduledAt: $scheduledAt, maxStartAt: $maxStartAt) {\n        ...JobDetail\n      }\n    }\n  ": typeof types.JobRescheduleDocument,
    "\n    mutation JobResolveTrap($id: ID!, $decision: TrapDecision!) {\n      resolveTrap(id: $id, decision: $decision) {\n        ...JobDetail\n      }\n    }\n  ": typeof types.JobResolveTrapDocument,
    "\n    mutation JobPauseTrap($id: ID!) {\n      pauseTrap(id: $id) {\n        ...JobDetail\n      }\n    }\n  ": typeof types.JobPauseTrapDocument,
    "\n    mutation JobDelete($id: ID!) {\n      deleteJob(id: $id)\n    }\n  ": typeof types.JobDeleteDocument,
    "\n  fragment JobDetail on Job {\n    ...JobRow\n    config\n    attributes\n    hasSecrets\n    attempt\n    workerId\n    approvers\n    requiresApproval\n    scheduledAt\n    maxStartAt\n    heartbeatAt\n    updatedAt\n    previousRunDuration\n    cancelRequestedAt\n    cancelRequestedBy\n    trapExpiresAt\n    error {\n      message\n      stack\n    }\n    taskCounts {\n      total\n      completed\n      processing\n      waiting\n      failed\n    }\n  }\n": typeof types.JobDetailFragmentDoc,
    "\n  query JobPage($id: ID!) {\n    job(id: $id) {\n      ...JobDetail\n      timeline(first: 100) {\n        nodes {\n          ...TimelineRow\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": typeof types.JobPageDocument,
    "\n  subscription JobLive($id: ID!) {\n    jobProgress(id: $id) {\n      ...JobDetail\n    }\n  }\n": typeof types.JobLiveDocument,
    "\n  query JobTasks($id: ID!, $status: TaskStatus) {\n    job(id: $id) {\n      id\n      tasks(status: $status) {\n        position\n        name\n        status\n        done\n        total\n        remaining\n        unit\n        percent\n        ratePerMinute\n        startedAt\n        finishedAt\n        message\n      }\n    }\n  }\n": typeof types.JobTasksDocument,
    "\n  fragment TimelineRow on TimelineEvent {\n    id\n    at\n    kind\n    actor\n    actorKind\n    fromStatus\n    toStatus\n    step\n    attempt\n    message\n    data\n  }\n": typeof types.TimelineRowFragmentDoc,
    "\n  query JobTimelineMore($id: ID!, $after: String) {\n    job(id: $id) {\n      id\n      timeline(first: 100, after: $after) {\n        nodes {\n          ...TimelineRow\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": typeof types.JobTimelineMoreDocument,
    "\n  subscription JobTimelineLive($id: ID!, $after: ID) {\n    jobTimeline(id: $id, after: $after) {\n      ...TimelineRow\n    }\n  }\n": typeof types.JobTimelineLiveDocument,
    "\n  fragment BulkResultFields on BulkActionResult {\n    matched\n    changed\n    skippedCount\n    dryRun\n    skipped {\n      id\n      name\n      code\n      reason\n    }\n  }\n": typeof types.BulkResultFieldsFragmentDoc,
    "\n  mutation CancelJobs($filter: JobFilter, $dryRun: Boolean, $reason: String) {\n    cancelJobs(filter: $filter, dryRun: $dryRun, reason: $reason) {\n      ...BulkResultFields\n    }\n  }\n": typeof types.CancelJobsDocument,
    "\n  mutation RestartJobs($filter: JobFilter, $dryRun: Boolean, $runNow: Boolean) {\n    restartJobs(filter: $filter, dryRun: $dryRun, runNow: $runNow) {\n      ...BulkResultFields\n    }\n  }\n": typeof types.RestartJobsDocument,
    "\n  mutation DeleteJobs($filter: JobFilter, $dryRun: Boolean) {\n    deleteJobs(filter: $filter, dryRun: $dryRun) {\n      ...BulkResultFields\n    }\n  }\n": typeof types.DeleteJobsDocument,
    "\n  query JobFacets($types: JobFilter, $owners: JobFilter, $scopes: JobFilter, $statuses: JobFilter) {\n    forTypes: jobFacets(filter: $types) {\n      types {\n        value\n        count\n      }\n    }\n    forOwners: jobFacets(filter: $owners) {\n      owners {\n        value\n        count\n      }\n    }\n    forScopes: jobFacets(filter: $scopes) {\n      scopes {\n        value\n        count\n      }\n    }\n    forStatuses: jobFacets(filter: $statuses) {\n      statuses {\n        value\n        count\n      }\n    }\n  }\n": typeof types.JobFacetsDocument,
    "\n  query JobFacetsAtOnce($filter: JobFilter) {\n    jobFacets(filter: $filter) {\n      types {\n        value\n        count\n      }\n      owners {\n        value\n        count\n      }\n      scopes {\n        value\n        count\n      }\n      statuses {\n        value\n        count\n      }\n    }\n  }\n": typeof types.JobFacetsAtOnceDocument,
    "\n  mutation CancelJob($id: ID!, $reason: String) {\n    cancelJob(id: $id, reason: $reason) {\n      ...JobRow\n    }\n  }\n": typeof types.CancelJobDocument,
    "\n  query JobCounts($filter: JobFilter) {\n    jobCounts(filter: $filter) {\n      status\n      count\n    }\n  }\n": typeof types.JobCountsDocument,
    "\n  query TypeStats($type: String!) {\n    jobTypeStats(type: $type) {\n      type\n      count\n      succeeded\n      failed\n      successRate\n      p50Duration\n      p95Duration\n    }\n  }\n": typeof types.TypeStatsDocument,
    "\n  query TypeTrend($type: String!, $bucket: TrendBucket!, $from: DateTime!) {\n    jobTypeTrend(type: $type, bucket: $bucket, from: $from) {\n      start\n      runs\n      succeeded\n      failed\n      p50Seconds\n      p95Seconds\n    }\n  }\n": typeof types.TypeTrendDocument,
};
const documents: Documents = {
    "\n  query Me {\n    me {\n      id\n      name\n      actions\n      rules\n    }\n  }\n": types.MeDocument,
    "\n  fragment JobRow on Job {\n    id\n    name\n    type\n    asset\n    scope\n    status\n    step\n    message\n    owner\n    ownerName\n    createdAt\n    startedAt\n    finishedAt\n    duration\n    slowerThanUsual\n    terminal\n    progress {\n      percent\n      indeterminate\n      done\n      total\n      unit\n      ratePerMinute\n      etaSeconds\n      phase\n      updatedAt\n    }\n    viewerCan {\n      cancel\n      restart\n      delete\n      approve\n      reject\n      reschedule\n      resolveTrap\n      pauseTrap\n      start\n    }\n  }\n": types.JobRowFragmentDoc,
    "\n  query JobsPage($filter: JobFilter, $first: Int, $after: String) {\n    jobs(filter: $filter, first: $first, after: $after) {\n      nodes {\n        ...JobRow\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": types.JobsPageDocument,
    "\n  subscription JobsLive($filter: JobFilter, $snapshot: Int) {\n    jobUpdated(filter: $filter, snapshot: $snapshot) {\n      ...JobRow\n      removed\n    }\n  }\n": types.JobsLiveDocument,
    "\n  query UnreadNotifications {\n    notifications(first: 0, unreadOnly: true) {\n      unreadCount\n    }\n  }\n": types.UnreadNotificationsDocument,
    "\n  subscription NotificationArrivals {\n    notifications {\n      ...NotificationRow\n    }\n  }\n": types.NotificationArrivalsDocument,
    "\n  fragment NotificationRow on Notification {\n    id\n    kind\n    jobId\n    jobName\n    actor\n    message\n    createdAt\n    readAt\n  }\n": types.NotificationRowFragmentDoc,
    "\n  query NotificationsPage($after: String) {\n    notifications(first: 50, after: $after) {\n      nodes {\n        ...NotificationRow\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      unreadCount\n    }\n  }\n": types.NotificationsPageDocument,
    "\n  mutation MarkNotificationsRead($ids: [ID!], $all: Boolean) {\n    markNotificationsRead(ids: $ids, all: $all)\n  }\n": types.MarkNotificationsReadDocument,
    "\n  query AdminAlertRules {\n    alertRules {\n      id\n      name\n      webhookUrl\n      email\n      events\n      enabled\n      createdAt\n    }\n  }\n": types.AdminAlertRulesDocument,
    "\n  mutation AdminCreateAlertRule($input: AlertRuleInput!) {\n    createAlertRule(input: $input) {\n      secret\n      rule {\n        id\n        name\n      }\n    }\n  }\n": types.AdminCreateAlertRuleDocument,
    "\n  mutation AdminDeleteAlertRule($id: ID!) {\n    deleteAlertRule(id: $id)\n  }\n": types.AdminDeleteAlertRuleDocument,
    "\n  query AdminAlertDeliveries($ruleId: ID!) {\n    alertDeliveries(ruleId: $ruleId, first: 50) {\n      id\n      event\n      jobId\n      status\n      attempts\n      lastStatusCode\n      lastError\n      createdAt\n      deliveredAt\n    }\n  }\n": types.AdminAlertDeliveriesDocument,
    "\n  query AdminGrants($userId: String) {\n    grants(userId: $userId) {\n      id\n      userId\n      role\n      scope\n      grantedBy\n      createdAt\n    }\n  }\n": types.AdminGrantsDocument,
    "\n  mutation AdminGrantRole($userId: String!, $role: String!, $scope: String) {\n    grantRole(userId: $userId, role: $role, scope: $scope) {\n      id\n    }\n  }\n": types.AdminGrantRoleDocument,
    "\n  mutation AdminRevokeGrant($id: ID!) {\n    revokeGrant(id: $id)\n  }\n": types.AdminRevokeGrantDocument,
    "\n  query AdminRoles {\n    roles {\n      name\n      description\n      builtIn\n      rules\n      updatedAt\n    }\n  }\n": types.AdminRolesDocument,
    "\n  mutation AdminCreateRole($input: RoleInput!) {\n    createRole(input: $input) {\n      name\n    }\n  }\n": types.AdminCreateRoleDocument,
    "\n  mutation AdminUpdateRole($name: String!, $input: RoleInput!) {\n    updateRole(name: $name, input: $input) {\n      name\n    }\n  }\n": types.AdminUpdateRoleDocument,
    "\n  mutation AdminDeleteRole($name: String!) {\n    deleteRole(name: $name)\n  }\n": types.AdminDeleteRoleDocument,
    "\n  query JobAttempts($id: ID!) {\n    job(id: $id) {\n      id\n      attempts {\n        attempt\n        status\n        step\n        workerId\n        startedAt\n        finishedAt\n        duration\n        error {\n          message\n          stack\n        }\n      }\n    }\n  }\n": types.JobAttemptsDocument,
    "\n    mutation JobCancel($id: ID!, $reason: String) {\n      cancelJob(id: $id, reason: $reason) {\n        ...JobDetail\n      }\n    }\n  ": types.JobCancelDocument,
    "\n    mutation JobRestart($id: ID!, $step: JobStep, $runNow: Boolean) {\n      restartJob(id: $id, step: $step, runNow: $runNow) {\n        ...JobDetail\n      }\n    }\n  ": types.JobRestartDocument,
    "\n    mutation JobApprove($id: ID!, $comment: String) {\n      approveJob(id: $id, comment: $comment) {\n        ...JobDetail\n      }\n    }\n  ": types.JobApproveDocument,
    "\n    mutation JobReject($id: ID!, $comment: String) {\n      rejectJob(id: $id, comment: $comment) {\n        ...JobDetail\n      }\n    }\n  ": types.JobRejectDocument,
    "\n    mutation JobReschedule($id: ID!, $scheduledAt: DateTime!, $maxStartAt: DateTime) {\n      rescheduleJob(id: $id, scheduledAt: $scheduledAt, maxStartAt: $maxStartAt) {\n        ...JobDetail\n      }\n    }\n  ": types.JobRescheduleDocument,
    "\n    mutation JobResolveTrap($id: ID!, $decision: TrapDecision!) {\n      resolveTrap(id: $id, decision: $decision) {\n        ...JobDetail\n      }\n    }\n  ": types.JobResolveTrapDocument,
    "\n    mutation JobPauseTrap($id: ID!) {\n      pauseTrap(id: $id) {\n        ...JobDetail\n      }\n    }\n  ": types.JobPauseTrapDocument,
    "\n    mutation JobDelete($id: ID!) {\n      deleteJob(id: $id)\n    }\n  ": types.JobDeleteDocument,
    "\n  fragment JobDetail on Job {\n    ...JobRow\n    config\n    attributes\n    hasSecrets\n    attempt\n    workerId\n    approvers\n    requiresApproval\n    scheduledAt\n    maxStartAt\n    heartbeatAt\n    updatedAt\n    previousRunDuration\n    cancelRequestedAt\n    cancelRequestedBy\n    trapExpiresAt\n    error {\n      message\n      stack\n    }\n    taskCounts {\n      total\n      completed\n      processing\n      waiting\n      failed\n    }\n  }\n": types.JobDetailFragmentDoc,
    "\n  query JobPage($id: ID!) {\n    job(id: $id) {\n      ...JobDetail\n      timeline(first: 100) {\n        nodes {\n          ...TimelineRow\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": types.JobPageDocument,
    "\n  subscription JobLive($id: ID!) {\n    jobProgress(id: $id) {\n      ...JobDetail\n    }\n  }\n": types.JobLiveDocument,
    "\n  query JobTasks($id: ID!, $status: TaskStatus) {\n    job(id: $id) {\n      id\n      tasks(status: $status) {\n        position\n        name\n        status\n        done\n        total\n        remaining\n        unit\n        percent\n        ratePerMinute\n        startedAt\n        finishedAt\n        message\n      }\n    }\n  }\n": types.JobTasksDocument,
    "\n  fragment TimelineRow on TimelineEvent {\n    id\n    at\n    kind\n    actor\n    actorKind\n    fromStatus\n    toStatus\n    step\n    attempt\n    message\n    data\n  }\n": types.TimelineRowFragmentDoc,
    "\n  query JobTimelineMore($id: ID!, $after: String) {\n    job(id: $id) {\n      id\n      timeline(first: 100, after: $after) {\n        nodes {\n          ...TimelineRow\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": types.JobTimelineMoreDocument,
    "\n  subscription JobTimelineLive($id: ID!, $after: ID) {\n    jobTimeline(id: $id, after: $after) {\n      ...TimelineRow\n    }\n  }\n": types.JobTimelineLiveDocument,
    "\n  fragment BulkResultFields on BulkActionResult {\n    matched\n    changed\n    skippedCount\n    dryRun\n    skipped {\n      id\n      name\n      code\n      reason\n    }\n  }\n": types.BulkResultFieldsFragmentDoc,
    "\n  mutation CancelJobs($filter: JobFilter, $dryRun: Boolean, $reason: String) {\n    cancelJobs(filter: $filter, dryRun: $dryRun, reason: $reason) {\n      ...BulkResultFields\n    }\n  }\n": types.CancelJobsDocument,
    "\n  mutation RestartJobs($filter: JobFilter, $dryRun: Boolean, $runNow: Boolean) {\n    restartJobs(filter: $filter, dryRun: $dryRun, runNow: $runNow) {\n      ...BulkResultFields\n    }\n  }\n": types.RestartJobsDocument,
    "\n  mutation DeleteJobs($filter: JobFilter, $dryRun: Boolean) {\n    deleteJobs(filter: $filter, dryRun: $dryRun) {\n      ...BulkResultFields\n    }\n  }\n": types.DeleteJobsDocument,
    "\n  query JobFacets($types: JobFilter, $owners: JobFilter, $scopes: JobFilter, $statuses: JobFilter) {\n    forTypes: jobFacets(filter: $types) {\n      types {\n        value\n        count\n      }\n    }\n    forOwners: jobFacets(filter: $owners) {\n      owners {\n        value\n        count\n      }\n    }\n    forScopes: jobFacets(filter: $scopes) {\n      scopes {\n        value\n        count\n      }\n    }\n    forStatuses: jobFacets(filter: $statuses) {\n      statuses {\n        value\n        count\n      }\n    }\n  }\n": types.JobFacetsDocument,
    "\n  query JobFacetsAtOnce($filter: JobFilter) {\n    jobFacets(filter: $filter) {\n      types {\n        value\n        count\n      }\n      owners {\n        value\n        count\n      }\n      scopes {\n        value\n        count\n      }\n      statuses {\n        value\n        count\n      }\n    }\n  }\n": types.JobFacetsAtOnceDocument,
    "\n  mutation CancelJob($id: ID!, $reason: String) {\n    cancelJob(id: $id, reason: $reason) {\n      ...JobRow\n    }\n  }\n": types.CancelJobDocument,
    "\n  query JobCounts($filter: JobFilter) {\n    jobCounts(filter: $filter) {\n      status\n      count\n    }\n  }\n": types.JobCountsDocument,
    "\n  query TypeStats($type: String!) {\n    jobTypeStats(type: $type) {\n      type\n      count\n      succeeded\n      failed\n      successRate\n      p50Duration\n      p95Duration\n    }\n  }\n": types.TypeStatsDocument,
    "\n  query TypeTrend($type: String!, $bucket: TrendBucket!, $from: DateTime!) {\n    jobTypeTrend(type: $type, bucket: $bucket, from: $from) {\n      start\n      runs\n      succeeded\n      failed\n      p50Seconds\n      p95Seconds\n    }\n  }\n": types.TypeTrendDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Me {\n    me {\n      id\n      name\n      actions\n      rules\n    }\n  }\n"): (typeof documents)["\n  query Me {\n    me {\n      id\n      name\n      actions\n      rules\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment JobRow on Job {\n    id\n    name\n    type\n    asset\n    scope\n    status\n    step\n    message\n    owner\n    ownerName\n    createdAt\n    startedAt\n    finishedAt\n    duration\n    slowerThanUsual\n    terminal\n    progress {\n      percent\n      indeterminate\n      done\n      total\n      unit\n      ratePerMinute\n      etaSeconds\n      phase\n      updatedAt\n    }\n    viewerCan {\n      cancel\n      restart\n      delete\n      approve\n      reject\n      reschedule\n      resolveTrap\n      pauseTrap\n      start\n    }\n  }\n"): (typeof documents)["\n  fragment JobRow on Job {\n    id\n    name\n    type\n    asset\n    scope\n    status\n    step\n    message\n    owner\n    ownerName\n    createdAt\n    startedAt\n    finishedAt\n    duration\n    slowerThanUsual\n    terminal\n    progress {\n      percent\n      indeterminate\n      done\n      total\n      unit\n      ratePerMinute\n      etaSeconds\n      phase\n      updatedAt\n    }\n    viewerCan {\n      cancel\n      restart\n      delete\n      approve\n      reject\n      reschedule\n      resolveTrap\n      pauseTrap\n      start\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query JobsPage($filter: JobFilter, $first: Int, $after: String) {\n    jobs(filter: $filter, first: $first, after: $after) {\n      nodes {\n        ...JobRow\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"): (typeof documents)["\n  query JobsPage($filter: JobFilter, $first: Int, $after: String) {\n    jobs(filter: $filter, first: $first, after: $after) {\n      nodes {\n        ...JobRow\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription JobsLive($filter: JobFilter, $snapshot: Int) {\n    jobUpdated(filter: $filter, snapshot: $snapshot) {\n      ...JobRow\n      removed\n    }\n  }\n"): (typeof documents)["\n  subscription JobsLive($filter: JobFilter, $snapshot: Int) {\n    jobUpdated(filter: $filter, snapshot: $snapshot) {\n      ...JobRow\n      removed\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query UnreadNotifications {\n    notifications(first: 0, unreadOnly: true) {\n      unreadCount\n    }\n  }\n"): (typeof documents)["\n  query UnreadNotifications {\n    notifications(first: 0, unreadOnly: true) {\n      unreadCount\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription NotificationArrivals {\n    notifications {\n      ...NotificationRow\n    }\n  }\n"): (typeof documents)["\n  subscription NotificationArrivals {\n    notifications {\n      ...NotificationRow\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment NotificationRow on Notification {\n    id\n    kind\n    jobId\n    jobName\n    actor\n    message\n    createdAt\n    readAt\n  }\n"): (typeof documents)["\n  fragment NotificationRow on Notification {\n    id\n    kind\n    jobId\n    jobName\n    actor\n    message\n    createdAt\n    readAt\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query NotificationsPage($after: String) {\n    notifications(first: 50, after: $after) {\n      nodes {\n        ...NotificationRow\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      unreadCount\n    }\n  }\n"): (typeof documents)["\n  query NotificationsPage($after: String) {\n    notifications(first: 50, after: $after) {\n      nodes {\n        ...NotificationRow\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n      unreadCount\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation MarkNotificationsRead($ids: [ID!], $all: Boolean) {\n    markNotificationsRead(ids: $ids, all: $all)\n  }\n"): (typeof documents)["\n  mutation MarkNotificationsRead($ids: [ID!], $all: Boolean) {\n    markNotificationsRead(ids: $ids, all: $all)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AdminAlertRules {\n    alertRules {\n      id\n      name\n      webhookUrl\n      email\n      events\n      enabled\n      createdAt\n    }\n  }\n"): (typeof documents)["\n  query AdminAlertRules {\n    alertRules {\n      id\n      name\n      webhookUrl\n      email\n      events\n      enabled\n      createdAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AdminCreateAlertRule($input: AlertRuleInput!) {\n    createAlertRule(input: $input) {\n      secret\n      rule {\n        id\n        name\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation AdminCreateAlertRule($input: AlertRuleInput!) {\n    createAlertRule(input: $input) {\n      secret\n      rule {\n        id\n        name\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AdminDeleteAlertRule($id: ID!) {\n    deleteAlertRule(id: $id)\n  }\n"): (typeof documents)["\n  mutation AdminDeleteAlertRule($id: ID!) {\n    deleteAlertRule(id: $id)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AdminAlertDeliveries($ruleId: ID!) {\n    alertDeliveries(ruleId: $ruleId, first: 50) {\n      id\n      event\n      jobId\n      status\n      attempts\n      lastStatusCode\n      lastError\n      createdAt\n      deliveredAt\n    }\n  }\n"): (typeof documents)["\n  query AdminAlertDeliveries($ruleId: ID!) {\n    alertDeliveries(ruleId: $ruleId, first: 50) {\n      id\n      event\n      jobId\n      status\n      attempts\n      lastStatusCode\n      lastError\n      createdAt\n      deliveredAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AdminGrants($userId: String) {\n    grants(userId: $userId) {\n      id\n      userId\n      role\n      scope\n      grantedBy\n      createdAt\n    }\n  }\n"): (typeof documents)["\n  query AdminGrants($userId: String) {\n    grants(userId: $userId) {\n      id\n      userId\n      role\n      scope\n      grantedBy\n      createdAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AdminGrantRole($userId: String!, $role: String!, $scope: String) {\n    grantRole(userId: $userId, role: $role, scope: $scope) {\n      id\n    }\n  }\n"): (typeof documents)["\n  mutation AdminGrantRole($userId: String!, $role: String!, $scope: String) {\n    grantRole(userId: $userId, role: $role, scope: $scope) {\n      id\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AdminRevokeGrant($id: ID!) {\n    revokeGrant(id: $id)\n  }\n"): (typeof documents)["\n  mutation AdminRevokeGrant($id: ID!) {\n    revokeGrant(id: $id)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AdminRoles {\n    roles {\n      name\n      description\n      builtIn\n      rules\n      updatedAt\n    }\n  }\n"): (typeof documents)["\n  query AdminRoles {\n    roles {\n      name\n      description\n      builtIn\n      rules\n      updatedAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AdminCreateRole($input: RoleInput!) {\n    createRole(input: $input) {\n      name\n    }\n  }\n"): (typeof documents)["\n  mutation AdminCreateRole($input: RoleInput!) {\n    createRole(input: $input) {\n      name\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AdminUpdateRole($name: String!, $input: RoleInput!) {\n    updateRole(name: $name, input: $input) {\n      name\n    }\n  }\n"): (typeof documents)["\n  mutation AdminUpdateRole($name: String!, $input: RoleInput!) {\n    updateRole(name: $name, input: $input) {\n      name\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AdminDeleteRole($name: String!) {\n    deleteRole(name: $name)\n  }\n"): (typeof documents)["\n  mutation AdminDeleteRole($name: String!) {\n    deleteRole(name: $name)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query JobAttempts($id: ID!) {\n    job(id: $id) {\n      id\n      attempts {\n        attempt\n        status\n        step\n        workerId\n        startedAt\n        finishedAt\n        duration\n        error {\n          message\n          stack\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query JobAttempts($id: ID!) {\n    job(id: $id) {\n      id\n      attempts {\n        attempt\n        status\n        step\n        workerId\n        startedAt\n        finishedAt\n        duration\n        error {\n          message\n          stack\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n    mutation JobCancel($id: ID!, $reason: String) {\n      cancelJob(id: $id, reason: $reason) {\n        ...JobDetail\n      }\n    }\n  "): (typeof documents)["\n    mutation JobCancel($id: ID!, $reason: String) {\n      cancelJob(id: $id, reason: $reason) {\n        ...JobDetail\n      }\n    }\n  "];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n    mutation JobRestart($id: ID!, $step: JobStep, $runNow: Boolean) {\n      restartJob(id: $id, step: $step, runNow: $runNow) {\n        ...JobDetail\n      }\n    }\n  "): (typeof documents)["\n    mutation JobRestart($id: ID!, $step: JobStep, $runNow: Boolean) {\n      restartJob(id: $id, step: $step, runNow: $runNow) {\n        ...JobDetail\n      }\n    }\n  "];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n    mutation JobApprove($id: ID!, $comment: String) {\n      approveJob(id: $id, comment: $comment) {\n        ...JobDetail\n      }\n    }\n  "): (typeof documents)["\n    mutation JobApprove($id: ID!, $comment: String) {\n      approveJob(id: $id, comment: $comment) {\n        ...JobDetail\n      }\n    }\n  "];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n    mutation JobReject($id: ID!, $comment: String) {\n      rejectJob(id: $id, comment: $comment) {\n        ...JobDetail\n      }\n    }\n  "): (typeof documents)["\n    mutation JobReject($id: ID!, $comment: String) {\n      rejectJob(id: $id, comment: $comment) {\n        ...JobDetail\n      }\n    }\n  "];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n    mutation JobReschedule($id: ID!, $scheduledAt: DateTime!, $maxStartAt: DateTime) {\n      rescheduleJob(id: $id, scheduledAt: $scheduledAt, maxStartAt: $maxStartAt) {\n        ...JobDetail\n      }\n    }\n  "): (typeof documents)["\n    mutation JobReschedule($id: ID!, $scheduledAt: DateTime!, $maxStartAt: DateTime) {\n      rescheduleJob(id: $id, scheduledAt: $scheduledAt, maxStartAt: $maxStartAt) {\n        ...JobDetail\n      }\n    }\n  "];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n    mutation JobResolveTrap($id: ID!, $decision: TrapDecision!) {\n      resolveTrap(id: $id, decision: $decision) {\n        ...JobDetail\n      }\n    }\n  "): (typeof documents)["\n    mutation JobResolveTrap($id: ID!, $decision: TrapDecision!) {\n      resolveTrap(id: $id, decision: $decision) {\n        ...JobDetail\n      }\n    }\n  "];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n    mutation JobPauseTrap($id: ID!) {\n      pauseTrap(id: $id) {\n        ...JobDetail\n      }\n    }\n  "): (typeof documents)["\n    mutation JobPauseTrap($id: ID!) {\n      pauseTrap(id: $id) {\n        ...JobDetail\n      }\n    }\n  "];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n    mutation JobDelete($id: ID!) {\n      deleteJob(id: $id)\n    }\n  "): (typeof documents)["\n    mutation JobDelete($id: ID!) {\n      deleteJob(id: $id)\n    }\n  "];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment JobDetail on Job {\n    ...JobRow\n    config\n    attributes\n    hasSecrets\n    attempt\n    workerId\n    approvers\n    requiresApproval\n    scheduledAt\n    maxStartAt\n    heartbeatAt\n    updatedAt\n    previousRunDuration\n    cancelRequestedAt\n    cancelRequestedBy\n    trapExpiresAt\n    error {\n      message\n      stack\n    }\n    taskCounts {\n      total\n      completed\n      processing\n      waiting\n      failed\n    }\n  }\n"): (typeof documents)["\n  fragment JobDetail on Job {\n    ...JobRow\n    config\n    attributes\n    hasSecrets\n    attempt\n    workerId\n    approvers\n    requiresApproval\n    scheduledAt\n    maxStartAt\n    heartbeatAt\n    updatedAt\n    previousRunDuration\n    cancelRequestedAt\n    cancelRequestedBy\n    trapExpiresAt\n    error {\n      message\n      stack\n    }\n    taskCounts {\n      total\n      completed\n      processing\n      waiting\n      failed\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query JobPage($id: ID!) {\n    job(id: $id) {\n      ...JobDetail\n      timeline(first: 100) {\n        nodes {\n          ...TimelineRow\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query JobPage($id: ID!) {\n    job(id: $id) {\n      ...JobDetail\n      timeline(first: 100) {\n        nodes {\n          ...TimelineRow\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription JobLive($id: ID!) {\n    jobProgress(id: $id) {\n      ...JobDetail\n    }\n  }\n"): (typeof documents)["\n  subscription JobLive($id: ID!) {\n    jobProgress(id: $id) {\n      ...JobDetail\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query JobTasks($id: ID!, $status: TaskStatus) {\n    job(id: $id) {\n      id\n      tasks(status: $status) {\n        position\n        name\n        status\n        done\n        total\n        remaining\n        unit\n        percent\n        ratePerMinute\n        startedAt\n        finishedAt\n        message\n      }\n    }\n  }\n"): (typeof documents)["\n  query JobTasks($id: ID!, $status: TaskStatus) {\n    job(id: $id) {\n      id\n      tasks(status: $status) {\n        position\n        name\n        status\n        done\n        total\n        remaining\n        unit\n        percent\n        ratePerMinute\n        startedAt\n        finishedAt\n        message\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment TimelineRow on TimelineEvent {\n    id\n    at\n    kind\n    actor\n    actorKind\n    fromStatus\n    toStatus\n    step\n    attempt\n    message\n    data\n  }\n"): (typeof documents)["\n  fragment TimelineRow on TimelineEvent {\n    id\n    at\n    kind\n    actor\n    actorKind\n    fromStatus\n    toStatus\n    step\n    attempt\n    message\n    data\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query JobTimelineMore($id: ID!, $after: String) {\n    job(id: $id) {\n      id\n      timeline(first: 100, after: $after) {\n        nodes {\n          ...TimelineRow\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query JobTimelineMore($id: ID!, $after: String) {\n    job(id: $id) {\n      id\n      timeline(first: 100, after: $after) {\n        nodes {\n          ...TimelineRow\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription JobTimelineLive($id: ID!, $after: ID) {\n    jobTimeline(id: $id, after: $after) {\n      ...TimelineRow\n    }\n  }\n"): (typeof documents)["\n  subscription JobTimelineLive($id: ID!, $after: ID) {\n    jobTimeline(id: $id, after: $after) {\n      ...TimelineRow\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment BulkResultFields on BulkActionResult {\n    matched\n    changed\n    skippedCount\n    dryRun\n    skipped {\n      id\n      name\n      code\n      reason\n    }\n  }\n"): (typeof documents)["\n  fragment BulkResultFields on BulkActionResult {\n    matched\n    changed\n    skippedCount\n    dryRun\n    skipped {\n      id\n      name\n      code\n      reason\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CancelJobs($filter: JobFilter, $dryRun: Boolean, $reason: String) {\n    cancelJobs(filter: $filter, dryRun: $dryRun, reason: $reason) {\n      ...BulkResultFields\n    }\n  }\n"): (typeof documents)["\n  mutation CancelJobs($filter: JobFilter, $dryRun: Boolean, $reason: String) {\n    cancelJobs(filter: $filter, dryRun: $dryRun, reason: $reason) {\n      ...BulkResultFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RestartJobs($filter: JobFilter, $dryRun: Boolean, $runNow: Boolean) {\n    restartJobs(filter: $filter, dryRun: $dryRun, runNow: $runNow) {\n      ...BulkResultFields\n    }\n  }\n"): (typeof documents)["\n  mutation RestartJobs($filter: JobFilter, $dryRun: Boolean, $runNow: Boolean) {\n    restartJobs(filter: $filter, dryRun: $dryRun, runNow: $runNow) {\n      ...BulkResultFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteJobs($filter: JobFilter, $dryRun: Boolean) {\n    deleteJobs(filter: $filter, dryRun: $dryRun) {\n      ...BulkResultFields\n    }\n  }\n"): (typeof documents)["\n  mutation DeleteJobs($filter: JobFilter, $dryRun: Boolean) {\n    deleteJobs(filter: $filter, dryRun: $dryRun) {\n      ...BulkResultFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query JobFacets($types: JobFilter, $owners: JobFilter, $scopes: JobFilter, $statuses: JobFilter) {\n    forTypes: jobFacets(filter: $types) {\n      types {\n        value\n        count\n      }\n    }\n    forOwners: jobFacets(filter: $owners) {\n      owners {\n        value\n        count\n      }\n    }\n    forScopes: jobFacets(filter: $scopes) {\n      scopes {\n        value\n        count\n      }\n    }\n    forStatuses: jobFacets(filter: $statuses) {\n      statuses {\n        value\n        count\n      }\n    }\n  }\n"): (typeof documents)["\n  query JobFacets($types: JobFilter, $owners: JobFilter, $scopes: JobFilter, $statuses: JobFilter) {\n    forTypes: jobFacets(filter: $types) {\n      types {\n        value\n        count\n      }\n    }\n    forOwners: jobFacets(filter: $owners) {\n      owners {\n        value\n        count\n      }\n    }\n    forScopes: jobFacets(filter: $scopes) {\n      scopes {\n        value\n        count\n      }\n    }\n    forStatuses: jobFacets(filter: $statuses) {\n      statuses {\n        value\n        count\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query JobFacetsAtOnce($filter: JobFilter) {\n    jobFacets(filter: $filter) {\n      types {\n        value\n        count\n      }\n      owners {\n        value\n        count\n      }\n      scopes {\n        value\n        count\n      }\n      statuses {\n        value\n        count\n      }\n    }\n  }\n"): (typeof documents)["\n  query JobFacetsAtOnce($filter: JobFilter) {\n    jobFacets(filter: $filter) {\n      types {\n        value\n        count\n      }\n      owners {\n        value\n        count\n      }\n      scopes {\n        value\n        count\n      }\n      statuses {\n        value\n        count\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CancelJob($id: ID!, $reason: String) {\n    cancelJob(id: $id, reason: $reason) {\n      ...JobRow\n    }\n  }\n"): (typeof documents)["\n  mutation CancelJob($id: ID!, $reason: String) {\n    cancelJob(id: $id, reason: $reason) {\n      ...JobRow\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query JobCounts($filter: JobFilter) {\n    jobCounts(filter: $filter) {\n      status\n      count\n    }\n  }\n"): (typeof documents)["\n  query JobCounts($filter: JobFilter) {\n    jobCounts(filter: $filter) {\n      status\n      count\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TypeStats($type: String!) {\n    jobTypeStats(type: $type) {\n      type\n      count\n      succeeded\n      failed\n      successRate\n      p50Duration\n      p95Duration\n    }\n  }\n"): (typeof documents)["\n  query TypeStats($type: String!) {\n    jobTypeStats(type: $type) {\n      type\n      count\n      succeeded\n      failed\n      successRate\n      p50Duration\n      p95Duration\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TypeTrend($type: String!, $bucket: TrendBucket!, $from: DateTime!) {\n    jobTypeTrend(type: $type, bucket: $bucket, from: $from) {\n      start\n      runs\n      succeeded\n      failed\n      p50Seconds\n      p95Seconds\n    }\n  }\n"): (typeof documents)["\n  query TypeTrend($type: String!, $bucket: TrendBucket!, $from: DateTime!) {\n    jobTypeTrend(type: $type, bucket: $bucket, from: $from) {\n      start\n      runs\n      succeeded\n      failed\n      p50Seconds\n      p95Seconds\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;