/**
 * The node API. A node kind declares its params (an Effect Schema with defaults and docs), its named
 * inputs and outputs with table contracts, the services its `run` needs beyond the core ones, and
 * `run`, an Effect that fails with tagged errors.
 *
 * Everything a node declares is also a type: `ctx.inputs.pairs` is an `InputTable` (possibly
 * `undefined` only for an `optionalInput`), `run` must return one table per declared output, and
 * `run` may use only the core services (Sql, Progress, Workspace, ExportFiles) and the ones listed in `requires`.
 * The runtime list is what lets the engine refuse, before anything runs, a node whose service no
 * layer provides.
 *
 * @example
 * export const summary = defineNode({
 *   kind: "report.summary", version: 1, summary: "Counts per source",
 *   params: Schema.Struct({}),
 *   inputs: { pairs: input({ source: "utf8" }) },
 *   outputs: { summary: output("main", { source: "utf8", pairs: "int64" }) },
 *   run: ({ inputs }) => Effect.gen(function*() {
 *     const sql = yield* Sql
 *     const summary = yield* sql.create("summary", `SELECT source, count(*) AS pairs FROM ${inputs.pairs.relation} GROUP BY 1`)
 *     return { tables: { summary } }
 *   })
 * })
 */
import type { Context, Effect, Schema } from "effect"
import type { InputContract, OutputContract, TableSchema } from "./contract.js"
import { type DataError, type NodeError, NodeKindClashError, type SqlError } from "./errors.js"
import type { ExportFiles } from "./export-files.js"
import type { NodeView } from "./views.js"
import type { Progress, SchemaProbe, Sql, Workspace } from "./services.js"

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
  /**
   * Where the rows come from: each upstream node, its table and the artifact key it was read from (one
   * entry per unioned table), for provenance such as an export's data card. Absent when a test or a
   * front end hands a node a relation of its own.
   */
  readonly from?: ReadonlyArray<{ readonly node: string; readonly table: string; readonly key: string }>
}

/** A node's declared inputs, by name. */
export type Inputs = Readonly<Record<string, InputContract>>

/** The inputs a node's run sees: `InputTable`, or `InputTable | undefined` where the input may be left unconnected. */
export type InputTables<I extends Inputs> = {
  readonly [K in keyof I]: I[K] extends InputContract<false> ? InputTable : InputTable | undefined
}

export interface NodeRunContext<P, I extends Inputs = Inputs> {
  /** The node's name in the pipeline. */
  readonly node: string
  /** The node's kind id (`load.hh-rlhf`), for messages. */
  readonly kind: string
  readonly params: P
  readonly inputs: InputTables<I>
  /**
   * A sample run (`wb run --sample N`): a node without inputs (a loader) reads only the first `sample`
   * records of each source, so the whole pipeline runs on a little data. Absent on a full run; never
   * set for nodes with inputs (they see the sampled tables).
   */
  readonly sample?: number | undefined
}

/** What `onCacheHit` gets: the node, its params, and a SQL relation over each table of its cached artifact. */
export interface CacheHitContext<P> {
  readonly node: string
  readonly kind: string
  readonly params: P
  readonly key: string
  readonly tables: Readonly<Record<string, string>>
}

/**
 * What `inferOutputs` gets: the node, its params, and what is known of each connected input before
 * anything runs (the upstream output schemas; `open` when more columns may come).
 */
export interface InferContext<P> {
  readonly node: string
  readonly kind: string
  readonly params: P
  readonly inputs: Readonly<Record<string, TableSchema>>
}

/**
 * What `inferOutputs` found: the schema of each output it can tell (the others come from `outputs`),
 * and notes on what can be checked only when the node runs (`wb validate` prints them).
 */
export interface Inferred<O extends string = string> {
  readonly outputs?: Partial<Record<O, TableSchema>>
  readonly notes?: ReadonlyArray<string>
}

/** What `run` returns: for each declared output, the name of a table it created on its connection. */
export interface NodeOutput<O extends string = string> {
  readonly tables: { readonly [K in O]: string }
  readonly stats?: Readonly<Record<string, number | string>>
  /** Rows the node read, when not simply the sum of its input tables (a loader's source records). */
  readonly rowsIn?: number
}

