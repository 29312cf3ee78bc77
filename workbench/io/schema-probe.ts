/**
 * The SchemaProbe (see core/infer.ts): a small in-memory DuckDB of its own, opened on first use, so a
 * pipeline whose hooks never ask for SQL (or that has none) never loads DuckDB (`wb validate` stays
 * fast). It has no file access at all: a probe only DESCRIBEs queries over empty tables, and a query
 * that slipped past a node's own check still could not read a file.
 */
import type { DuckDBConnection, DuckDBInstance } from "@duckdb/node-api"
import { Effect, Layer } from "effect"
import type { ColumnSpec, TableSchema } from "../core/contract.js"
import { SqlError } from "../core/errors.js"
import { SchemaProbe } from "../core/services.js"

const CORE_TYPES = new Set([
  "utf8",
  "json",
  "int32",
  "int64",
  "float64",
  "bool",
  "timestamp",
  "list<utf8>",
  "list<int32>",
  "list<float32>",
  "blob"
])

const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`

/** The DuckDB type of a stand-in column: the engine's own types mapped; "any" as text. */
const standInType = (c: ColumnSpec, duckTypeOf: (t: string) => string, loose: boolean) =>
  CORE_TYPES.has(c.type) ? duckTypeOf(c.type) : loose || c.type === "any" ? "VARCHAR" : c.type.toUpperCase()

/** `CREATE TEMP TABLE` for one stand-in; a table with no known column gets one placeholder (DuckDB needs one). */
const createSql = (name: string, schema: TableSchema, duckTypeOf: (t: string) => string, loose: boolean) => {
  const columns =
    schema.columns.length === 0
      ? `"_wb_no_known_column" BOOLEAN`
      : schema.columns.map((c) => `${quoted(c.name)} ${standInType(c, duckTypeOf, loose)}`).join(", ")
  // TEMP: private to this connection, and found before any table of the same name
  return `CREATE TEMP TABLE ${quoted(name)} (${columns})`
}

const fail = (sql: string) => (e: unknown) => new SqlError({ sql, reason: e instanceof Error ? e.message : String(e) })

async function openProbe(): Promise<DuckDBInstance> {
  const { DuckDBInstance } = await import("@duckdb/node-api")
  return DuckDBInstance.create(":memory:", {
    threads: "1",
    memory_limit: "256MB",
    enable_external_access: "false",
    autoinstall_known_extensions: "false",
    autoload_known_extensions: "false"
  })
}

export const SchemaProbeLive = Layer.effect(
  SchemaProbe,
  Effect.gen(function* () {
    let instance: DuckDBInstance | undefined
    yield* Effect.addFinalizer(() => Effect.sync(() => instance?.closeSync()))
    // opened once, on the first probe
    const opened = yield* Effect.cached(
      Effect.tryPromise({
        try: async () => (instance = await openProbe()),
        catch: fail("open the schema probe")
      })
    )
    const connection = Effect.acquireRelease(
      Effect.flatMap(opened, (i) => Effect.tryPromise({ try: () => i.connect(), catch: fail("connect") })),
      (con) => Effect.sync(() => con.closeSync())
    )
    const standIns = (con: DuckDBConnection, tables: Readonly<Record<string, TableSchema>>) =>
      Effect.tryPromise({
        try: async () => {
          const { duckTypeOf } = await import("./duckdb.js")
          for (const [name, schema] of Object.entries(tables)) {
            // a type name DuckDB does not know (a pass-through type spelled by another engine) is read as text
            await con
              .run(createSql(name, schema, duckTypeOf, false))
              .catch(() => con.run(createSql(name, schema, duckTypeOf, true)))
          }
        },
        catch: fail("create the probe's stand-in tables")
      })
    return SchemaProbe.of({
      withTables: (tables, use) =>
        Effect.scoped(
          Effect.gen(function* () {
            const con = yield* connection
            yield* standIns(con, tables)
            const { sqlOn } = yield* Effect.promise(() => import("./duckdb.js"))
            return yield* use(sqlOn(con))
          })
        )
    })
  })
)
