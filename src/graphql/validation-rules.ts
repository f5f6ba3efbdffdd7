import { specifiedRules, type ValidationRule } from 'graphql';

/**
 * Validation rules beyond graphql-js's own, applied on both transports: Apollo adds them to its
 * standard rules for HTTP, the WebSocket server runs `allValidationRules` itself.
 */
export function extraValidationRules(): ValidationRule[] {
  return [];
}

export function allValidationRules(extra: readonly ValidationRule[]): ValidationRule[] {
  return [...specifiedRules, ...extra];
}