/**
 * Services every node may use without declaring them: the engine always provides these (ExportFiles:
 * writing a file outside the workspace, as the export family does).
 */
export type CoreServices = Sql | Progress | Workspace | ExportFiles

/** A service a node may list in `requires`: a `Context.Service` class (or any Context key). */
export type ServiceKey = Context.Key<any, any>

/** The services a `requires` list stands for, as the type `run` may use. */
export type ServicesOf<Req extends ReadonlyArray<ServiceKey>> = Req[number] extends infer K
  ? K extends Context.Key<infer Id, any>
    ? Id
    : never
  : never

/** A file a node writes (see `writes`): the path, and the param that names it (for messages). */
export interface FileWrite {
  readonly param: string
  readonly path: string
}

export type ParamsSchema = Schema.ConstraintDecoder<unknown> & Schema.Top

/**
 * A node kind's definition. `O` names its outputs, `I` its inputs; `R` is the services `run` needs
 * beyond the core ones, `E` what it may fail with: any tagged error with a message, best the node
 * family's own `Schema.TaggedError` classes.
 */
export interface NodeDefinition<
  S extends ParamsSchema = ParamsSchema,
  O extends string = string,
  I extends Inputs = Inputs,
  R = never,
  E extends NodeError = NodeError
> {
  /** Unique kebab-case id, `family.preset` (e.g. `load.hh-rlhf`). */
  readonly kind: string
  /** Bump when the output for the same params and inputs changes; it is part of the cache key. */
  readonly version: number
  readonly summary: string
  readonly params: S
  readonly inputs: I
  readonly outputs: Readonly<Record<O, OutputContract<string>>>
  /** Services `run` needs beyond the core ones (Sql, Progress, Workspace, ExportFiles): checked when the graph is built. */
  readonly requires?: ReadonlyArray<ServiceKey>
  /**
   * Inputs under names the pipeline chooses, beyond those in `inputs`, each with this contract: for a
   * kind that reads its inputs by name (a SQL transform: `select … from pairs join votes …`).
   */
  readonly otherInputs?: InputContract
  /**
   * Output schemas only the table engine can tell (a SQL transform's columns), and checks of params
   * against the input columns, run after the graph is built and before anything runs (`wb validate`,
   * `wb run`; see infer.ts). `SchemaProbe` gives a connection where each input is an empty table under
   * its name. Returns the schemas it knows and notes on what only the run can check; a failure is a
   * definition problem of the pipeline, reported with its where (e.g. "param sql"), found, expected, fix.
   */
  inferOutputs?(ctx: InferContext<S["Type"]>): Effect.Effect<Inferred<O>, DataError | SqlError, SchemaProbe>
  /**
   * Extra cache-key material not in params, such as the size and content hash of files a loader
   * reads. `root`: the project root paths resolve against; `workspace`: the workspace directory, where
   * a fingerprint may remember what it computed (file hashes) between runs.
   */
  readonly fingerprint?: (params: S["Type"], root: string, workspace: string) => string
  /** The params as the cache key and the manifest record them, where not the params themselves (an in-memory table: its digest). */
  readonly keyParams?: (params: S["Type"]) => unknown
  /**
   * For a node whose run also changes something outside the workspace (an export's file): called on a
   * cache hit, before the node is reported cached, to check that thing against the artifact and restore
   * it from the artifact's tables where it was deleted or changed. A failure fails the node.
   */
  onCacheHit?(ctx: CacheHitContext<S["Type"]>): Effect.Effect<void, E, CoreServices | R>
  /**
   * The files outside the workspace the node writes, from its params (an export's `to`), each with the
   * param naming it: the graph build refuses a pipeline in which two nodes write the same file (each
   * run would replace the other's; see file-writers.ts). Paths as the params give them.
   */
  writes?(params: S["Type"]): ReadonlyArray<FileWrite>
  /** Charts of its output tables that `wb serve` draws (core/views.ts); no effect on runs or cache keys. */
  readonly views?: ReadonlyArray<NodeView>
  // a method, so that a definition with typed inputs is still a NodeDefinition (parameters compare bivariantly)
  run(ctx: NodeRunContext<S["Type"], I>): Effect.Effect<NodeOutput<O>, E, CoreServices | R>
}

