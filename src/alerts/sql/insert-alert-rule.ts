import type { Sql } from '../../db/sql';
import { RULE_COLUMNS, type RuleRow, type RuleValues } from './alert-rule.row';

/**
 * Inserts a rule unless its owner already has `maxPerOwner`: undefined then. Counted in the
 * statement; two creates racing at the cap may both pass (a soft cap).
 */
export function insertAlertRule(
  sql: Sql,
  rule: RuleValues & { readonly id: string; readonly ownerId: string; readonly sealedSecret: Buffer; readonly enabled: boolean },
  maxPerOwner: number,
): Promise<RuleRow | undefined> {
  return sql.one<RuleRow>(
    `INSERT INTO alert_rules (id, owner_id, name, filter, events, webhook_url, secret, enabled, email)
     SELECT $1, $2, $3, $4, $5, $6, $7, $8, $10
      WHERE (SELECT count(*) FROM alert_rules WHERE owner_id = $2) < $9
     RETURNING ${RULE_COLUMNS}`,
    [rule.id, rule.ownerId, rule.name, rule.filter, rule.events, rule.webhookUrl, rule.sealedSecret, rule.enabled, maxPerOwner, rule.email],
  );
}
