import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { type GraphQLError, NoSchemaIntrospectionCustomRule, specifiedRules, type ValidationContext, type ValidationRule } from 'graphql';
import { LIMITS } from './limits';

/**
 * Validation rules beyond graphql-js's own, applied on both transports: Apollo adds them to its
 * standard rules for HTTP, the WebSocket server runs `allValidationRules` itself. In
 * production, introspection is refused on both.
 */
export function extraValidationRules({ production }: { production: boolean }): ValidationRule[] {
  // By default the armor rules throw, which would fail the request as an internal error (and
  // close a WebSocket with 4500): report the violation as a validation error instead.
  const report = {
    propagateOnRejection: false,
    onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(error)],
  };
  return [
    maxDepthRule({ n: LIMITS.maxDepth, flattenFragments: true, ...report }),
    maxAliasesRule({ n: LIMITS.maxAliases, ...report }),
    maxDirectivesRule({ n: LIMITS.maxDirectives, ...report }),
    ...(production ? [NoSchemaIntrospectionCustomRule] : []),
  ] as ValidationRule[];
}

export function allValidationRules(extra: readonly ValidationRule[]): ValidationRule[] {
  return [...specifiedRules, ...extra];
}
