import type { Sql } from '../../db/sql';
import { RULE_COLUMNS, type RuleRow } from './alert-rule.row';

/** An owner's alert rules, oldest first. */
export function listAlertRules(sql: Sql, ownerId: string): Promise<RuleRow[]> {
  return sql.rows<RuleRow>(`SELECT ${RULE_COLUMNS} FROM alert_rules WHERE owner_id = $1 ORDER BY created_at, id`, [ownerId]);
}
