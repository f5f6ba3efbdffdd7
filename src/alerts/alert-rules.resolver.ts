import { randomUUID } from 'node:crypto';
import { Arg, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import type { Context } from '../app/context';
import { BadUserInputError, ForbiddenError, NotFoundError } from '../errors';
import { SqlParams } from '../db/sql-params';
import { jobFilterConditions } from '../jobs/job-filter.sql';
import type { JobEventKind } from '../notifications/notification.types';
import { AlertDelivery, AlertRule, AlertRuleInput, CreatedAlertRule } from './alert.types';
import { toRule } from './sql/alert-rule.row';
import { deleteAlertRule } from './sql/delete-alert-rule';
import { insertAlertRule } from './sql/insert-alert-rule';
import { listAlertDeliveries, ownsAlertRule } from './sql/list-alert-deliveries';
import { listAlertRules } from './sql/list-alert-rules';
import { updateAlertRule } from './sql/update-alert-rule';
import { newWebhookSecret } from './signature';
import { isEmailAddress } from '../util/email-address';
import { hostOf, publicAddresses, RefusedAddressError } from './webhook-address';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function assertCanManageAlerts(ctx: Context): void {
  if (!ctx.ability.can('manage_alerts', 'Alert')) throw new ForbiddenError('Alert rules need the manage_alerts permission');
}

function assertRuleId(id: string): string {
  if (!UUID.test(id)) throw new BadUserInputError('id must be an alert rule id (a UUID)', 'id');
  return id.toLowerCase();
}

/** Rules one user may own: enough for every team's routing, not a way to fill the table. */
export const MAX_RULES_PER_OWNER = 100;

/** Checks what GraphQL cannot: one destination, the URL (and where it points) or the address, the filter's own rules; answers the values to store. */
async function validated(
  ctx: Context,
  input: AlertRuleInput,
): Promise<{ filter: string; events: JobEventKind[]; webhookUrl: string | null; email: string | null }> {
  if ((input.webhookUrl == null) === (input.email == null)) {
    throw new BadUserInputError('give the rule one destination: webhookUrl or email', input.webhookUrl == null ? 'webhookUrl' : 'email');
  }
  jobFilterConditions(input.filter ?? null, new SqlParams()); // throws BAD_USER_INPUT naming the field
  const rest = { filter: JSON.stringify(input.filter ?? {}), events: [...new Set(input.events)] };
  if (input.email != null) {
    if (!isEmailAddress(input.email)) throw new BadUserInputError('email is not an email address (name@example.com)', 'email');
    if (ctx.services.config.alerts.smtpUrl === undefined) {
      throw new BadUserInputError('this server sends no email: its SMTP_URL is not set', 'email');
    }
    return { ...rest, webhookUrl: null, email: input.email };
  }
  const webhookUrl = input.webhookUrl as string;
  let url: URL;
  try {
    url = new URL(webhookUrl);
  } catch {
    throw new BadUserInputError('webhookUrl is not a URL', 'webhookUrl');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new BadUserInputError(`webhookUrl must be http or https, not ${url.protocol.replace(':', '')}`, 'webhookUrl');
  }
  // fetch-style clients refuse them, and a secret in the URL would be shown back in alertRules.
  if (url.username !== '' || url.password !== '') {
    throw new BadUserInputError(
      'webhookUrl must not carry credentials (user:password@); authenticate receivers by the signature',
      'webhookUrl',
    );
  }
  if (!ctx.services.config.alerts.allowPrivateNetworks) await assertPublic(url);
  return { ...rest, webhookUrl: url.toString(), email: null };
}

/** Refuses a URL whose host is, or resolves to, a private address (checked again at each send). */
async function assertPublic(url: URL): Promise<void> {
  try {
    await publicAddresses(hostOf(url));
  } catch (error) {
    if (error instanceof RefusedAddressError) throw new BadUserInputError(`webhookUrl: ${error.message}`, 'webhookUrl');
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA')
      throw new BadUserInputError(`webhookUrl: the host ${url.hostname} does not resolve`, 'webhookUrl');
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
    return (await listAlertRules(ctx.services.sql, ctx.principal.id)).map(toRule);
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
    const row = await insertAlertRule(
      ctx.services.sql,
      {
        id,
        ownerId: ctx.principal.id,
        name: input.name,
        ...values,
        sealedSecret: ctx.services.secrets.seal(id, { secret }),
        enabled: input.enabled ?? true,
      },
      MAX_RULES_PER_OWNER,
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
    // Disabling cancels the rule's deliveries not yet sent, in the same statement.
    const row = await updateAlertRule(ctx.services.sql, {
      id: assertRuleId(id),
      ownerId: ctx.principal.id,
      name: input.name,
      ...values,
      enabled: input.enabled ?? null,
    });
    if (row === undefined) throw new NotFoundError('Alert rule', id);
    return toRule(row);
  }

  @Mutation(() => Boolean, {
    description: "Deletes one of the viewer's alert rules and its delivery log (no permission needed for one's own).",
  })
  async deleteAlertRule(@Ctx() ctx: Context, @Arg('id', () => ID, { description: 'The rule id.' }) id: string): Promise<boolean> {
    if (!(await deleteAlertRule(ctx.services.sql, assertRuleId(id), ctx.principal.id))) throw new NotFoundError('Alert rule', id);
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
    if (!(await ownsAlertRule(ctx.services.sql, assertRuleId(ruleId), ctx.principal.id))) throw new NotFoundError('Alert rule', ruleId);
    const rows = await listAlertDeliveries(ctx.services.sql, ruleId.toLowerCase(), size);
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
