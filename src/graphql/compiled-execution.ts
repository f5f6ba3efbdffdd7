import type { GatewayInterface } from '@apollo/server-gateway-interface';
import {
  type DocumentNode,
  execute,
  type ExecutionResult,
  getVariableValues,
  GraphQLError,
  type GraphQLSchema,
  type OperationDefinitionNode,
  OperationTypeNode,
} from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';

/** A document is compiled once it has run this many times: one-off documents are not worth it. */
const HOT_AFTER = 3;

interface Entry {
  runs: number;
  /** The compiled query, or false when graphql-jit could not compile it (then graphql-js runs it). */
  compiled?: CompiledQuery | false;
}

/**
 * Query execution for HTTP: graphql-js for a document's first runs, then the same document
 * compiled by graphql-jit (a page of 50 jobs is some 800 field resolutions, each through
 * graphql-js's generic machinery). Apollo still parses, validates (its document cache keeps one
 * DocumentNode per text, which keys the compiled queries here), runs the plugins and formats
 * the errors; only execution changes. Mutations, and operations whose variables do not coerce
 * (so that their errors are graphql-js's, word for word), always run on graphql-js.
 */
export class CompiledExecution {
  private readonly entries = new WeakMap<DocumentNode, Map<string, Entry>>();
  /** Executions that ran compiled, and in all, and those answered by the hot-query path (tests and the benchmark read them). */
  readonly stats = { compiled: 0, total: 0, hot: 0 };

  constructor(private readonly schema: GraphQLSchema) {}

  async run(
    document: DocumentNode,
    operation: OperationDefinitionNode | undefined,
    operationName: string | null | undefined,
    variables: Readonly<Record<string, unknown>> | undefined,
    contextValue: unknown,
  ): Promise<ExecutionResult> {
    this.stats.total += 1;
    const compiled = operation?.operation === OperationTypeNode.QUERY ? this.compiled(document, operationName ?? '') : undefined;
    if (compiled !== undefined && operation !== undefined && this.variablesCoerce(operation, variables)) {
      this.stats.compiled += 1;
      return withGraphQLErrors(await compiled.query(undefined, contextValue, variables ?? {}));
    }
    return execute({ schema: this.schema, document, contextValue, variableValues: variables, operationName });
  }

  /**
   * The compiled query of a hot query document; undefined while the
   * document is not hot yet (or cannot be compiled). The caller runs it and must hand any
   * answer with errors to graphql-js (`run`), whose error texts are the reference.
   */
  hotQuery(
    document: DocumentNode,
    operation: OperationDefinitionNode,
    operationName: string | null | undefined,
  ): CompiledQuery | undefined {
    if (operation.operation !== OperationTypeNode.QUERY) return undefined;
    const compiled = this.compiled(document, operationName ?? '');
    return compiled;
  }

  /** A hot query's answer was sent (the caller ran it itself). */
  countCompiledRun(): void {
    this.stats.total += 1;
    this.stats.compiled += 1;
    this.stats.hot += 1;
  }

  /** An Apollo Server gateway that only swaps the executor: the schema is ours, as it is. */
  gateway(): GatewayInterface {
    const apiSchema = this.schema;
    let onLoad: ((context: { apiSchema: GraphQLSchema; coreSupergraphSdl: string }) => void) | undefined;
    return {
      onSchemaLoadOrUpdate: (callback) => {
        onLoad = callback;
        return () => (onLoad = undefined);
      },
      load: async () => {
        onLoad?.({ apiSchema, coreSupergraphSdl: '' });
        return {
          executor: (request) =>
            this.run(request.document, request.operation, request.request.operationName, request.request.variables, request.context),
        };
      },
      stop: async () => undefined,
    };
  }

  private compiled(document: DocumentNode, operationName: string): CompiledQuery | undefined {
    let byName = this.entries.get(document);
    if (byName === undefined) this.entries.set(document, (byName = new Map<string, Entry>()));
    let entry = byName.get(operationName);
    if (entry === undefined) byName.set(operationName, (entry = { runs: 0 }));
    entry.runs += 1;
    if (entry.compiled === undefined && entry.runs >= HOT_AFTER) {
      entry.compiled = this.compile(document, operationName);
    }
    return entry.compiled === undefined || entry.compiled === false ? undefined : entry.compiled;
  }

  /** The compiled query, or false: whatever graphql-jit cannot compile (or throws on) stays on graphql-js. */
  private compile(document: DocumentNode, operationName: string): CompiledQuery | false {
    try {
      const result = compileQuery(this.schema, document, operationName === '' ? undefined : operationName);
      return isCompiledQuery(result) ? result : false;
    } catch {
      return false;
    }
  }

  private variablesCoerce(operation: OperationDefinitionNode, variables: Readonly<Record<string, unknown>> | undefined): boolean {
    const definitions = operation.variableDefinitions ?? [];
    return definitions.length === 0 || getVariableValues(this.schema, definitions, variables ?? {}).errors === undefined;
  }
}

/**
 * graphql-jit's errors are its own GraphQLError look-alikes whose `extensions` is undefined when
 * the thrown error had none (a pg connection error, say): Apollo then fails while formatting them
 * and answers a bare "Internal server error" that our formatter never saw (no DATABASE_UNAVAILABLE,
 * no error id in the log). Each becomes the graphql-js GraphQLError graphql-js itself would have
 * made: same message, path, locations and original error, extensions always an object.
 */
function withGraphQLErrors(result: ExecutionResult): ExecutionResult {
  if (result.errors === undefined || result.errors.length === 0) return result;
  const errors = result.errors.map((error) => {
    if (error instanceof GraphQLError && error.constructor === GraphQLError && error.extensions !== undefined) return error;
    const rebuilt = new GraphQLError(error.message, {
      path: error.path,
      originalError: error.originalError ?? undefined,
      extensions: error.extensions ?? undefined,
    });
    if (error.locations !== undefined) (rebuilt as { locations?: GraphQLError['locations'] }).locations = error.locations;
    return rebuilt;
  });
  return { ...result, errors };
}
