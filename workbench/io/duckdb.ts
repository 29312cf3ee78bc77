/**
 * The table engine: one in-process DuckDB (in memory, spilling to `.wb/tmp`) shared by all nodes of
 * a run, each node on its own connection. Raw DuckDB calls live here and nowhere else.
 */
import { DuckDBInstance, FLOAT, INTEGER, LIST, type DuckDBConnection, type DuckDBValue } from "./duckdb-api.js"
import { Effect, Layer } from "effect"
import { mkdirSync } from "node:fs"
import { totalmem, availableParallelism } from "node:os"
import type { ColumnType } from "../core/column-type.js"
import type { ColumnSpec, TableSchema } from "../core/contract.js"
import { SqlError } from "../core/errors.js"
import { Database, type SqlShape, type SqlValue } from "../core/services.js"
import { appendChunks, chunkable } from "./duckdb-chunks.js"
import { sqlString } from "./sql-text.js"

export { sqlString }

export interface DuckDbOptions {
  readonly tempDirectory: string
  readonly threads?: number
  /** DuckDB syntax, e.g. "8GB". Default: 60% of RAM, leaving room for Node's own heap. */
  readonly memoryLimit?: string
}

/** DuckDB type name -> engine column type. */
export function columnTypeOf(duckType: string): ColumnType {
  const t = duckType.toUpperCase()
  if (t === "VARCHAR") return "utf8"
  if (t === "JSON") return "json"
  if (t === "BIGINT" || t === "UBIGINT" || t === "HUGEINT" || t === "UINTEGER") return "int64"
  if (t === "INTEGER" || t === "SMALLINT" || t === "TINYINT" || t === "USMALLINT" || t === "UTINYINT") return "int32"
  if (t === "DOUBLE" || t === "FLOAT" || t.startsWith("DECIMAL")) return "float64"
  if (t === "BOOLEAN") return "bool"
  if (t.startsWith("TIMESTAMP")) return "timestamp"
  if (t === "VARCHAR[]") return "list<utf8>"
  if (t === "INTEGER[]") return "list<int32>"
  if (t === "FLOAT[]") return "list<float32>"
  if (t === "BLOB") return "blob"
  return duckType.toLowerCase()
}

/** Engine column type -> DuckDB type name, for tables created from JS data. */
export function duckTypeOf(type: ColumnType): string {
  switch (type) {
    case "utf8":
      return "VARCHAR"
    case "json":
      return "JSON"
    case "int64":
      return "BIGINT"
    case "int32":
      return "INTEGER"
    case "float64":
      return "DOUBLE"
    case "bool":
      return "BOOLEAN"
    case "timestamp":
      return "TIMESTAMP"
    case "list<utf8>":
      return "VARCHAR[]"
    case "list<int32>":
      return "INTEGER[]"
    case "list<float32>":
      return "FLOAT[]"
    case "blob":
      return "BLOB"
    default:
      return type.toUpperCase()
  }
}

const toJs = (v: unknown): unknown =>
  typeof v === "bigint" ? (Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()) : v

const fail = (sql: string) => (e: unknown) => new SqlError({ sql, reason: e instanceof Error ? e.message : String(e) })

let nameCounter = 0

const INTEGER_LIST = LIST(INTEGER)
const FLOAT_LIST = LIST(FLOAT)

/** A list cell from a JS array or typed array (Int32Array, Float32Array): the appender takes plain arrays. */
const listItems = (v: unknown): ReadonlyArray<number> =>
  Array.isArray(v) ? (v as Array<number>) : Array.from(v as ArrayLike<number>)

