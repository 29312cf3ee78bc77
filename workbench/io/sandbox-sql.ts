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
import {
  DuckDBInstance,
  quotedIdentifier,
  quotedString,
  JSDuckDBValueConverter,
  StatementType,
  type DuckDBConnection
} from "./duckdb-api.js"
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

export interface QueryOptions {
  /** At most this many rows (`truncated` says whether more existed); all rows when absent. */
  readonly maxRows?: number
  /** The command, for refusals (e.g. "wb sql"). */
  readonly label?: string
  /** Stop the query (DuckDB interrupt) after this many seconds; no limit when absent. */
  readonly timeoutSeconds?: number
  /** How the time limit is set, for the message (e.g. "--timeout"). */
  readonly timeoutFlag?: string
}

export interface Sandbox {
  /** Run one user query (a SELECT, or a PIVOT) and read its rows. */
  readonly query: (sql: string, options?: QueryOptions) => Effect.Effect<SandboxResult, DataError | SqlError>
  /**
   * Run one user query and hand its rows over chunk by chunk (a few thousand rows each), so a result
   * larger than memory can be written out as it comes. Resolves to the number of rows, and whether `maxRows` cut it.
   */
  readonly stream: (
    sql: string,
    options: QueryOptions & {
      readonly onColumns: (columns: ReadonlyArray<SandboxColumn>) => void
      readonly onRows: (rows: ReadonlyArray<ReadonlyArray<unknown>>) => void
    }
  ) => Effect.Effect<{ readonly rows: number; readonly truncated: boolean }, DataError | SqlError>
  readonly tables: ReadonlyArray<string>
}

/** Table functions a query may call. Everything else (read_csv, read_text, query, enable_logging, ...) is refused. */
export const ALLOWED_TABLE_FUNCTIONS: ReadonlySet<string> = new Set([
  "read_parquet",
  "parquet_scan",
  "parquet_metadata",
  "parquet_schema",
  "range",
  "generate_series",
  "unnest"
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
  Effect.gen(function* () {
    const scratch = yield* Effect.acquireRelease(
      Effect.sync(() => mkdtempSync(join(tmpdir(), "wb-sql-"))),
      (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
    )
    const { con } = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () => open(options.directory, scratch, options.tables),
        catch: (e) => new SqlError({ sql: "open the SQL sandbox", reason: reason(e) })
      }),
      ({ instance, con }) =>
        Effect.sync(() => {
          con.closeSync()
          instance.closeSync()
        })
    )
    const names = options.tables.map((t) => t.name)
    const run = <A>(
      sql: string,
      queryOptions: QueryOptions,
      read: (deadline: Deadline) => Effect.Effect<A, SqlError>
    ) =>
      withDeadline(con, queryOptions, (deadline) =>
        checkQuery(con, sql, queryOptions.label ?? "sql", names).pipe(Effect.andThen(read(deadline)))
      )
    return {
      tables: names,
      query: (sql, queryOptions = {}) => run(sql, queryOptions, (d) => readRows(con, sql, queryOptions.maxRows, d)),
      stream: (sql, queryOptions) => run(sql, queryOptions, (d) => streamRows(con, sql, queryOptions, d))
    } satisfies Sandbox
  })

/** Whether the query's time limit has passed (the connection was then interrupted). */
interface Deadline {
  expired: boolean
}

/**
 * Run `f` with a timer that interrupts the connection when the time limit passes; a query that fails
 * (or a stream that ends) after that is reported as over the limit, not as whatever DuckDB said.
 */
const withDeadline = <A>(
  con: DuckDBConnection,
  options: QueryOptions,
  f: (deadline: Deadline) => Effect.Effect<A, DataError | SqlError>
): Effect.Effect<A, DataError | SqlError> => {
  const limit = options.timeoutSeconds
  if (limit === undefined || !Number.isFinite(limit)) return f({ expired: false })
  const deadline: Deadline = { expired: false }
  const overLimit = () => {
    const flag = options.timeoutFlag ?? "--timeout"
    const shown = `${limit} s`
    return new DataError({
      where: `${options.label ?? "sql"} ${flag} ${limit}`,
      found: `the query ran past its time limit of ${shown} and was stopped`,
      expected: `a query that finishes within ${shown}`,
      fix: `allow it more time (${flag} ${Math.max(60, Math.ceil(limit * 10))}), or make it cheaper: filter with WHERE, aggregate, or add LIMIT`
    })
  }
  return Effect.acquireUseRelease(
    Effect.sync(() =>
      setTimeout(
        () => {
          deadline.expired = true
          con.interrupt()
        },
        Math.max(0, limit * 1000)
      )
    ),
    () =>
      f(deadline).pipe(
        Effect.catch((e) => Effect.fail(deadline.expired ? overLimit() : e)),
        Effect.flatMap((a) => (deadline.expired ? Effect.fail(overLimit()) : Effect.succeed(a)))
      ),
    (timer) => Effect.sync(() => clearTimeout(timer))
  )
}

