import { Kind, type OperationDefinitionNode, OperationTypeNode } from 'graphql';
import { type Context, verifyAbility } from '../app/context';
import { DatabaseUnavailableError, isDatabaseUnavailable } from '../errors';

/**
 * Reads that check the viewer's permissions version in their own statement. A request normally
 * reads the version before it trusts the instance's cached ability (one more statement and
 * round trip per request). A hot read instead runs with the cached ability and has Postgres
 * answer the version beside its rows, in the same snapshot: when it is the one the ability was
 * loaded at, the rows are what the viewer may see now; when it is not (or no row came back to
 * tell), the ability is reloaded and, if it changed, the read is run again. Either way a change
 * of grants or roles committed before the request arrived counts, on every instance, and
 * whether or not its NOTIFY has arrived.
 */
export async function verifiedRows<R extends object>(ctx: Context, read: (withPermissionsVersion: boolean) => Promise<R[]>): Promise<R[]> {
  try {
    return await checkedRows(ctx, read);
  } catch (error) {
    // A read changes nothing: with the database away it is refused as retryable (HTTP 503), as a
    // request is whose permissions version cannot be read.
    throw isDatabaseUnavailable(error) ? new DatabaseUnavailableError() : error;
  }
}

async function checkedRows<R extends object>(ctx: Context, read: (withPermissionsVersion: boolean) => Promise<R[]>): Promise<R[]> {
  const expected = ctx.unverifiedVersion;
  if (expected === undefined) return read(false);
  const used = ctx.ability;
  const rows = await read(true);
  const first = rows[0] as { permissions_version?: unknown } | undefined;
  if (first?.permissions_version === expected) {
    if (ctx.unverifiedVersion === expected && ctx.ability === used) ctx.unverifiedVersion = undefined;
    return rows;
  }
  await verifyAbility(ctx);
  return ctx.ability === used ? rows : read(false);
}

/**
 * Whether an operation is made only of root query fields that read through verifiedRows: those
 * run with the cached ability; every other operation has its ability verified before it runs.
 */
export function verifiesItself(operation: OperationDefinitionNode, selfVerifying: ReadonlySet<string>): boolean {
  if (operation.operation !== OperationTypeNode.QUERY) return false;
  // One root field: two could run at once, and each must not act on the other's stale ability.
  const fields = operation.selectionSet.selections;
  const field = fields[0];
  if (fields.length !== 1 || field?.kind !== Kind.FIELD || (field.directives?.length ?? 0) > 0) return false;
  return selfVerifying.has(field.name.value);
}
