import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { inTransaction } from '../db/sql';
import { BackgroundLoop } from '../util/background-loop';
import type { PgListener } from '../db/pg-listener';
import { jobSubject, type AppAbility } from '../permissions/ability';
import type { PermissionStore } from '../permissions/permission-store';
import type { JobFilter } from '../jobs/job-filter.input';
import { compileFilter } from '../jobs/job-filter.match';
import { jobRowFromSnapshot, toJob, type JobRow } from '../jobs/job.row';
import type { JobEventKind } from '../notifications/notification.types';
import { jobUrl } from '../jobs/job-url';

export const JOB_EVENTS_CHANNEL = 'jobwatch_job_events';
const BATCH = 200;

interface EventRow {
  id: string;
  job_id: string;
  event: JobEventKind;
  actor_id: string | null;
  message: string | null;
  at: Date;
  job: Record<string, unknown>;
}

interface RuleRow {
  id: string;
  owner_id: string;
  name: string;
  filter: Record<string, unknown>;
  events: JobEventKind[];
}

/** A stored JobFilter (JSON) back as the input type, dates included. */
function storedFilter(filter: Record<string, unknown>): JobFilter {
  const result: Record<string, unknown> = { ...filter };
  for (const [key, value] of Object.entries(filter)) {
    if ((key.endsWith('After') || key.endsWith('Before')) && typeof value === 'string') result[key] = new Date(value);
  }
  return result;
}

/** What a receiver gets: the event and the job as the API shows it (never secrets). */
function payload(event: EventRow, rule: RuleRow, row: JobRow, publicUrl: string | undefined): Record<string, unknown> {
  const job = toJob(row);
  return {
    event: event.event,
    occurredAt: event.at,
    actor: event.actor_id,
    message: event.message,
    rule: { id: rule.id, name: rule.name },
    job: {
      id: job.id,
      url: jobUrl(publicUrl, job.id),
      name: job.name,
      type: job.type,
      scope: job.scope,
      owner: job.owner,
      status: job.status,
      step: job.step,
      attempt: job.attempt,
      message: job.message,
      error: job.error,
      asset: job.asset,
      progress: { done: job.progress.done, total: job.progress.total, percent: job.progress.percent },
      createdAt: job.createdAt,
      startedAt: job.startedAt,
      finishedAt: job.finishedAt,
      duration: job.duration,
    },
  };
}

/**
 * Turns recorded job events into webhook deliveries, once each: events are taken with FOR
 * UPDATE SKIP LOCKED (instances share the work), matched against the enabled rules (the rule's
 * filter, and whether its owner may view the job and still has manage_alerts, with their
 * current ability), and the deliveries are written in the same transaction that marks the
 * events done; (rule, event) is unique, so nothing fires twice for a rule even if two
 * instances raced.
 */
export class AlertDispatcher {
  private readonly loop: BackgroundLoop;

  constructor(
    private readonly pool: Pool,
    private readonly permissions: PermissionStore,
    log: Logger,
    listener: PgListener,
    /** PUBLIC_URL: payloads link to the job's page. */
    private readonly publicUrl: string | undefined = undefined,
    intervalMs = 1_000,
  ) {
    this.loop = new BackgroundLoop(
      () => this.drain(),
      intervalMs,
      (error) => log.warn({ err: error }, 'alert dispatch failed; it will be retried'),
    );
    listener.on(JOB_EVENTS_CHANNEL, () => this.loop.wake());
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Processes pending events until none are left; answers how many. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const done = await this.runOnce();
      total += done;
      if (done < BATCH) return total;
    }
  }

  async runOnce(): Promise<number> {
    return inTransaction(this.pool, async (tx) => {
      const events = await tx.rows<EventRow>(
        `SELECT id, job_id, event, actor_id, message, at, job FROM job_events
          WHERE processed_at IS NULL ORDER BY id LIMIT ${BATCH} FOR UPDATE SKIP LOCKED`,
      );
      if (events.length === 0) return 0;
      const rules = await tx.rows<RuleRow>(`SELECT id, owner_id, name, filter, events FROM alert_rules WHERE enabled`);
      const deliveries: unknown[] = [];
      // Every owner's ability in one go: this transaction holds the events' row locks.
      const abilities = await this.permissions.abilitiesFor(rules.map((rule) => rule.owner_id));
      for (const rule of rules) {
        const wants = compileFilter(storedFilter(rule.filter));
        const ability = abilities.get(rule.owner_id) as AppAbility;
        // An owner who lost manage_alerts keeps their rules (to see and delete them), silent.
        if (!ability.can('manage_alerts', 'Alert')) continue;
        for (const event of events) {
          if (!rule.events.includes(event.event)) continue;
          const row = jobRowFromSnapshot(event.job);
          if (!wants(row)) continue;
          if (
            !ability.can('view_monitor', jobSubject({ scope: row.scope, type: row.type, ownerId: row.owner_id, approvers: row.approvers }))
          )
            continue;
          deliveries.push({
            rule_id: rule.id,
            job_event_id: event.id,
            job_id: event.job_id,
            event: event.event,
            payload: payload(event, rule, row, this.publicUrl),
          });
        }
      }
      if (deliveries.length > 0) {
        await tx.execute(
          `INSERT INTO alert_deliveries (rule_id, job_event_id, job_id, event, payload)
           SELECT rule_id, job_event_id, job_id, event, payload
             FROM jsonb_to_recordset($1::jsonb) AS d(rule_id uuid, job_event_id bigint, job_id uuid, event text, payload jsonb)
           ON CONFLICT (rule_id, job_event_id) DO NOTHING`,
          [JSON.stringify(deliveries)],
        );
      }
      await tx.execute(`UPDATE job_events SET processed_at = now() WHERE id = ANY($1::bigint[])`, [events.map((event) => event.id)]);
      return events.length;
    });
  }
}
