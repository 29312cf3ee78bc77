/**
 * Table pages (keyset paging: no OFFSET, which costs ~1 s deep into a 1M-row file) and column
 * summaries over a node's Parquet artifact. Every page carries `__row`, the row's number in the file,
 * as the tie-breaker that makes any sort order total; the cursor for the next page is returned in the
 * `x-wb-next` header and passed back as `after`.
 */
import { Effect } from "effect"
import type { DuckDBValue } from "../io/duckdb-api.js"
import { BLOB_SHOWN_BYTES } from "../io/sandbox-sql.js"
import { badRequest, type HttpProblem } from "./project.js"
import { parquet, q, type Reader } from "./reader.js"
import { explainProblem } from "./sql-errors.js"

export const MAX_PAGE = 5000

export interface PageQuery {
  readonly limit: number
  readonly sort?: string
  readonly desc: boolean
  readonly after?: string
  readonly filter?: string
}

interface Cursor {
  readonly v: unknown
  readonly r: number
}

const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify(c)).toString("base64url")
const decodeCursor = (s: string): Cursor | undefined => {
  try {
    const c = JSON.parse(Buffer.from(s, "base64url").toString("utf8")) as Cursor
    return typeof c === "object" && c !== null && Number.isInteger(c.r) ? c : undefined
  } catch {
    return undefined
  }
}

/** Column names and DuckDB types of a Parquet artifact (cached by file: artifacts never change). */
const schemas = new Map<string, Array<{ name: string; type: string }>>()
export const columnsOf = (reader: Reader, file: string) =>
  schemas.has(file)
    ? Effect.succeed(schemas.get(file)!)
    : reader.rows(`DESCRIBE SELECT * EXCLUDE (file_row_number) FROM ${parquet(file)}`).pipe(
        Effect.map((rows) => rows.map((r) => ({ name: String(r["column_name"]), type: String(r["column_type"]) }))),
        Effect.tap((cols) => Effect.sync(() => schemas.set(file, cols)))
      )

export const parsePage = (u: URLSearchParams): PageQuery | HttpProblem => {
  const limit = Number(u.get("limit") ?? 100)
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE)
    return badRequest("limit", String(u.get("limit")), `a whole number from 1 to ${MAX_PAGE}`, "pass limit=100")
  const sort = u.get("sort") ?? undefined
  const after = u.get("after") ?? undefined
  const filter = u.get("filter") ?? undefined
  return {
    limit,
    desc: u.get("desc") === "1" || u.get("desc") === "true",
    ...(sort === undefined || sort === "" ? {} : { sort }),
    ...(after === undefined || after === "" ? {} : { after }),
    ...(filter === undefined || filter.trim() === "" ? {} : { filter })
  }
}

/** One page as Arrow IPC, the cursor of the next page (absent at the end) and, unfiltered, the row count. */
export const page = (reader: Reader, file: string, p: PageQuery, table = "t") =>
  pageOf(reader, file, p).pipe(
    // a filter's error names the table's columns (or the spot of a syntax error), not just DuckDB's line
    Effect.catch((e: HttpProblem) =>
      Effect.flatMap(
        p.filter === undefined
          ? Effect.succeed(e)
          : Effect.flatMap(columnsOf(reader, file), (cols) =>
              explainProblem(reader, e, {
                sql: p.filter!,
                label: "filter",
                tables: [{ name: table, columns: cols.map((c) => c.name) }],
                prefix: FILTER_PREFIX
              })
            ),
        Effect.fail
      )
    )
  )

/** What checkFilter wraps a filter in (reader.ts): a syntax error's position is counted past it. */
const FILTER_PREFIX = "SELECT * FROM t WHERE ("

