/**
 * A read-only SQL sandbox over a pipeline's artifacts, for `wb sql` and `wb show --where`.
 *
 * Two fences, both required (see the DuckDB guide §8):
 * - the instance is in memory, may only touch `directory` (`allowed_directories`), has external access
 *   off, and its configuration is locked, so a query cannot read other files or re-enable anything;
 * - every query is parsed by DuckDB (`json_serialize_sql`) and must be exactly one SELECT whose table
 *   functions are all on an allowlist. The first fence alone would still allow `COPY ... TO` inside
 *   the allowed directory (overwriting an artifact) and `enable_logging(...)`, which can crash DuckDB.
 *
 * Tables are exposed as views named after them (`"clean"`, `"clean.removed"`).
 */
import { DuckDBInstance, quotedIdentifier, quotedString, type DuckDBConnection } from "@duckdb/node-api"
import { Effect } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { availableParallelism, tmpdir } from "node:os"
import { join } from "node:path"
import { DataError, SqlError } from "../core/errors.js"

/** A table the sandbox exposes: a view `name` over one Parquet file. */
export interface SandboxTable {
  readonly name: string
  readonly file: string
}

export interface SandboxColumn {
  readonly name: string
  readonly type: string
}

export interface SandboxResult {
  readonly columns: ReadonlyArray<SandboxColumn>
  /** Plain JSON-safe values: bigints become numbers (or strings past 2^53), dates ISO strings. */
  readonly rows: ReadonlyArray<ReadonlyArray<unknown>>
  /** More rows existed than `maxRows`. */
  readonly truncated: boolean
}

export interface Sandbox {
  /** Run one user SELECT; `label` names the command in refusals (e.g. "wb sql"). */
  readonly query: (sql: string, options?: { readonly maxRows?: number; readonly label?: string }) =>
    Effect.Effect<SandboxResult, DataError | SqlError>
  readonly tables: ReadonlyArray<string>
}

/** Table functions a query may call. Everything else (read_csv, read_text, query, enable_logging, ...) is refused. */
export const ALLOWED_TABLE_FUNCTIONS: ReadonlySet<string> = new Set([
  "read_parquet", "parquet_scan", "parquet_metadata", "parquet_schema", "range", "generate_series", "unnest"
])

const reason = (e: unknown) => (e instanceof Error ? e.message : String(e))

async function open(directory: string, scratch: string, tables: ReadonlyArray<SandboxTable>) {
  const instance = await DuckDBInstance.create(":memory:", {
    threads: String(Math.min(4, availableParallelism())),
    memory_limit: "2GB",
    temp_directory: scratch,
    autoinstall_known_extensions: "false",
    autoload_known_extensions: "false"
  })
  try {
    const con = await instance.connect()
    // LIST settings cannot go through the config map: SET them, before external access goes off
    await con.run(`SET allowed_directories = [${quotedString(directory)}]`)
    await con.run(`SET enable_external_access = false`)
    for (const t of tables) {
      await con.run(`CREATE VIEW ${quotedIdentifier(t.name)} AS SELECT * FROM read_parquet(${quotedString(t.file)})`)
    }
    await con.run(`SET lock_configuration = true`)
    return { instance, con }
  } catch (e) {
    instance.closeSync()
    throw e
  }
}

/** Open a sandbox that can read only files under `directory`; closed when the scope ends. */
export const openSandbox = (options: { readonly directory: string; readonly tables: ReadonlyArray<SandboxTable> }) =>
  Effect.gen(function*() {
    const scratch = yield* Effect.acquireRelease(
      Effect.sync(() => mkdtempSync(join(tmpdir(), "wb-sql-"))),
      (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
    )
    const { con } = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () => open(options.directory, scratch, options.tables),
        catch: (e) => new SqlError({ sql: "open the SQL sandbox", reason: reason(e) })
      }),
      ({ instance, con }) => Effect.sync(() => {
        con.closeSync()
        instance.closeSync()
      })
    )
    const names = options.tables.map((t) => t.name)
    return {
      tables: names,
      query: (sql, queryOptions = {}) => {
        const label = queryOptions.label ?? "sql"
        return checkQuery(con, sql, label, names).pipe(
          Effect.andThen(readRows(con, sql, queryOptions.maxRows ?? 1000))
        )
      }
    } satisfies Sandbox
  })

const interruptible = <A>(con: DuckDBConnection, sql: string, f: () => Promise<A>) =>
  Effect.tryPromise({
    try: (signal) => {
      signal.addEventListener("abort", () => con.interrupt(), { once: true })
      return f()
    },
    catch: (e) => new SqlError({ sql, reason: reason(e) })
  })

