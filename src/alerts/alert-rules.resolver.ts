import { randomUUID } from 'node:crypto';
import { Arg, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import type { Context } from '../graphql/context';
import { BadUserInputError, ForbiddenError, NotFoundError } from '../graphql/errors';
import { SqlParams } from '../db/sql-params';
import { jobFilterConditions } from '../jobs/job-filter.sql';
import type { JobEventKind } from '../notifications/notification.types';
import { AlertDelivery, AlertRule, AlertRuleInput, CreatedAlertRule, type DeliveryStatus } from './alert.types';
import { newWebhookSecret } from './signature';
import { hostOf, publicAddresses, RefusedAddressError } from './webhook-address';

interface RuleRow {
  id: string;
  owner_id: string;
  name: string;
  filter: unknown;
  events: JobEventKind[];
  webhook_url: string;
  enabled: boolean;
  created_at: Date;
  updated_at: Date;
}

interface DeliveryRow {
  id: string;
  event: JobEventKind;
  job_id: string;
  status: DeliveryStatus;
  attempts: number;
  last_error: string | null;
  last_status_code: number | null;
  created_at: Date;
  next_attempt_at: Date;
  delivered_at: Date | null;
}

const RULE_COLUMNS = 'id, owner_id, name, filter, events, webhook_url, enabled, created_at, updated_at';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const toRule = (row: RuleRow): AlertRule => ({
  id: row.id,
  owner: row.owner_id,
  name: row.name,
  filter: row.filter,
  events: row.events,
  webhookUrl: row.webhook_url,
  enabled: row.enabled,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

function assertCanManageAlerts(ctx: Context): void {
  if (!ctx.ability.can('manage_alerts', 'Alert')) throw new ForbiddenError('Alert rules need the manage_alerts permission');
}

function assertRuleId(id: string): string {
  if (!UUID.test(id)) throw new BadUserInputError('id must be an alert rule id (a UUID)', 'id');
  return id.toLowerCase();
}

/** Rules one user may own: enough for every team's routing, not a way to fill the table. */
export const MAX_RULES_PER_OWNER = 100;

/** Checks what GraphQL cannot: the URL (and where it points), the filter's own rules; answers the values to store. */
async function validated(ctx: Context, input: AlertRuleInput): Promise<{ filter: string; events: JobEventKind[]; webhookUrl: string }> {
  let url: URL;
  try {
    url = new URL(input.webhookUrl);
  } catch {
    throw new BadUserInputError('webhookUrl is not a URL', 'webhookUrl');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new BadUserInputError(`webhookUrl must be http or https, not ${url.protocol.replace(':', '')}`, 'webhookUrl');
  }
  // fetch-style clients refuse them, and a secret in the URL would be shown back in alertRules.
  if (url.username !== '' || url.password !== '') {
    throw new BadUserInputError('webhookUrl must not carry credentials (user:password@); authenticate receivers by the signature', 'webhookUrl');
  }
  jobFilterConditions(input.filter ?? null, new SqlParams()); // throws BAD_USER_INPUT naming the field
  if (!ctx.services.config.alerts.allowPrivateNetworks) await assertPublic(url);
  return { filter: JSON.stringify(input.filter ?? {}), events: [...new Set(input.events)], webhookUrl: url.toString() };
}

/** Refuses a URL whose host is, or resolves to, a private address (checked again at each send). */
async function assertPublic(url: URL): Promise<void> {
  try {
    await publicAddresses(hostOf(url));
  } catch (error) {
    if (error instanceof RefusedAddressError) throw new BadUserInputError(`webhookUrl: ${error.message}`, 'webhookUrl');
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA') throw new BadUserInputError(`webhookUrl: the host ${url.hostname} does not resolve`, 'webhookUrl');
    // DNS trouble now is no reason to refuse the rule: every send checks again.
  }
}

/**
 * Alert rules of the viewer. Creating and changing one needs manage_alerts; seeing and deleting
 * one's own never does, so that someone who lost the permission can still clean up (their rules
 * stop firing: see the dispatcher). A rule sees only what its owner may view.
 */
@Resolver()
export class AlertRulesResolver {
  @Query(() => [AlertRule], { description: "The viewer's alert rules (also after they lost manage_alerts: their rules then stay silent)." })
  async alertRules(@Ctx() ctx: Context): Promise<AlertRule[]> {
    const rows = await ctx.services.sql.rows<RuleRow>(`SELECT ${RULE_COLUMNS} FROM alert_rules WHERE owner_id = $1 ORDER BY created_at, id`, [
      ctx.principal.id,
    ]);
    return rows.map(toRule);
  }

  @Mutation(() => CreatedAlertRule, { description: 'Creates an alert rule; answers its signing secret, shown this once.' })
  async createAlertRule(
    @Ctx() ctx: Context,
    @Arg('input', () => AlertRuleInput, { description: 'The rule.' }) input: AlertRuleInput,
  ): Promise<CreatedAlertRule> {
    assertCanManageAlerts(ctx);
    const values = await validated(ctx, input);
    const id = randomUUID();
    const secret = newWebhookSecret();
    // Counted in the statement; two creates racing at the cap may both pass (a soft cap).
    const row = await ctx.services.sql.one<RuleRow>(
      `INSERT INTO alert_rules (id, owner_id, name, filter, events, webhook_url, secret, enabled)
       SELECT $1, $2, $3, $4, $5, $6, $7, $8
        WHERE (SELECT count(*) FROM alert_rules WHERE owner_id = $2) < $9
       RETURNING ${RULE_COLUMNS}`,
      [
        id,
        ctx.principal.id,
        input.name,
        values.filter,
        values.events,
        values.webhookUrl,
        ctx.services.secrets.seal(id, { secret }),
        input.enabled ?? true,
        MAX_RULES_PER_OWNER,
      ],
    );
    if (row === undefined) throw new BadUserInputError(`at most ${MAX_RULES_PER_OWNER} alert rules per user: delete one first`);
    return { rule: toRule(row), secret };
  }

  @Mutation(() => AlertRule, {
    description:
      "Replaces one of the viewer's alert rules (its secret stays; `enabled` omitted keeps it as it is). Disabling a rule cancels its deliveries not yet sent.",
  })
  async updateAlertRule(
    @Ctx() ctx: Context,
    @Arg('id', () => ID, { description: 'The rule id.' }) id: string,
    @Arg('input', () => AlertRuleInput, { description: 'The new rule.' }) input: AlertRuleInput,
  ): Promise<AlertRule> {
    assertCanManageAlerts(ctx);
    const values = await validated(ctx, input);
    // Disabled: what is still waiting is cancelled in the same statement, so that enabling the
    // rule again never sends old events (one under way finishes, see the delivery worker).
    const row = await ctx.services.sql.one<RuleRow>(
      `WITH updated AS (
         UPDATE alert_rules SET name = $3, filter = $4, events = $5, webhook_url = $6, enabled = coalesce($7::boolean, enabled), updated_at = now()
          WHERE id = $1 AND owner_id = $2 RETURNING ${RULE_COLUMNS}
       ),
       cancelled AS (
         UPDATE alert_deliveries d SET status = 'CANCELLED', last_error = 'cancelled: the rule was disabled', locked_until = NULL
           FROM updated u
          WHERE d.rule_id = u.id AND NOT u.enabled
            AND (d.status = 'PENDING' OR (d.status = 'DELIVERING' AND d.locked_until < now()))
       )
       SELECT * FROM updated`,
      [assertRuleId(id), ctx.principal.id, input.name, values.filter, values.events, values.webhookUrl, input.enabled ?? null],
    );
    if (row === undefined) throw new NotFoundError('Alert rule', id);
    return toRule(row);
  }

  @Mutation(() => Boolean, { description: "Deletes one of the viewer's alert rules and its delivery log (no permission needed for one's own)." })
  async deleteAlertRule(@Ctx() ctx: Context, @Arg('id', () => ID, { description: 'The rule id.' }) id: string): Promise<boolean> {
    const deleted = await ctx.services.sql.execute('DELETE FROM alert_rules WHERE id = $1 AND owner_id = $2', [assertRuleId(id), ctx.principal.id]);
    if (deleted === 0) throw new NotFoundError('Alert rule', id);
    return true;
  }

  @Query(() => [AlertDelivery], { description: "The delivery log of one of the viewer's rules, newest first." })
  async alertDeliveries(
    @Ctx() ctx: Context,
    @Arg('ruleId', () => ID, { description: 'The rule id.' }) ruleId: string,
    @Arg('first', () => Int, { nullable: true, defaultValue: 50, description: 'How many, 0 to 500.' }) first: number | null,
  ): Promise<AlertDelivery[]> {
    const size = first ?? 50;
    if (size < 0 || size > 500) throw new BadUserInputError(`first must be between 0 and 500, got ${size}`, 'first');
    const rule = await ctx.services.sql.one('SELECT 1 FROM alert_rules WHERE id = $1 AND owner_id = $2', [assertRuleId(ruleId), ctx.principal.id]);
    if (rule === undefined) throw new NotFoundError('Alert rule', ruleId);
    const rows = await ctx.services.sql.rows<DeliveryRow>(
      `SELECT id, event, job_id, status, attempts, last_error, last_status_code, created_at, next_attempt_at, delivered_at
         FROM alert_deliveries WHERE rule_id = $1 ORDER BY id DESC LIMIT $2`,
      [ruleId.toLowerCase(), size],
    );
    return rows.map((row) => ({
      id: String(row.id),
      event: row.event,
      jobId: row.job_id,
      status: row.status,
      attempts: row.attempts,
      lastError: row.last_error,
      lastStatusCode: row.last_status_code,
      createdAt: row.created_at,
      nextAttemptAt: row.status === 'PENDING' ? row.next_attempt_at : null,
      deliveredAt: row.delivered_at,
    }));
  }
}
