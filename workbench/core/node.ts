/**
 * The node API. A node kind declares its params (an Effect Schema with defaults and docs), its named
 * inputs and outputs with table contracts, and `run`, an Effect that asks for services.
 *
 * @example
 * export const summary = defineNode({
 *   kind: "report.summary", version: 1, summary: "Counts per source",
 *   params: Schema.Struct({}),
 *   inputs: { pairs: input({ source: "utf8" }) },
 *   outputs: { summary: output("main", { source: "utf8", pairs: "int64" }) },
 *   run: ({ inputs }) => Effect.gen(function*() { ... return { tables: { summary: "t" } } })
 * })
 */
import type { Effect, Schema } from "effect"
import type { InputContract, OutputContract, TableSchema } from "./contract.js"
import type { NodeError } from "./errors.js"
import type { Progress, Sql, Workspace } from "./services.js"

/** An input as a node sees it at run time: a SQL relation over the upstream artifact(s). */
export interface InputTable {
  readonly relation: string
  /**
   * The same rows with one more column, `_wb_row` (BIGINT): a stable position, increasing in input
   * order (upstream table by upstream table, then row by row). Use it for "first" rules instead of
   * copying the input to get row numbers: SQL engines do not promise an order otherwise.
   */
  readonly numbered: string
  readonly schema: TableSchema
  readonly rows: number
}

export interface NodeRunContext<P> {
  /** The node's name in the pipeline. */
  readonly node: string
  readonly params: P
  readonly inputs: Readonly<Record<string, InputTable | undefined>>
}

/** What `run` returns: for each output, the name of a table it created on its connection. */
export interface NodeOutput {
  readonly tables: Readonly<Record<string, string>>
  readonly stats?: Readonly<Record<string, number | string>>
  /** Rows the node read, when not simply the sum of its input tables (a loader's source records). */
  readonly rowsIn?: number
}

export type NodeServices = Sql | Progress | Workspace

export type ParamsSchema = Schema.ConstraintDecoder<unknown> & Schema.Top

export interface NodeDefinition<S extends ParamsSchema = ParamsSchema, O extends string = string> {
  /** Unique kebab-case id, `family.preset` (e.g. `load.hh-rlhf`). */
  readonly kind: string
  /** Bump when the output for the same params and inputs changes; it is part of the cache key. */
  readonly version: number
  readonly summary: string
  readonly params: S
  readonly inputs: Readonly<Record<string, InputContract>>
  readonly outputs: Readonly<Record<O, OutputContract>>
  /** Extra cache-key material not in params, such as the size and mtime of files a loader reads. */
  readonly fingerprint?: (params: S["Type"], root: string) => string
  readonly run: (ctx: NodeRunContext<S["Type"]>) => Effect.Effect<NodeOutput, NodeError, NodeServices>
}

/** A configured use of a node kind: what `p.node(name, spec)` receives. */
export interface NodeSpec<O extends string = string> {
  readonly kind: string
  readonly params: unknown
  readonly definition?: NodeDefinition<ParamsSchema, O>
}

/** A node kind: call it with params to configure it in a pipeline. */
export interface NodeKind<S extends ParamsSchema = ParamsSchema, O extends string = string> {
  (params?: S["Encoded"]): NodeSpec<O>
  readonly definition: NodeDefinition<S, O>
}

/** Declare a node kind. Params are decoded once, when the graph is built. */
export function defineNode<S extends ParamsSchema, O extends string>(
  definition: NodeDefinition<S, O>
): NodeKind<S, O> {
  const make = (params?: S["Encoded"]): NodeSpec<O> => ({
    kind: definition.kind,
    params: params ?? {},
    definition: definition as unknown as NodeDefinition<ParamsSchema, O>
  })
  return Object.assign(make, { definition })
}

/** A set of node kinds by id: what YAML pipelines and `wb nodes` resolve against. */
export type NodeRegistry = ReadonlyMap<string, NodeDefinition>

export const registryOf = (kinds: ReadonlyArray<{ readonly definition: NodeDefinition<any, any> }>): NodeRegistry =>
  new Map(kinds.map((k) => [k.definition.kind, k.definition as NodeDefinition]))