const interruptible = <A>(con: DuckDBConnection, sql: string, f: () => Promise<A>) =>
  Effect.tryPromise({
    try: (signal) => {
      signal.addEventListener("abort", () => con.interrupt(), { once: true })
      return f()
    },
    catch: (e) => new SqlError({ sql, reason: reason(e) })
  })

const firstWord = (sql: string) =>
  (sql.replace(/^(\s|--[^\n]*\n|\/\*[\s\S]*?\*\/)+/, "").match(/^[A-Za-z_]+/)?.[0] ?? "").toUpperCase()

/**
 * One SELECT whose table functions are all allowed, as parsed by DuckDB itself (not by regex). A PIVOT
 * without an IN list is accepted too: DuckDB makes it two statements (see `dynamicPivot`).
 */
export function checkQuery(con: DuckDBConnection, sql: string, label: string, tables: ReadonlyArray<string>) {
  const example = `select * from ${quotedIdentifier(tables[0] ?? "node")} limit 10`
  const refuse = (found: string, expected: string, fix: string) =>
    Effect.fail(new DataError({ where: `${label} refused the query`, found, expected, fix }))
  const checkFunctions = (names: ReadonlyArray<string>) => {
    const banned = names.find((f) => !ALLOWED_TABLE_FUNCTIONS.has(f))
    return banned === undefined
      ? Effect.void
      : refuse(
          `table function ${banned}() is not allowed`,
          `the pipeline's tables by name (${tables.map((t) => quotedIdentifier(t)).join(", ") || "none have run yet"}), ` +
            `or one of: ${[...ALLOWED_TABLE_FUNCTIONS].join(", ")}`,
          `query the pipeline's tables instead, e.g. ${example}`
        )
  }
  // statements are counted first: json_serialize_sql words "select 1; drop …" as a non-SELECT
  const statements = interruptible(con, "extract statements", () =>
    con.extractStatements(sql).then((x) => x.count)
  ).pipe(Effect.catch(() => Effect.succeed(1))) // a syntax error: json_serialize_sql says where
  const several = (count: number) => {
    const notOne = refuse(
      `${count} statements`,
      "exactly one SELECT (or PIVOT) statement",
      "run one SELECT at a time; the sandbox is read-only"
    )
    if (!looksLikePivot(sql)) return notOne
    // the functions first: a PIVOT over a refused one must say so, not that its statements do not prepare
    return interruptible(con, "check a PIVOT", () => calledTableFunctions(con, sql)).pipe(
      Effect.flatMap(checkFunctions),
      Effect.andThen(interruptible(con, "check a PIVOT", () => pivotStatements(con, sql, count))),
      Effect.flatMap((ok) => (ok ? Effect.void : notOne))
    )
  }
  const one = interruptible(con, "json_serialize_sql", () =>
    con.runAndReadAll(`SELECT json_serialize_sql($1::VARCHAR)`, [sql])
  ).pipe(
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
      return checkFunctions(tableFunctions(ast))
    })
  )
  return statements.pipe(Effect.flatMap((count) => (count > 1 ? several(count) : one)))
}

/** Words a query may start with when DuckDB splits it into a PIVOT's statements. */
const QUERY_WORDS = new Set(["PIVOT", "SELECT", "WITH", "FROM", "UNPIVOT"])

/** Whether the text starts like a query and has the word PIVOT outside strings and comments. */
const looksLikePivot = (sql: string): boolean =>
  QUERY_WORDS.has(firstWord(sql)) && /\bpivot\b/i.test(withoutLiterals(sql))

/**
 * A PIVOT without an IN list (`PIVOT t ON c USING sum(n)`): DuckDB first runs a CREATE TYPE holding
 * c's distinct values, then the SELECT over it, so the text parses as 2+ statements and
 * json_serialize_sql refuses it. Accepted when the text starts like a query (`looksLikePivot`) and
 * every statement but the last is a CREATE: text the user wrote as several statements either starts
 * with another word or has a statement in the middle that cannot be prepared before the types exist.
 */
async function pivotStatements(con: DuckDBConnection, sql: string, count: number): Promise<boolean> {
  const extracted = await con.extractStatements(sql)
  // the first statement's own error (a table that does not exist) is the user's to see
  if ((await extracted.prepare(0)).statementType !== StatementType.CREATE) return false
  for (let i = 1; i < count - 1; i++) {
    const type = await extracted.prepare(i).then(
      (p) => p.statementType,
      () => undefined
    )
    if (type !== StatementType.CREATE) return false
  }
  return true
}

