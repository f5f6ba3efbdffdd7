import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isScalarType,
  isSpecifiedScalarType,
  isIntrospectionType,
  type GraphQLSchema,
} from 'graphql';
import { jobwatchSchema, printJobwatchSchema } from '../src/app/schema';

const SCHEMA_FILE = path.resolve(__dirname, '..', 'schema', 'schema.graphql');

test('schema/schema.graphql is what the code generates (run `npm run schema` after changing the API)', async () => {
  expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(await printJobwatchSchema());
});

/** Every type, field, argument, input field and enum value a client can see, lacking a description. */
function undocumented(schema: GraphQLSchema): string[] {
  const missing: string[] = [];
  const check = (description: string | null | undefined, where: string) => {
    if (description == null || description.trim() === '') missing.push(where);
  };
  for (const type of Object.values(schema.getTypeMap())) {
    if (isIntrospectionType(type) || (isScalarType(type) && isSpecifiedScalarType(type))) continue;
    if (type === schema.getQueryType() || type === schema.getMutationType() || type === schema.getSubscriptionType()) {
      // root types need no description of their own; their fields do
    } else {
      check(type.description, type.name);
    }
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        check(field.description, `${type.name}.${field.name}`);
        for (const arg of field.args) check(arg.description, `${type.name}.${field.name}(${arg.name})`);
      }
    } else if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) check(field.description, `${type.name}.${field.name}`);
    } else if (isEnumType(type)) {
      for (const value of type.getValues()) check(value.description, `${type.name}.${value.name}`);
    }
  }
  return missing;
}

test('every type, field, argument and enum value has a description', async () => {
  expect(undocumented(await jobwatchSchema())).toEqual([]);
});

/** The operations of DOMAIN.md, with their argument types: frontends and workers rely on them. */
const CONTRACT: Record<'Query' | 'Mutation', Record<string, { type: string; args: Record<string, string> }>> = {
  Query: {
    me: { type: 'Viewer!', args: {} },
    jobs: { type: 'JobConnection!', args: { filter: 'JobFilter', orderBy: 'JobOrder', first: 'Int', after: 'String' } },
    job: { type: 'Job', args: { id: 'ID!' } },
    jobCounts: { type: '[JobStatusCount!]!', args: { filter: 'JobFilter' } },
    roles: { type: '[Role!]!', args: {} },
    grants: { type: '[Grant!]!', args: { userId: 'String' } },
  },
  Mutation: {
    createJob: { type: 'Job!', args: { input: 'CreateJobInput!' } },
    startJob: { type: 'Job!', args: { id: 'ID!' } },
  },
};

test('the operations of DOMAIN.md are in the schema with their arguments', async () => {
  const schema = await jobwatchSchema();
  for (const [root, operations] of Object.entries(CONTRACT)) {
    const type = root === 'Query' ? schema.getQueryType() : schema.getMutationType();
    for (const [name, expected] of Object.entries(operations)) {
      const field = type?.getFields()[name];
      expect([name, String(field?.type)]).toEqual([name, expected.type]);
      const args = Object.fromEntries((field?.args ?? []).map((arg) => [arg.name, String(arg.type)]));
      expect([name, args]).toEqual([name, expected.args]);
    }
  }
  const jobsField = schema.getQueryType()?.getFields()['jobs'];
  const first = jobsField?.args.find((arg) => arg.name === 'first');
  expect(first?.defaultValue).toBe(50);
});