/** What `defineNode` takes: a definition whose `requires` list also gives `run` its service types. */
export interface NodeDeclaration<
  S extends ParamsSchema,
  O extends string,
  I extends Inputs,
  Req extends ReadonlyArray<ServiceKey>,
  E extends NodeError,
  T extends NodeOutput<O> = NodeOutput<O>,
  L extends string = string,
  R = CoreServices | ServicesOf<Req>
> {
  readonly kind: string
  readonly version: number
  readonly summary: string
  readonly params: S
  readonly inputs: I
  /** `L`: the inputs outputLike outputs copy (checked against `inputs` by defineNode). */
  readonly outputs: Readonly<Record<O, OutputContract<L>>>
  readonly requires?: Req
  readonly otherInputs?: InputContract
  readonly inferOutputs?: (
    ctx: InferContext<S["Type"]>
  ) => Effect.Effect<Inferred<NoInfer<O>>, DataError | SqlError, SchemaProbe>
  readonly fingerprint?: (params: S["Type"], root: string, workspace: string) => string
  readonly keyParams?: (params: S["Type"]) => unknown
  readonly onCacheHit?: (ctx: CacheHitContext<S["Type"]>) => Effect.Effect<void, E, CoreServices | ServicesOf<Req>>
  readonly writes?: (params: S["Type"]) => ReadonlyArray<FileWrite>
  readonly views?: ReadonlyArray<NodeView>
  /** `R`: the services run uses; defineNode checks them against the core ones and `requires`. */
  readonly run: (ctx: NodeRunContext<S["Type"], I>) => Effect.Effect<T, E, R>
}

/** Names among `T`'s tables that are not declared outputs. */
type Undeclared<T extends NodeOutput, O extends string> = Exclude<keyof T["tables"], O> & string

/**
 * A compile error on `run` when it returns a table that is not a declared output. (A run that only
 * fails returns `never`; tables typed as a plain record cannot be checked by name.)
 */
type OnlyDeclaredOutputs<T extends NodeOutput, O extends string> = [T] extends [never]
  ? unknown
  : string extends keyof T["tables"]
    ? unknown
    : [Undeclared<T, O>] extends [never]
      ? unknown
      : { readonly run: `run returns tables that are not declared outputs: ${Undeclared<T, O>}` }

/**
 * A compile error on `outputs` when an `outputLike` output copies an input the kind does not declare:
 * a typo there would leave the output's columns unknown, and every node below it unchecked.
 */
type OnlyDeclaredLikes<L extends string, I extends Inputs> = [Exclude<L, keyof I>] extends [never]
  ? unknown
  : { readonly outputs: `outputLike copies an input the kind does not declare: ${Exclude<L, keyof I>}` }

/** A service's key for messages ("my/RewardModel"): class-style services carry it in their type. */
type ServiceName<S> = S extends { readonly key: infer K extends string } ? K : "(a service without a string key)"

/**
 * A compile error on `run` when it uses a service that is neither a core one nor listed in `requires`:
 * the engine checks `requires` against the run's layers before anything runs, so the list must not
 * fall behind the code. (Without this check tsc still refuses such a run, but explains it through the
 * shape of an unrelated core service.)
 */
type OnlyListedServices<R, Allowed> = 0 extends 1 & R
  ? unknown
  : [Exclude<R, Allowed>] extends [never]
    ? unknown
    : {
        readonly run: `run uses services that requires does not list: ${ServiceName<Exclude<R, Allowed>>} (add them to requires)`
      }

/** The contract of a node's input `name`: a declared input, else `otherInputs` (undefined: not an input of the kind). */
export const inputContract = (definition: NodeDefinition, name: string): InputContract | undefined =>
  Object.hasOwn(definition.inputs, name) ? definition.inputs[name] : definition.otherInputs

