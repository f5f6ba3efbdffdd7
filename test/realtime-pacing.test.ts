import { insertJobs } from './support/fixtures';
import { apiSuite } from './support/api-suite';
import { subscribe } from './support/ws-client';
import { SLICE } from '../src/realtime/send-pacer';

/**
 * Subscription events go out a slice of subscribers at a time (src/realtime/send-pacer.ts).
 * With more subscribers on one job than a slice holds, and the job changing while they wait in
 * line, each of them must still see its progress only go forward and end with the job's final
 * state.
 */
const suite = apiSuite({ env: { PROGRESS_FLUSH_MS: '20' } });

interface Progress {
  jobProgress: { status: string; progress: { done: number } };
}

test('more subscribers than a slice: progress only goes forward for each, and each ends with the final state', async () => {
  const [job] = await insertJobs(suite.db.pool, [{ type: 'pacing' }]);
  const subscribers = SLICE + 44;
  const sockets = [suite.client(suite.admin), suite.client(suite.admin), suite.client(suite.admin)];
  const feeds = Array.from({ length: subscribers }, (_, index) =>
    subscribe<Progress>(sockets[index % sockets.length]!, 'subscription($id: ID!) { jobProgress(id: $id) { status progress { done } } }', {
      id: job!.id,
    }),
  );
  for (const feed of feeds) await feed.until((messages) => messages.length >= 1);

  const claimed = await suite.server.gql<{ claimJob: { lease: string } }>(
    suite.worker,
    'mutation { claimJob(workerId: "w", types: ["pacing"]) { lease } }',
  );
  const lease = claimed.data!.claimJob.lease;
  for (let done = 1; done <= 15; done += 1) {
    await suite.server.gql(suite.worker, 'mutation($r: [ProgressReport!]!) { reportProgress(reports: $r) }', {
      r: [{ lease, done, total: 15 }],
    });
  }
  const completed = await suite.server.gql<{ completeJob: { status: string } }>(
    suite.worker,
    'mutation($l: String!) { completeJob(lease: $l) { status } }',
    { l: lease },
  );
  expect(completed.data!.completeJob.status).toBe('SUCCEEDED');

  for (const feed of feeds) {
    const messages = await feed.until((received) => received.at(-1)?.jobProgress.status === 'SUCCEEDED', 20_000);
    expect(messages.at(-1)!.jobProgress.progress.done).toBe(15);
    const done = messages.map((message) => message.jobProgress.progress.done);
    expect(done).toEqual([...done].sort((a, b) => a - b));
    feed.stop();
  }
});
