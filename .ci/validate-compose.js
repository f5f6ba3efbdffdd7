#!/usr/bin/env node
// Validates docker-compose.yml against the Compose Specification's JSON schema, since CI has no
// Docker to run `docker compose config`. The schema, .ci/compose-spec.schema.json, is the
// specification's published schema/compose-spec.json as shipped in the npm package dclint@3.1.0
// (schemas/compose.schema.json); replace it with a newer one the same way.
//
// Variables are interpolated as Compose does with an empty environment (${VAR:-default} takes
// its default, ${VAR} is empty), then the result is validated.
'use strict';
const { readFileSync } = require('node:fs');
const path = require('node:path');
const Ajv = require('ajv');
const { parse } = require('yaml');

/** Compose's interpolation with no variable set: defaults, else empty; `$$` is a literal `$`. */
function interpolate(value) {
  if (typeof value === 'string') {
    return value.replace(
      /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])((?:[^}]|\}(?!$))*?))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
      (match, name, op, arg) => {
        if (match === '$$') return '$';
        if (op === ':?' || op === '?') throw new Error(`${name} is required: ${arg}`);
        if (op === ':-' || op === '-') return arg;
        return '';
      },
    );
  }
  if (Array.isArray(value)) return value.map(interpolate);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, interpolate(item)]));
  return value;
}

/** The schema's complaints about `text` (a compose file), as readable lines; empty when it is valid. */
function validateCompose(text) {
  const schema = JSON.parse(readFileSync(path.join(__dirname, 'compose-spec.schema.json'), 'utf8'));
  // strict off: the schema uses annotations (deprecated) that Ajv's strict mode refuses.
  const ajv = new Ajv({ allErrors: true, strict: false });
  // The schema names draft-07 by its https address; Ajv knows draft-07 by its http one.
  ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-07.json'), schema.$schema);
  const validate = ajv.compile(schema);
  let document;
  try {
    document = interpolate(parse(text, { merge: true }));
  } catch (error) {
    return [`not a compose file: ${error.message}`];
  }
  if (validate(document)) return [];
  return validate.errors.map(
    (error) =>
      `${error.instancePath || '/'} ${error.message}${error.params && error.params.additionalProperty ? `: ${error.params.additionalProperty}` : ''}`,
  );
}

module.exports = { validateCompose };

if (require.main === module) {
  const file = process.argv[2] ?? path.join(__dirname, '..', 'docker-compose.yml');
  const problems = validateCompose(readFileSync(file, 'utf8'));
  if (problems.length > 0) {
    process.stderr.write(
      `${path.basename(file)} does not follow the Compose Specification:\n${problems.map((line) => `  ${line}`).join('\n')}\n`,
    );
    process.exit(1);
  }
  process.stdout.write(`${path.basename(file)} follows the Compose Specification\n`);
}