/** A configured use of a node kind: what `p.node(name, spec)` receives. */
export interface NodeSpec<O extends string = string> {
  readonly kind: string
  readonly params: unknown
  readonly definition?: NodeDefinition<ParamsSchema, O>
}

/** A node kind: call it with params to configure it in a pipeline. */
export interface NodeKind<
  S extends ParamsSchema = ParamsSchema,
  O extends string = string,
  I extends Inputs = Inputs,
  R = never,
  E extends NodeError = NodeError
> {
  (params?: S["Encoded"]): NodeSpec<O>
  readonly definition: NodeDefinition<S, O, I, R, E>
}

/**
 * Declare a node kind. Params are decoded once, when the graph is built; a service in `requires` that
 * no layer provides stops the pipeline before any node runs.
 */
export function defineNode<
  S extends ParamsSchema,
  O extends string,
  const I extends Inputs,
  const Req extends ReadonlyArray<ServiceKey> = readonly [],
  E extends NodeError = never,
  // the output names come from `outputs` alone (NoInfer); `run` must return a table for each, and no other
  T extends NodeOutput<NoInfer<O>> = NodeOutput<NoInfer<O>>,
  // the inputs that outputLike outputs copy: each must be declared in `inputs`
  const L extends string = never,
  // the services run uses: each a core one or listed in `requires`
  R = never
>(
  declaration: NodeDeclaration<S, O, I, Req, E, T, L, R> &
    OnlyDeclaredOutputs<T, NoInfer<O>> &
    OnlyDeclaredLikes<L, I> &
    OnlyListedServices<R, CoreServices | ServicesOf<NoInfer<Req>>>
): NodeKind<S, O, I, ServicesOf<Req>, E> {
  const definition = declaration as NodeDefinition<S, O, I, ServicesOf<Req>, E>
  const make = (params?: S["Encoded"]): NodeSpec<O> => ({
    kind: definition.kind,
    params: params ?? {},
    definition: definition as unknown as NodeDefinition<ParamsSchema, O>
  })
  return Object.assign(make, { definition })
}

/**
 * A set of node kinds by id: what YAML pipelines and `wb nodes` resolve against. `names` gives the
 * TypeScript name of a kind where it differs from its id (`load.hh-rlhf` is `load.hhRlhf(...)`).
 */
export interface NodeRegistry extends ReadonlyMap<string, NodeDefinition> {
  readonly names?: ReadonlyMap<string, string>
}

type AnyKind = { readonly definition: NodeDefinition<any, any, any, any, any> }

/**
 * A registry from a list of kinds, or from families of kinds by their TypeScript names
 * (`registryOf({ load, dedupe })`), which `wb nodes` then shows beside each kind id.
 */
export function registryOf(
  kinds: ReadonlyArray<AnyKind> | Readonly<Record<string, Readonly<Record<string, AnyKind>>>>,
  /** How errors name where the kinds come from ("wb.config.ts"). */
  source = "registryOf(...)"
): NodeRegistry {
  const registry = new Map<string, NodeDefinition>()
  const names = new Map<string, string>()
  // where each id was registered from, for a clash: a later kind with the same id must not replace it unseen
  const seenAs = new Map<string, string>()
  const add = (k: AnyKind, as: string, tsName?: string) => {
    const { kind } = k.definition
    const existing = registry.get(kind)
    if (existing !== undefined && existing !== k.definition) {
      throw new NodeKindClashError({ kind, added: `${source} as ${as}`, existing: `${source} as ${seenAs.get(kind)}` })
    }
    registry.set(kind, k.definition as NodeDefinition)
    seenAs.set(kind, as)
    if (tsName !== undefined && tsName !== kind) names.set(kind, tsName)
  }
  if (Array.isArray(kinds)) {
    for (const [i, k] of (kinds as ReadonlyArray<AnyKind>).entries()) add(k, `[${i}] (${k.definition.kind})`)
  } else {
    for (const [family, members] of Object.entries(
      kinds as Readonly<Record<string, Readonly<Record<string, AnyKind>>>>
    )) {
      for (const [name, k] of Object.entries(members)) add(k, `${family}.${name}`, `${family}.${name}`)
    }
  }
  return Object.assign(registry, { names })
}
