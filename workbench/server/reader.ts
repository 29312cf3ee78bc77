/**
 * The server's own DuckDB for table pages, column summaries and views: in memory, allowed to read only
 * the workspace's artifacts, external access off and its configuration locked (the same fences as the
 * `wb sql` sandbox), one connection per request so a time limit interrupts only its own query. A
 * user's filter expression is checked by the sandbox's parsed-statement allowlist first.
 */
import { Effect } from "effect"
import { availableParallelism } from "node:os"
import { DataError } from "../core/errors.js"
import type { NodeView } from "../core/views.js"
import {
  type DuckDBConnection,
  type DuckDBValue,
  DuckDBInstance,
  quotedIdentifier,
  quotedString
} from "../io/duckdb-api.js"
import { checkQuery } from "../io/sandbox-sql.js"
import { type IpcResult, queryToIpc } from "./arrow-ipc.js"
import { badRequest, HttpProblem } from "./project.js"

/** Seconds a page, summary or view query may run before it is interrupted. */
export const READ_TIMEOUT_S = 15

export interface Reader {
  readonly ipc: (
    sql: string,
    params?: Record<string, DuckDBValue>,
    lastOf?: ReadonlyArray<string>
  ) => Effect.Effect<IpcResult, HttpProblem>
  readonly rows: (
    sql: string,
    params?: Record<string, DuckDBValue>
  ) => Effect.Effect<Array<Record<string, unknown>>, HttpProblem>
  /** Refuse anything but an expression usable in WHERE over `table`'s columns. */
  readonly checkFilter: (filter: string) => Effect.Effect<void, HttpProblem>
  readonly close: () => void
}

export async function openReader(artifacts: string): Promise<Reader> {
  const instance = await DuckDBInstance.create(":memory:", {
    threads: String(Math.min(4, availableParallelism())),
    memory_limit: "2GB",
    autoinstall_known_extensions: "false",
    autoload_known_extensions: "false"
  })
  const setup = await instance.connect()
  await setup.run(`SET allowed_directories = [${quotedString(artifacts)}]`)
  await setup.run("SET enable_external_access = false")
  // keyset pages of 100–1000 rows get late materialization (browser-workbench guide §2: 341 → 127 ms)
  await setup.run("SET late_materialization_max_rows = 1000")
  await setup.run("SET lock_configuration = true")
  const withCon = <A>(f: (con: DuckDBConnection) => Promise<A>) =>
    Effect.tryPromise({
      try: async () => {
        const con = await instance.connect()
        let expired = false
        const timer = setTimeout(() => {
          expired = true
          con.interrupt()
        }, READ_TIMEOUT_S * 1000)
        try {
          const out = await f(con)
          if (expired) throw new Error("Interrupted")
          return out
        } catch (e) {
          throw expired ? new Error(`INTERRUPTED: past ${READ_TIMEOUT_S} s`) : e
        } finally {
          clearTimeout(timer)
          con.closeSync()
        }
      },
      catch: (e) => {
        const message = e instanceof Error ? e.message : String(e)
        return /^INTERRUPTED/.test(message)
          ? new HttpProblem(408, {
              error: "timeout",
              found: `the query ran past its time limit of ${READ_TIMEOUT_S} s and was stopped`,
              expected: "a cheaper filter or view",
              fix: "narrow the filter, or use a SQL cell (POST /api/sql) with its own limit"
            })
          : badRequest(
              "query",
              message.split("\n")[0] ?? message,
              "a valid query over the table's columns",
              "correct the filter or sort column"
            )
      }
    })
  return {
    ipc: (sql, params, lastOf) => withCon((con) => queryToIpc(con, sql, params, lastOf)),
    rows: (sql, params) =>
      withCon(
        async (con) => (await con.runAndReadAll(sql, params)).getRowObjectsJS() as Array<Record<string, unknown>>
      ),
    checkFilter: (filter) =>
      Effect.tryPromise({
        try: () => instance.connect(),
        catch: () => new HttpProblem(500, { error: "reader unavailable" })
      }).pipe(
        Effect.flatMap((con) =>
          checkQuery(con, `SELECT * FROM t WHERE (${filter})`, "filter", ["t"]).pipe(
            Effect.ensuring(Effect.sync(() => con.closeSync()))
          )
        ),
        Effect.mapError((e) =>
          e instanceof HttpProblem
            ? e
            : e instanceof DataError
              ? new HttpProblem(400, {
                  error: "refused",
                  where: e.where,
                  found: e.found,
                  expected: e.expected,
                  fix: e.fix
                })
              : badRequest(
                  "filter",
                  e.reason.split("\n")[0] ?? e.reason,
                  "an expression over the table's columns",
                  "correct the filter"
                )
        )
      ),
    close: () => {
      setup.closeSync()
      instance.closeSync()
    }
  }
}

