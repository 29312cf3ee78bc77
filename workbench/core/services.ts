/**
 * Service tags the engine and nodes ask for. Core declares them; `workbench/io` implements them;
 * tests may swap in their own layers.
 */
import { Context, type Effect, type Scope } from "effect"
import type { ColumnSpec, TableSchema } from "./contract.js"
import type { SqlError } from "./errors.js"
import type { RunEvent } from "./events.js"
import type { Manifest, NodeReport } from "./report.js"
import type { ArtifactError } from "./errors.js"

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
  /** Completion of the statement running now, 0-100, or -1 when the engine has no estimate. */
  readonly progress: () => number
}

export class Sql extends Context.Service<Sql, SqlShape>()("wb/Sql") {}

/** Opens connections to the shared table engine. */
export class Database extends Context.Service<Database, {
  readonly connect: Effect.Effect<SqlShape, SqlError, Scope.Scope>
}>()("wb/Database") {}

/** How a running node reports progress. */
export interface ProgressShape {
  readonly rows: (done: number, total?: number, unit?: string) => Effect.Effect<void>
  readonly note: (text: string) => Effect.Effect<void>
}
export class Progress extends Context.Service<Progress, ProgressShape>()("wb/Progress") {}

/** Where a pipeline's relative paths resolve. */
export class Workspace extends Context.Service<Workspace, {
  /** Directory that relative input paths are resolved against (the project root). */
  readonly root: string
  /** The `.wb` directory holding artifacts, the run log and scratch space. */
  readonly dir: string
}>()("wb/Workspace") {}

export interface PublishTable {
  readonly relation: string
  readonly role: "main" | "rejects" | "removed" | "aux"
}

/** Immutable, content-addressed node outputs. */
export class ArtifactStore extends Context.Service<ArtifactStore, {
  readonly lookup: (key: string) => Effect.Effect<Manifest | undefined>
  readonly publish: (
    sql: SqlShape,
    manifest: Omit<Manifest, "tables">,
    tables: Readonly<Record<string, PublishTable>>
  ) => Effect.Effect<Manifest, ArtifactError | SqlError>
  /** A SQL relation reading one table of a published artifact. */
  readonly relation: (manifest: Manifest, table: string) => string
  /** The same relation plus `_wb_row` = (part << 40) + the row's position in the file. */
  readonly numberedRelation: (manifest: Manifest, table: string, part: number) => string
  readonly file: (manifest: Manifest, table: string) => string
}>()("wb/ArtifactStore") {}

/** Durable record of runs, node executions, artifacts and lineage. */
export class RunLog extends Context.Service<RunLog, {
  readonly start: (pipeline: string, file: string, nodes: ReadonlyArray<string>) => Effect.Effect<string>
  readonly node: (runId: string, report: NodeReport, manifest: Manifest | undefined) => Effect.Effect<void>
  readonly finish: (runId: string, status: "ok" | "failed" | "interrupted") => Effect.Effect<void>
}>()("wb/RunLog") {}

/** Where run events go: the CLI renders them, the server forwards them. */
export class RunEvents extends Context.Service<RunEvents, {
  readonly emit: (event: RunEvent) => Effect.Effect<void>
}>()("wb/RunEvents") {}
