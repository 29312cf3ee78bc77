/**
 * Service tags the engine and nodes ask for. Core declares them; `workbench/io` implements them;
 * tests may swap in their own layers.
 */
import { Context, type Effect, type Scope } from "effect"
import type { ColumnSpec, TableSchema } from "./contract.js"
import type { SqlError } from "./errors.js"
import type { RunEvent } from "./events.js"
import type { Manifest, NodeReport } from "./report.js"
import type { ArtifactError, DataError } from "./errors.js"

export type SqlValue = string | number | boolean | null

/** One connection to the table engine (DuckDB). A node gets its own for the length of its run. */
export interface SqlShape {
  readonly run: (sql: string, params?: Readonly<Record<string, SqlValue>>) => Effect.Effect<void, SqlError>
  /** Rows as plain objects; integers come back as numbers. Only for small results. */
  readonly rows: <T = Record<string, unknown>>(
    sql: string,
    params?: Readonly<Record<string, SqlValue>>
  ) => Effect.Effect<ReadonlyArray<T>, SqlError>
  readonly describe: (relation: string) => Effect.Effect<TableSchema, SqlError>
  readonly count: (relation: string) => Effect.Effect<number, SqlError>
  /** Stream a query's columns into JS a chunk at a time (for work SQL cannot do well). */
  readonly scan: (
    sql: string,
    onChunk: (columns: ReadonlyArray<ReadonlyArray<unknown>>, rowCount: number) => void
  ) => Effect.Effect<void, SqlError>
  /** Create `table` from columnar JS data. */
  readonly load: (
    table: string,
    columns: ReadonlyArray<ColumnSpec>,
    data: ReadonlyArray<ArrayLike<unknown>>
  ) => Effect.Effect<void, SqlError>
  /** A table name no one else uses in this process. */
  readonly tempName: (hint: string) => string
  /**
   * `CREATE TABLE <new name> AS <select>`, returning the new table's name (from `tempName(hint)`):
   * the way a node makes its output tables and scratch tables. Dropped when the node's connection closes.
   */
  readonly create: (hint: string, select: string) => Effect.Effect<string, SqlError>
  /** Completion of the statement running now, 0-100, or -1 when the engine has no estimate. */
  readonly progress: () => number
}

export class Sql extends Context.Service<Sql, SqlShape>()("wb/Sql") {}

/** Opens connections to the shared table engine. */
export class Database extends Context.Service<
  Database,
  {
    readonly connect: Effect.Effect<SqlShape, SqlError, Scope.Scope>
  }
>()("wb/Database") {}

/** How a running node reports progress. */
export interface ProgressShape {
  readonly rows: (done: number, total?: number, unit?: string) => Effect.Effect<void>
  readonly note: (text: string) => Effect.Effect<void>
  /**
   * Named values at a step (a trainer's loss and accuracy), drawn as live curves by `wb serve` and shown
   * on the CLI's line: the NodeMetrics event. Throttled for the node (about 10 a second per set of
   * names, the last always sent); non-finite values are left out.
   */
  readonly metrics: (values: Readonly<Record<string, number>>, at: MetricsAt) => Effect.Effect<void>
}
/** Where metric values belong: steps done (the x of a curve), of `steps` when known, in pass `epoch`. */
export interface MetricsAt {
  readonly step: number
  readonly steps?: number | undefined
  readonly epoch?: number | undefined
}
export class Progress extends Context.Service<Progress, ProgressShape>()("wb/Progress") {}

/** Where a pipeline's relative paths resolve. */
export class Workspace extends Context.Service<
  Workspace,
  {
    /** Directory that relative input paths are resolved against (the project root). */
    readonly root: string
    /** The `.wb` directory holding artifacts, the run log and scratch space. */
    readonly dir: string
    /**
     * Set in a sample run (`wb run --sample N`), whose `dir` is a workspace of its own: a node that writes
     * files outside the workspace (an export) writes them inside `dir` instead, never over a full run's.
     */
    readonly sample?: number | undefined
  }
>()("wb/Workspace") {}

export interface PublishTable {
  readonly relation: string
  readonly role: "main" | "rejects" | "removed" | "aux"
}

/**
 * What the store holds under a key. `Damaged`: a manifest exists but a file does not match its recorded
 * size or content hash (or it has no such record); `problem` says which file, what was found and what
 * was recorded. A damaged artifact is never read: the caller treats it as missing and recomputes it.
 */
export type ArtifactLookup =
  | { readonly _tag: "Found"; readonly manifest: Manifest }
  | { readonly _tag: "Missing" }
  | { readonly _tag: "Damaged"; readonly problem: string }

/** Immutable, content-addressed node outputs. */
export class ArtifactStore extends Context.Service<
  ArtifactStore,
  {
    /** Sizes are checked on every lookup; content hashes when a file changed, or on every file with `verify`. */
    readonly lookup: (key: string, options?: { readonly verify?: boolean }) => Effect.Effect<ArtifactLookup>
    /**
     * Writes the new files beside any previous artifact of the same key and swaps the manifest
     * atomically: on failure (a full disk: DataError) the previous artifact is left as it was.
     */
    readonly publish: (
      sql: SqlShape,
      manifest: Omit<Manifest, "tables">,
      tables: Readonly<Record<string, PublishTable>>
    ) => Effect.Effect<Manifest, ArtifactError | DataError | SqlError>
    /** A SQL relation reading one table of a published artifact. */
    readonly relation: (manifest: Manifest, table: string) => string
    /** The same relation plus `_wb_row` = (part << 40) + the row's position in the file. */
    readonly numberedRelation: (manifest: Manifest, table: string, part: number) => string
    readonly file: (manifest: Manifest, table: string) => string
  }
>()("wb/ArtifactStore") {}

/** Durable record of runs, node executions, artifacts and lineage. */
export class RunLog extends Context.Service<
  RunLog,
  {
    readonly start: (pipeline: string, file: string, nodes: ReadonlyArray<string>) => Effect.Effect<string>
    /** `trace`: a failed node's full trace when the failure was a bug (internal error), for the log only. */
    readonly node: (
      runId: string,
      report: NodeReport,
      manifest: Manifest | undefined,
      trace?: string
    ) => Effect.Effect<void>
    readonly finish: (runId: string, status: "ok" | "failed" | "interrupted") => Effect.Effect<void>
  }
>()("wb/RunLog") {}

/** Where run events go: the CLI renders them, the server forwards them. */
export class RunEvents extends Context.Service<
  RunEvents,
  {
    readonly emit: (event: RunEvent) => Effect.Effect<void>
  }
>()("wb/RunEvents") {}

/**
 * A scratch table engine for the infer phase (see infer.ts): it runs `use` on a connection of its own
 * where each of `tables` is an empty table under its own name, typed from its schema, so a node can
 * DESCRIBE a query over its inputs before any data exists. The tables are gone when `use` ends.
 */
export class SchemaProbe extends Context.Service<
  SchemaProbe,
  {
    readonly withTables: <A, E>(
      tables: Readonly<Record<string, TableSchema>>,
      use: (sql: SqlShape) => Effect.Effect<A, E>
    ) => Effect.Effect<A, E | SqlError>
  }
>()("wb/SchemaProbe") {}
