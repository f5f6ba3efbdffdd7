import { registerEnumType } from 'type-graphql';

/**
 * A GraphQL enum from its values and their descriptions: the runtime object (`X.VALUE`), the
 * type (`keyof typeof X`) and the schema's documentation come from one literal.
 */
export function graphqlEnum<const V extends Record<string, string>>(
  name: string,
  description: string,
  values: V,
): { readonly [K in keyof V]: K } {
  const object = Object.fromEntries(Object.keys(values).map((value) => [value, value])) as { readonly [K in keyof V]: K };
  registerEnumType(object as Record<string, string>, {
    name,
    description,
    valuesConfig: Object.fromEntries(Object.entries(values).map(([value, text]) => [value, { description: text }])),
  });
  return object;
}
