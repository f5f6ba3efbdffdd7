import type { JobEventKind } from '../../notifications/notification.types';
import type { AlertRule } from '../alert.types';

/** An alert rule as the statements read it (its sealed secret never leaves the table here). */
export interface RuleRow {
  id: string;
  owner_id: string;
  name: string;
  filter: unknown;
  events: JobEventKind[];
  webhook_url: string | null;
  email: string | null;
  enabled: boolean;
  created_at: Date;
  updated_at: Date;
}

export const RULE_COLUMNS = 'id, owner_id, name, filter, events, webhook_url, email, enabled, created_at, updated_at';

export const toRule = (row: RuleRow): AlertRule => ({
  id: row.id,
  owner: row.owner_id,
  name: row.name,
  filter: row.filter,
  events: row.events,
  webhookUrl: row.webhook_url,
  email: row.email,
  enabled: row.enabled,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

/** The stored form of a rule's settings, checked (the resolver's `validated`). */
export interface RuleValues {
  readonly name: string;
  /** The filter as JSON text. */
  readonly filter: string;
  readonly events: readonly JobEventKind[];
  readonly webhookUrl: string | null;
  readonly email: string | null;
}