/** Wrap one connection as the engine's `SqlShape`; interrupting an effect interrupts its query. */
export function sqlOn(con: DuckDBConnection, created: Set<string> = new Set()): SqlShape {
  const call = <A>(sql: string, f: () => Promise<A>) =>
    Effect.tryPromise({
      try: (signal) => {
        signal.addEventListener("abort", () => con.interrupt(), { once: true })
        return f()
      },
      catch: fail(sql)
    })
  const values = (params?: Readonly<Record<string, SqlValue>>) => params as Record<string, DuckDBValue> | undefined
  const self: SqlShape = {
    run: (sql, params) => call(sql, () => con.run(sql, values(params))).pipe(Effect.asVoid),
    rows: <T>(sql: string, params?: Readonly<Record<string, SqlValue>>) =>
      call(sql, async () => {
        const reader = await con.runAndReadAll(sql, values(params))
        return reader.getRowObjectsJS().map((row) => {
          const out: Record<string, unknown> = {}
          for (const [k, v] of Object.entries(row)) out[k] = toJs(v)
          return out as T
        })
      }),
    describe: (relation) =>
      call(`DESCRIBE ${relation}`, async () => {
        const reader = await con.runAndReadAll(`DESCRIBE SELECT * FROM ${relation}`)
        const columns: Array<ColumnSpec> = reader.getRowObjectsJS().map((r) => ({
          name: String(r["column_name"]),
          type: columnTypeOf(String(r["column_type"]))
        }))
        return { columns, open: false } satisfies TableSchema
      }),
    count: (relation) =>
      call(`SELECT count(*) FROM ${relation}`, async () => {
        const reader = await con.runAndReadAll(`SELECT count(*)::BIGINT AS n FROM ${relation}`)
        return Number(reader.getRowObjectsJS()[0]!["n"])
      }),
    scan: (sql, onChunk) =>
      call(sql, async () => {
        const result = await con.stream(sql)
        for (;;) {
          const chunk = await result.fetchChunk()
          if (chunk === null || chunk.rowCount === 0) break
          onChunk(chunk.getColumns(), chunk.rowCount)
          // free native memory now: V8 does not see it and would collect the wrapper late
          chunk.reset?.()
        }
      }),
    load: (table, columns, data) =>
      call(`append into ${table}`, async () => {
        await con.run(
          `CREATE OR REPLACE TABLE ${table} (${columns.map((c) => `"${c.name}" ${duckTypeOf(c.type)}`).join(", ")})`
        )
        const appender = await con.createAppender(table)
        if (chunkable(columns)) {
          // lists: whole chunks, 60x faster than appendList (duckdb-chunks.ts)
          appendChunks(appender, columns, data)
          appender.closeSync()
          return
        }
        const n = data[0]?.length ?? 0
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < columns.length; j++) {
            const v = data[j]![i]
            if (v === null || v === undefined || (typeof v === "number" && Number.isNaN(v))) appender.appendNull()
            else if (columns[j]!.type === "int64") appender.appendBigInt(BigInt(v as number))
            else if (columns[j]!.type === "int32") appender.appendInteger(v as number)
            else if (columns[j]!.type === "float64") appender.appendDouble(v as number)
            else if (columns[j]!.type === "bool") appender.appendBoolean(v as boolean)
            else if (columns[j]!.type === "list<int32>") appender.appendList(listItems(v), INTEGER_LIST)
            else if (columns[j]!.type === "list<float32>") appender.appendList(listItems(v), FLOAT_LIST)
            else if (columns[j]!.type === "blob") appender.appendBlob(v as Uint8Array)
            else appender.appendVarchar(String(v))
          }
          appender.endRow()
        }
        appender.closeSync()
      }),
    progress: () => {
      try {
        return con.progress.percentage
      } catch {
        return -1
      }
    },
    tempName: (hint) => {
      const name = `wb_${hint.replace(/[^A-Za-z0-9_]/g, "_")}_${process.pid}_${++nameCounter}`
      created.add(name)
      return name
    },
    create: (hint, select) => {
      const name = self.tempName(hint)
      return Effect.as(self.run(`CREATE TABLE ${name} AS ${select}`), name)
    }
  }
  return self
}

/** Drop what a node created with `tempName`, so a long run does not accumulate tables in memory. */
async function dropCreated(con: DuckDBConnection, created: Set<string>): Promise<void> {
  if (created.size === 0) return
  const reader = await con.runAndReadAll(
    `SELECT table_name AS name, table_type AS type FROM information_schema.tables WHERE table_name IN (${[...created].map(sqlString).join(", ")})`
  )
  for (const row of reader.getRowObjectsJS()) {
    await con.run(`DROP ${row["type"] === "VIEW" ? "VIEW" : "TABLE"} IF EXISTS "${String(row["name"])}"`)
  }
}

export async function openDuckDb(options: DuckDbOptions): Promise<DuckDBInstance> {
  mkdirSync(options.tempDirectory, { recursive: true })
  return DuckDBInstance.create(":memory:", {
    threads: String(options.threads ?? availableParallelism()),
    memory_limit: options.memoryLimit ?? `${Math.max(1, Math.floor((totalmem() * 0.6) / 2 ** 30))}GB`,
    temp_directory: options.tempDirectory,
    // extensions cannot be downloaded here; only built-in ones (parquet, json) may load
    autoinstall_known_extensions: "false"
  })
}

/** The `Database` service over one in-memory DuckDB for the life of the layer. */
export const DuckDbLive = (options: DuckDbOptions) =>
  Layer.effect(
    Database,
    Effect.gen(function* () {
      const instance = yield* Effect.acquireRelease(
        Effect.tryPromise({ try: () => openDuckDb(options), catch: fail("open DuckDB") }),
        (i) => Effect.sync(() => i.closeSync())
      )
      return Database.of({
        connect: Effect.acquireRelease(
          Effect.tryPromise({
            try: async () => {
              const con = await instance.connect()
              // lets the runner show a bar for long statements; DuckDB's own printing stays off
              await con.run(
                `SET enable_progress_bar = true; SET enable_progress_bar_print = false; SET progress_bar_time = 200`
              )
              return con
            },
            catch: fail("connect")
          }).pipe(Effect.map((con) => ({ con, created: new Set<string>() }))),
          ({ con, created }) =>
            Effect.promise(() => dropCreated(con, created).catch(() => undefined)).pipe(
              Effect.andThen(Effect.sync(() => con.closeSync()))
            )
        ).pipe(Effect.map(({ con, created }) => sqlOn(con, created)))
      })
    })
  )