const firstWord = (sql: string) => (sql.replace(/^(\s|--[^\n]*\n|\/\*[\s\S]*?\*\/)+/, "").match(/^[A-Za-z_]+/)?.[0] ?? "").toUpperCase()

/** One SELECT whose table functions are all allowed, as parsed by DuckDB itself (not by regex). */
function checkQuery(con: DuckDBConnection, sql: string, label: string, tables: ReadonlyArray<string>) {
  const example = `select * from ${quotedIdentifier(tables[0] ?? "node")} limit 10`
  const refuse = (found: string, expected: string, fix: string) =>
    Effect.fail(new DataError({ where: `${label} refused the query`, found, expected, fix }))
  // statements are counted first: json_serialize_sql words "select 1; drop …" as a non-SELECT
  const statements = interruptible(con, "extract statements", () => con.extractStatements(sql).then((x) => x.count))
    .pipe(Effect.catch(() => Effect.succeed(1))) // a syntax error: json_serialize_sql says where
  return statements.pipe(
    Effect.flatMap((count) => count > 1
      ? refuse(`${count} statements`, "exactly one SELECT statement", "run one SELECT at a time; the sandbox is read-only")
      : Effect.void),
    Effect.andThen(interruptible(con, "json_serialize_sql", () => con.runAndReadAll(`SELECT json_serialize_sql($1::VARCHAR)`, [sql]))),
    Effect.flatMap((reader) => {
      const ast = JSON.parse(String(reader.getColumnsJS()[0]![0])) as {
        error: boolean
        error_message?: string
        statements?: Array<unknown>
      }
      if (ast.error) {
        const message = ast.error_message ?? "unknown error"
        if (/only SELECT statements/i.test(message)) {
          const word = firstWord(sql)
          return refuse(
            `${word ? `${/^[AEIOU]/.test(word) ? "an" : "a"} ${word} statement` : "a statement that is not a SELECT"}; ` +
              "the sandbox is read-only",
            "one SELECT statement over the pipeline's tables",
            `write a SELECT, e.g. ${example}; to change data, change the pipeline and \`wb run\` it`
          )
        }
        return refuse(`a syntax error: ${message}`, "one valid SELECT statement", `correct the query, e.g. ${example}`)
      }
      const count = ast.statements?.length ?? 0
      if (count !== 1) {
        return refuse(`${count} statements`, "exactly one SELECT statement", "run the statements one at a time")
      }
      const banned = tableFunctions(ast).find((f) => !ALLOWED_TABLE_FUNCTIONS.has(f))
      if (banned !== undefined) {
        return refuse(
          `table function ${banned}() is not allowed`,
          `the pipeline's tables by name (${tables.map((t) => quotedIdentifier(t)).join(", ") || "none have run yet"}), ` +
            `or one of: ${[...ALLOWED_TABLE_FUNCTIONS].join(", ")}`,
          `query the pipeline's tables instead, e.g. ${example}`
        )
      }
      return Effect.void
    })
  )
}

function tableFunctions(ast: unknown): Array<string> {
  const out: Array<string> = []
  const walk = (n: unknown): void => {
    if (Array.isArray(n)) return n.forEach(walk)
    if (n === null || typeof n !== "object") return
    const o = n as Record<string, unknown>
    if (o["type"] === "TABLE_FUNCTION") {
      const fn = (o["function"] as { function_name?: unknown } | undefined)?.function_name
      out.push(typeof fn === "string" ? fn : "(unknown)")
    }
    Object.values(o).forEach(walk)
  }
  walk(ast)
  return out
}

const readRows = (con: DuckDBConnection, sql: string, maxRows: number) =>
  interruptible(con, sql, () => con.runAndReadUntil(sql, maxRows + 1)).pipe(Effect.map((reader): SandboxResult => {
    const columns = reader.columnNames().map((name, i) => ({ name, type: reader.columnType(i).toString() }))
    const rows = reader.getRowsJS()
    return {
      columns,
      rows: rows.slice(0, maxRows).map((r) => r.map(plain)),
      truncated: rows.length > maxRows
    }
  }))

/** A DuckDB JS value as plain JSON-safe data. */
export function plain(v: unknown): unknown {
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? String(v) : v.toISOString()
  if (v instanceof Uint8Array) return Buffer.from(v).toString("hex")
  if (Array.isArray(v)) return v.map(plain)
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, plain(x)]))
  }
  return v
}
