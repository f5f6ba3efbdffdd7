import {
  getNamedType,
  getNullableType,
  isListType,
  isObjectType,
  isInterfaceType,
  Kind,
  valueFromASTUntyped,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  OperationTypeNode,
} from 'graphql';
import { LIMITS } from './limits';

/**
 * The cost of an operation with its variables: every field counts once for each item it may be
 * resolved for. A `first` argument multiplies its field's subtree by its value (or its default);
 * other lists of objects by LIMITS.defaultListSize, except a connection's edges and nodes. Fragments are expanded; unknown fields
 * (validation reports them) cost nothing.
 */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>>,
): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const root =
    operation.operation === OperationTypeNode.QUERY
      ? schema.getQueryType()
      : operation.operation === OperationTypeNode.MUTATION
        ? schema.getMutationType()
        : schema.getSubscriptionType();
  if (root == null) return 0;

  const visit = (selections: SelectionSetNode, type: GraphQLObjectType, multiplier: number, seen: ReadonlySet<string>): number => {
    let cost = 0;
    for (const selection of selections.selections) {
      if (selection.kind === Kind.FIELD) {
        const field: GraphQLField<unknown, unknown> | undefined = type.getFields()[selection.name.value];
        cost += multiplier;
        if (field === undefined || selection.selectionSet === undefined) continue;
        const named = getNamedType(field.type);
        if (!isObjectType(named)) continue;
        let items = 1;
        const firstArgument = field.args.find((arg) => arg.name === 'first' || arg.name === 'snapshot');
        if (firstArgument !== undefined) {
          const given = selection.arguments?.find((arg) => arg.name.value === firstArgument.name);
          const value = given === undefined ? firstArgument.defaultValue : valueFromASTUntyped(given.value, variables);
          items = typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : Number(firstArgument.defaultValue ?? 1) || 1;
        } else if (isListType(getNullableType(field.type)) && !type.name.endsWith('Connection')) {
          // A connection's edges and nodes are the page its field's `first` already counted.
          items = LIMITS.defaultListSize;
        }
        cost += visit(selection.selectionSet, named, multiplier * items, seen);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const condition = selection.typeCondition === undefined ? type : schema.getType(selection.typeCondition.name.value);
        if (isObjectType(condition)) cost += visit(selection.selectionSet, condition, multiplier, seen);
        else if (isInterfaceType(condition)) cost += visit(selection.selectionSet, type, multiplier, seen);
      } else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (fragment === undefined || seen.has(name)) continue; // cycles are a validation error
        const condition = schema.getType(fragment.typeCondition.name.value);
        cost += visit(fragment.selectionSet, isObjectType(condition) ? condition : type, multiplier, new Set([...seen, name]));
      }
    }
    return cost;
  };
  return visit(operation.selectionSet, root, 1, new Set());
}