/**
 * The table functions the text calls, by name (the statements of a PIVOT cannot be serialized to
 * find them in the tree): every `name(` outside strings and comments that DuckDB knows as a table
 * function. A quoted "name"( counts as written, an unquoted one as DuckDB folds it.
 */
async function calledTableFunctions(con: DuckDBConnection, sql: string): Promise<Array<string>> {
  const reader = await con.runAndReadAll(
    "SELECT DISTINCT function_name FROM duckdb_functions() WHERE function_type IN ('table', 'table_macro')"
  )
  const known = new Set(reader.getColumnsJS()[0]!.map((f) => String(f).toLowerCase()))
  const called = [...withoutLiterals(sql).matchAll(/("(?:[^"]|"")+"|[A-Za-z_][\w$]*)\s*\(/g)].map((m) =>
    m[1]!.startsWith('"') ? m[1]!.slice(1, -1).replaceAll('""', '"') : m[1]!.toLowerCase()
  )
  return called.filter((f) => known.has(f.toLowerCase()))
}

/** SQL text with comments removed and string literals emptied, so words inside them are not read as code. */
const withoutLiterals = (sql: string): string =>
  sql.replace(/--[^\n]*|\/\*[\s\S]*?\*\/|'(?:[^']|'')*'/g, (m) => (m.startsWith("'") ? "''" : " "))

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

const columnsOf = (reader: { columnNames(): Array<string>; columnType(i: number): { toString(): string } }) =>
  reader.columnNames().map((name, i) => ({ name, type: reader.columnType(i).toString() }))

/** Up to `maxRows` rows (all when absent); `truncated` when more existed. */
const readRows = (con: DuckDBConnection, sql: string, maxRows: number | undefined, deadline: Deadline) =>
  interruptible(con, sql, () =>
    maxRows === undefined ? con.runAndReadAll(sql) : con.runAndReadUntil(sql, maxRows + 1)
  ).pipe(
    Effect.map((reader): SandboxResult => {
      const rows = reader.getRowsJS()
      const shown = maxRows === undefined ? rows : rows.slice(0, maxRows)
      return { columns: columnsOf(reader), rows: shown.map((r) => r.map(plain)), truncated: shown.length < rows.length }
    }),
    // an interrupted read ends early without an error: the deadline tells
    Effect.tap(() => (deadline.expired ? Effect.fail(new SqlError({ sql, reason: "Interrupted" })) : Effect.void))
  )

/** Every row (up to `maxRows`), chunk by chunk, to `onRows`. */
const streamRows = (
  con: DuckDBConnection,
  sql: string,
  options: Parameters<Sandbox["stream"]>[1],
  deadline: Deadline
) =>
  interruptible(con, sql, async () => {
    const result = await con.stream(sql)
    options.onColumns(columnsOf(result))
    let rows = 0
    let truncated = false
    const max = options.maxRows ?? Number.POSITIVE_INFINITY
    for (;;) {
      const chunk = await result.fetchChunk()
      if (chunk === null || chunk.rowCount === 0) break
      const values = chunk.convertRows(JSDuckDBValueConverter)
      if (rows + values.length > max) {
        truncated = true
        if (rows < max) options.onRows(values.slice(0, max - rows).map((r) => r.map(plain)))
        rows = max
        break
      }
      rows += values.length
      options.onRows(values.map((r) => r.map(plain)))
    }
    return { rows, truncated }
  }).pipe(
    // an interrupted stream ends like a complete one (duckdb guide §9): the deadline tells them apart
    Effect.tap(() => (deadline.expired ? Effect.fail(new SqlError({ sql, reason: "Interrupted" })) : Effect.void))
  )

/**
 * Blobs up to this size print as hex; a larger one (a model's 64 MB weight table) as its size: its hex
 * would be a string of twice its bytes, which no terminal or JSON consumer wants and which exhausted
 * the heap of `wb show` on a model table. `wb export` writes whole tables, blobs included.
 */
export const BLOB_SHOWN_BYTES = 4096

/** A DuckDB JS value as plain JSON-safe data. */
export function plain(v: unknown): unknown {
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? String(v) : v.toISOString()
  if (v instanceof Uint8Array)
    return v.length <= BLOB_SHOWN_BYTES
      ? Buffer.from(v).toString("hex")
      : `<blob of ${v.length.toLocaleString("en-US")} bytes>`
  if (Array.isArray(v)) return v.map(plain)
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, plain(x)]))
  }
  return v
}
