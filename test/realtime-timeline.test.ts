import { eventually } from './support/eventually';
import { insertJobs } from './support/fixtures';
import { apiSuite } from './support/api-suite';
import { subscribe } from './support/ws-client';

/**
 * jobTimeline with long histories: a quiet job's old cursor never holds back a chatty job's
 * new events, and a replay from the start delivers every event, however many.
 */
// This file keeps the default PROGRESS_FLUSH_MS.
const suite = apiSuite();

/** Subscribes and waits until the server holds the subscription (without `after`, it starts at the newest event). */
async function live(variables: Record<string, unknown>) {
  const before = suite.server.services.hub.subscriberCount;
  const received = subscribe<TimelineMessage>(suite.client(suite.admin), TIMELINE, variables);
  await eventually(
    () => suite.server.services.hub.subscriberCount,
    (count) => count > before,
    10_000,
    'the subscription to start',
  );
  return received;
}

/** `count` LOG events for each job, in one statement. */
async function logEvents(jobIds: readonly string[], count: number, message: string): Promise<void> {
  await suite.db.pool.query(
    `INSERT INTO timeline_events (job_id, kind, actor_id, actor_kind, message, job_scope, job_type, job_owner_id)
     SELECT j.id, 'LOG', 'w', 'WORKER', $3 || ' ' || n, j.scope, j.type, j.owner_id
       FROM jobs j CROSS JOIN generate_series(1, $2::int) n WHERE j.id = ANY($1::uuid[]) ORDER BY n, j.id`,
    [jobIds, count, message],
  );
}

const TIMELINE = 'subscription($id: ID!, $after: ID) { jobTimeline(id: $id, after: $after) { id message } }';
interface TimelineMessage {
  jobTimeline: { id: string; message: string | null };
}

test("a quiet job's old cursor does not hold back a chatty job's new events in the same batch", async () => {
  const [quiet, chatty] = await insertJobs(suite.db.pool, [{ type: 'quiet' }, { type: 'chatty' }]);
  // Its cursor is the quiet job's empty history: id 0.
  const quietView = await live({ id: quiet!.id });
  await logEvents([quiet!.id], 1, 'quiet warm-up');
  await quietView.until((messages) => messages.length === 1);
  // Far more history for the chatty job than one page of the fan-out, all of it before its subscriber came.
  await logEvents([chatty!.id], 10_050, 'old');
  const chattyView = await live({ id: chatty!.id });
  await logEvents([chatty!.id], 1, 'chatty warm-up');
  await chattyView.until((messages) => messages.length === 1);

  // One statement, one notification, one batch for both jobs.
  await logEvents([quiet!.id, chatty!.id], 1, 'new');
  await quietView.until((messages) => messages.some((message) => message.jobTimeline.message === 'new 1'));
  await chattyView.until((messages) => messages.some((message) => message.jobTimeline.message === 'new 1'));
  expect(quietView.messages.map((message) => message.jobTimeline.message)).toEqual(['quiet warm-up 1', 'new 1']);
  expect(chattyView.messages.map((message) => message.jobTimeline.message)).toEqual(['chatty warm-up 1', 'new 1']);
  quietView.stop();
  chattyView.stop();
}, 60_000);

test('a replay from the start delivers every event of a long history, in order, then goes live', async () => {
  const [job] = await insertJobs(suite.db.pool, [{ type: 'long-history' }]);
  await logEvents([job!.id], 10_500, 'past');
  const received = subscribe<TimelineMessage>(suite.client(suite.admin), TIMELINE, { id: job!.id, after: '0' });
  await received.until((messages) => messages.length >= 10_500, 60_000);
  await logEvents([job!.id], 1, 'live');
  await received.until((messages) => messages.at(-1)?.jobTimeline.message === 'live 1');
  const ids = received.messages.map((message) => BigInt(message.jobTimeline.id));
  expect(ids.length).toBe(10_501);
  expect(ids.every((id, index) => index === 0 || id > (ids[index - 1] as bigint))).toBe(true);
  expect(received.messages[0]!.jobTimeline.message).toBe('past 1');
  received.stop();
}, 90_000);
