// Typed documents for the console (GraphQL Code Generator, client preset) from the API's schema
// (schema/schema.graphql) and the graphql(`...`) documents in web/src. `node web/codegen.mjs`
// writes web/src/gql/; `--check` writes nothing and fails when the checked-in files differ
// (test/console-codegen.test.ts runs it, so CI refuses stale types).
import { readFileSync, readdirSync, writeFileSync, mkdirSync, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildASTSchema, parse } from 'graphql';
import { codegen } from '@graphql-codegen/core';
import { preset } from '@graphql-codegen/client-preset';

const here = path.dirname(fileURLToPath(import.meta.url));
const srcDir = path.join(here, 'src');
const outDir = path.join(srcDir, 'gql') + path.sep;

function sourceFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (full + path.sep === outDir) return [];
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return /\.tsx?$/.test(name) ? [full] : [];
  });
}

/** Every graphql(`...`) call's text, as written (the client preset keys its overloads on it). */
function documentsOf(file) {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/\bgraphql\(\s*`([^`]*)`\s*\)/g)].map((match) => ({
    location: path.relative(here, file),
    rawSDL: match[1],
    document: parse(match[1]),
  }));
}

export async function generate() {
  const schemaText = readFileSync(path.join(here, '..', 'schema', 'schema.graphql'), 'utf8');
  const schema = parse(schemaText);
  const schemaAst = buildASTSchema(schema);
  const documents = sourceFiles(srcDir).sort().flatMap(documentsOf);
  const config = {
    scalars: { DateTime: 'string', JSON: 'unknown', JSONObject: 'Record<string, unknown>' },
    useTypeImports: true,
    enumsAsTypes: true,
    strictScalars: false,
  };
  const outputs = await preset.buildGeneratesSection({
    baseOutputDir: outDir,
    presetConfig: { fragmentMasking: false },
    plugins: [],
    pluginMap: {},
    schema,
    schemaAst,
    documents,
    config,
    documentTransforms: [],
  });
  const files = {};
  for (const output of outputs) {
    files[path.relative(here, output.filename)] = await codegen({ ...output, documentTransforms: [] });
  }
  return files;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const files = await generate();
  const check = process.argv.includes('--check');
  const stale = [];
  for (const [relative, content] of Object.entries(files)) {
    const file = path.join(here, relative);
    const current = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    if (current === content) continue;
    if (check) stale.push(relative);
    else {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, content);
      console.log(`wrote web/${relative}`);
    }
  }
  if (stale.length > 0) {
    console.error(`stale typed documents (run node web/codegen.mjs): ${stale.join(', ')}`);
    process.exit(1);
  }
}
