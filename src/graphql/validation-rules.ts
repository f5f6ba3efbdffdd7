import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { NoSchemaIntrospectionCustomRule, specifiedRules, type ValidationRule } from 'graphql';
import { LIMITS } from './limits';

/**
 * Validation rules beyond graphql-js's own, applied on both transports: Apollo adds them to its
 * standard rules for HTTP, the WebSocket server runs `allValidationRules` itself. In
 * production, introspection is refused on both.
 */
export function extraValidationRules({ production }: { production: boolean }): ValidationRule[] {
  return [
    maxDepthRule({ n: LIMITS.maxDepth, flattenFragments: true }),
    maxAliasesRule({ n: LIMITS.maxAliases }),
    maxDirectivesRule({ n: LIMITS.maxDirectives }),
    ...(production ? [NoSchemaIntrospectionCustomRule] : []),
  ] as ValidationRule[];
}

export function allValidationRules(extra: readonly ValidationRule[]): ValidationRule[] {
  return [...specifiedRules, ...extra];
}