export const parquet = (file: string) => `read_parquet(${quotedString(file)}, file_row_number = true)`
export const q = (name: string) => quotedIdentifier(name)

/** The SQL of a declared view over `file`, per its kind (core/views.ts documents the columns). */
export function viewSql(view: NodeView, file: string): string {
  const where = view.where === undefined ? "" : ` WHERE ${view.where}`
  const input = `(SELECT * EXCLUDE (file_row_number) FROM ${parquet(file)}${where})`
  if (view.sql !== undefined) {
    // a query with its own WITH gets `input` as its first common table expression
    const own = /^\s*with\s+/i.exec(view.sql)
    return own === null
      ? `WITH input AS ${input} ${view.sql}`
      : `WITH input AS ${input}, ${view.sql.slice(own[0].length)}`
  }
  const color = view.color === undefined ? "" : `, (${view.color})::VARCHAR AS color`
  const colorGroup = view.color === undefined ? "" : ", color"
  const interval =
    view.lo === undefined || view.hi === undefined ? "" : `, (${view.lo})::DOUBLE AS lo, (${view.hi})::DOUBLE AS hi`
  switch (view.kind) {
    case "histogram": {
      const bins = Math.max(1, Math.min(200, view.bins ?? 30))
      return `WITH v AS (SELECT (${view.x})::DOUBLE AS x${color} FROM ${input} t),
        r AS (SELECT min(x) AS lo, max(x) AS hi FROM v WHERE x IS NOT NULL),
        b AS (SELECT least(${bins - 1}, floor((x - lo) / greatest((hi - lo) / ${bins}, 1e-12)))::INTEGER AS bin${colorGroup}, lo, hi FROM v, r WHERE x IS NOT NULL)
        SELECT lo + bin * greatest((hi - lo) / ${bins}, 1e-12) AS x0, lo + (bin + 1) * greatest((hi - lo) / ${bins}, 1e-12) AS x1${colorGroup}, count(*)::INTEGER AS n
        FROM b GROUP BY bin, lo, hi${colorGroup} ORDER BY bin${colorGroup}`
    }
    case "bar":
      return `SELECT (${view.x})::VARCHAR AS x${color}, ${view.y ?? "count(*)"} AS y${interval} FROM ${input} t
        GROUP BY ALL ORDER BY x${colorGroup}`
    case "heatmap":
      return `SELECT (${view.x})::VARCHAR AS x, (${view.y ?? "NULL"})::VARCHAR AS y, ${view.value ?? "count(*)"} AS value
        FROM ${input} t GROUP BY ALL ORDER BY x, y`
    case "line":
      return `SELECT ${view.x} AS x, ${view.y ?? "NULL"} AS y${color}${interval} FROM ${input} t ORDER BY x${colorGroup}`
    case "scatter":
      return `SELECT ${view.x} AS x, ${view.y ?? "NULL"} AS y${color} FROM ${input} t
        USING SAMPLE reservoir(${Math.max(1, Math.min(100_000, view.limit ?? 5000))} ROWS) REPEATABLE (42)`
  }
}