const pageOf = (reader: Reader, file: string, p: PageQuery) =>
  Effect.gen(function* () {
    const cols = yield* columnsOf(reader, file)
    if (p.sort !== undefined && !cols.some((c) => c.name === p.sort)) {
      return yield* Effect.fail(
        badRequest(
          "sort",
          `no column "${p.sort}"`,
          `one of: ${cols.map((c) => c.name).join(", ")}`,
          "sort by a column of the table"
        )
      )
    }
    // a page shows a blob as hex or its size, not its bytes, so a cursor could not carry its sort value
    if (p.sort !== undefined && cols.find((c) => c.name === p.sort)!.type === "BLOB") {
      return yield* Effect.fail(
        badRequest("sort", `"${p.sort}" (a blob column)`, "a column that is not a blob", "sort by another column")
      )
    }
    if (p.filter !== undefined) yield* reader.checkFilter(p.filter)
    const cursor = p.after === undefined ? undefined : decodeCursor(p.after)
    if (p.after !== undefined && cursor === undefined)
      return yield* Effect.fail(
        badRequest("after", p.after, "the x-wb-next value of the previous page", "start again without after")
      )
    const where: Array<string> = []
    const params: Record<string, DuckDBValue> = { lim: p.limit }
    if (p.filter !== undefined) where.push(`(${p.filter})`)
    const dir = p.desc ? "DESC" : "ASC"
    const cmp = p.desc ? "<" : ">"
    let order = `file_row_number ${dir}`
    if (p.sort !== undefined) {
      const col = q(p.sort)
      const type = cols.find((c) => c.name === p.sort)!.type
      order = `${col} ${dir} NULLS LAST, file_row_number ${dir}`
      if (cursor !== undefined) {
        params["r"] = cursor.r
        if (cursor.v === null) where.push(`(${col} IS NULL AND file_row_number ${cmp} $r)`)
        else {
          params["v"] = cursor.v as DuckDBValue
          where.push(
            `(${col} ${cmp} $v::${type} OR (${col} = $v::${type} AND file_row_number ${cmp} $r) OR ${col} IS NULL)`
          )
        }
      }
    } else if (cursor !== undefined) {
      params["r"] = cursor.r
      where.push(`file_row_number ${cmp} $r`)
    }
    // a big blob cell (a model's weight table: 64 MB) crosses as its size, a small one as hex: as `wb show`
    const shown = cols
      .map((c) =>
        c.type === "BLOB"
          ? `CASE WHEN octet_length(${q(c.name)}) > ${BLOB_SHOWN_BYTES} THEN '<blob of ' || format('{:,}', octet_length(${q(c.name)})) || ' bytes>' ELSE lower(hex(${q(c.name)})) END AS ${q(c.name)}`
          : q(c.name)
      )
      .join(", ")
    const sql = `SELECT ${shown}, file_row_number::BIGINT AS __row FROM ${parquet(file)}
      ${where.length === 0 ? "" : `WHERE ${where.join(" AND ")}`} ORDER BY ${order} LIMIT $lim`
    const res = yield* reader.ipc(sql, params, p.sort === undefined ? ["__row"] : ["__row", p.sort])
    const next =
      res.rows === p.limit && res.last !== undefined
        ? encodeCursor({ v: p.sort === undefined ? null : plainKey(res.last[p.sort]), r: Number(res.last["__row"]) })
        : undefined
    const total =
      p.filter === undefined
        ? undefined
        : Number((yield* reader.rows(`SELECT count(*) AS n FROM ${parquet(file)} WHERE (${p.filter})`))[0]?.["n"] ?? 0)
    return { ipc: res, next, total }
  })

/** A sort value as JSON for the cursor: DuckDB casts it back to the column's type. */
const plainKey = (v: unknown): unknown =>
  typeof v === "bigint" ? v.toString() : v instanceof Date ? v.toISOString() : v === undefined ? null : v

/** Per column: type, nulls, distinct (approximate), min, max; and for `column`, a histogram or its top values. */
export const summary = (reader: Reader, file: string, column: string | undefined, bins: number) =>
  Effect.gen(function* () {
    const cols = yield* columnsOf(reader, file)
    if (column !== undefined && !cols.some((x) => x.name === column))
      return yield* Effect.fail(
        badRequest(
          "column",
          `no column "${column}"`,
          `one of: ${cols.map((x) => x.name).join(", ")}`,
          "name a column of the table"
        )
      )
    // with a column, only its stats: SUMMARIZE over wide text columns is most of the cost on 1M rows
    const stats = yield* reader.rows(
      `SUMMARIZE SELECT ${column === undefined ? "* EXCLUDE (file_row_number)" : q(column)} FROM ${parquet(file)}`
    )
    const rows = Number(stats[0]?.["count"] ?? 0)
    const columns = stats.map((s) => ({
      name: String(s["column_name"]),
      type: String(s["column_type"]),
      nulls: Math.round((Number(s["null_percentage"] ?? 0) / 100) * rows),
      distinct: Number(s["approx_unique"] ?? 0),
      min: s["min"] ?? null,
      max: s["max"] ?? null
    }))
    if (column === undefined) return { rows, columns }
    const c = cols.find((x) => x.name === column)!
    const numeric = /INT|DOUBLE|FLOAT|DECIMAL|REAL/.test(c.type) && !c.type.endsWith("[]")
    const col = q(column)
    if (numeric) {
      const n = Math.max(1, Math.min(200, bins))
      const hist = yield* reader.rows(
        `WITH r AS (SELECT min(${col})::DOUBLE AS lo, max(${col})::DOUBLE AS hi FROM ${parquet(file)}),
          w AS (SELECT lo, greatest((hi - lo) / ${n}, 1e-12) AS width FROM r)
         SELECT least(${n - 1}, floor((${col}::DOUBLE - lo) / width))::INTEGER AS bin, any_value(lo) AS lo, any_value(width) AS width, count(*)::INTEGER AS n
         FROM ${parquet(file)}, w WHERE ${col} IS NOT NULL GROUP BY bin ORDER BY bin`
      )
      const histogram = hist.map((h) => {
        const lo = Number(h["lo"]),
          w = Number(h["width"]),
          b = Number(h["bin"])
        return { x0: lo + b * w, x1: lo + (b + 1) * w, n: Number(h["n"]) }
      })
      return { rows, columns, column: { name: column, histogram } }
    }
    const top = yield* reader.rows(
      `SELECT left(${col}::VARCHAR, 200) AS value, count(*)::INTEGER AS n FROM ${parquet(file)} GROUP BY 1 ORDER BY n DESC, value LIMIT 20`
    )
    const lengths = yield* reader.rows(
      `SELECT min(length(${col}::VARCHAR))::INTEGER AS min_length, max(length(${col}::VARCHAR))::INTEGER AS max_length,
        avg(length(${col}::VARCHAR))::DOUBLE AS mean_length FROM ${parquet(file)}`
    )
    return {
      rows,
      columns,
      column: { name: column, top: top.map((t) => ({ value: t["value"], n: Number(t["n"]) })), ...lengths[0] }
    }
  })
