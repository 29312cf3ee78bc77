/**
 * A run's output tables as Arrow, for library users: `result.table("clean").toArrow()`.
 *
 * This module names the tables and checks that they exist; the reading (DuckDB over the Parquet
 * artifact, then apache-arrow) is in `arrow-read.ts`, loaded on the first read, so importing
 * "preference-workbench" does not load apache-arrow.
 */
import type { RecordBatch, Table } from "apache-arrow"
import { DataError } from "../core/errors.js"
import type { NodeReport } from "../core/report.js"

/** One output table of a finished run. */
export interface ResultTable {
  readonly node: string
  readonly table: string
  /** The Parquet artifact holding its rows (read-only: artifacts are shared by every run that hits the cache). */
  readonly file: string
  readonly rows: number
  /**
   * All rows as one apache-arrow Table. Types: utf8 -> Utf8, json -> Utf8 marked `arrow.json` (the
   * canonical extension name, in the field's metadata), int64 -> Int64 (bigint values), int32 -> Int32,
   * float64 -> Float64, bool -> Bool, timestamp -> Timestamp (ms), date -> DateDay, list<utf8> -> List<Utf8>,
   * list<int32> -> List<Int32>, list<float32> -> List<Float32>, blob -> Binary (Uint8Array values).
   */
  toArrow(): Promise<Table>
  /**
   * The rows as RecordBatches of at most `batchRows` rows (default 65,536), read as they are
   * consumed: memory stays at about one batch however large the table. Stopping early (`break`)
   * closes the reader.
   */
  toArrowBatches(options?: { readonly batchRows?: number }): AsyncIterable<RecordBatch>
}

/** One table of a node's artifact. */
export interface ArtifactTable {
  readonly file: string
  readonly rows: number
  readonly role: "main" | "rejects" | "removed" | "aux"
}

/** What a finished run offers to read. */
export interface RunTables {
  readonly pipeline: string
  readonly reports: ReadonlyArray<NodeReport>
  /** node -> its tables, for nodes that ran or were cached */
  readonly tables: ReadonlyMap<string, Readonly<Record<string, ArtifactTable>>>
}

const reader = () => import("./arrow-read.js")

/**
 * The table `ref` names: `"node"` (its main table) or `"node.table"`. Throws a DataError naming the
 * pipeline's nodes or the node's tables when there is no such table, and saying why when the node
 * has no output (it failed, or did not run).
 */
export function resultTable(run: RunTables, ref: string): ResultTable {
  const dot = ref.indexOf(".")
  const node = dot < 0 ? ref : ref.slice(0, dot)
  const where = `result.table(${JSON.stringify(ref)})`
  const report = run.reports.find((r) => r.name === node)
  if (report === undefined) {
    throw new DataError({
      where,
      found: `pipeline "${run.pipeline}" has no node "${node}"`,
      expected: `one of: ${run.reports.map((r) => r.name).join(", ")}`,
      fix: `name a node of the pipeline, optionally with a table: "${run.reports[0]?.name ?? "node"}.pairs"`
    })
  }
  const tables = run.tables.get(node)
  if (tables === undefined) {
    throw new DataError({
      where,
      found: `node "${node}" ${report.status === "failed" ? "failed" : "did not run"}${report.error === undefined ? "" : `: ${report.error.split("\n")[0]}`}`,
      expected: "a node that ran or was cached in this run",
      fix: "see result.report for the failure, fix it and run again"
    })
  }
  const names = Object.keys(tables)
  const table = dot < 0 ? (names.find((t) => tables[t]!.role === "main") ?? names[0]!) : ref.slice(dot + 1)
  const artifact = tables[table]
  if (artifact === undefined) {
    throw new DataError({
      where,
      found: `node "${node}" has no table "${table}"`,
      expected: `one of its tables: ${names.join(", ")}`,
      fix: `use "${node}.${names[0]}" (or "${node}" for its main table)`
    })
  }
  const name = `${node}.${table}`
  return {
    node,
    table,
    file: artifact.file,
    rows: artifact.rows,
    toArrow: async () => (await reader()).readArrowTable(artifact.file, name),
    toArrowBatches: (options) => ({
      async *[Symbol.asyncIterator]() {
        yield* (await reader()).readArrowBatches(artifact.file, name, options?.batchRows)
      }
    })
  }
}
