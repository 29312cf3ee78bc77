/**
 * A DuckDB result as Arrow IPC stream bytes (apache-arrow; DuckDB here has no Arrow writer, see
 * ../shared/guides/browser-workbench.md §2). Numeric columns without NULLs are copied straight into a
 * typed array; everything else goes through DuckDB's JS values. BIGINT (count(*)) becomes Float64:
 * apache-arrow would decode Int64 as bigint, which JSON and Plot do not take, and counts stay far below
 * 2^53. Lists, structs and maps cross as JSON text.
 */
import type * as Api from "@duckdb/node-api"
import {
  Bool,
  DateDay,
  Float64,
  makeVector,
  Table,
  TimestampMillisecond,
  tableToIPC,
  Utf8,
  type Vector,
  vectorFromArray
} from "apache-arrow"
import { createRequire } from "node:module"
import { JSDuckDBValueConverter, type DuckDBConnection, type DuckDBValue } from "../io/duckdb-api.js"

const { DuckDBTypeId: T } = createRequire(import.meta.url)("@duckdb/node-api") as typeof Api

const INT32 = new Set<number>([T.TINYINT, T.SMALLINT, T.INTEGER, T.UTINYINT, T.USMALLINT])
const FLOAT64 = new Set<number>([T.FLOAT, T.DOUBLE, T.UINTEGER])
const WIDE_INT = new Set<number>([T.BIGINT, T.UBIGINT, T.HUGEINT, T.UHUGEINT, T.DECIMAL])
const TIMESTAMPS = new Set<number>([T.TIMESTAMP, T.TIMESTAMP_S, T.TIMESTAMP_MS, T.TIMESTAMP_NS, T.TIMESTAMP_TZ])
const TEXT = new Set<number>([T.VARCHAR, T.ENUM, T.UUID])

const jsonText = (v: unknown) =>
  v == null ? null : JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? Number(x) : x))

/** JS values of one column -> an Arrow vector of a type the browser reads without surprises. */
function toVector(typeId: number, col: Array<unknown>): Vector {
  if (INT32.has(typeId) || FLOAT64.has(typeId) || WIDE_INT.has(typeId)) {
    return vectorFromArray(
      col.map((v) => (v == null ? null : Number(v as number | bigint))),
      new Float64()
    )
  }
  if (typeId === T.BOOLEAN) return vectorFromArray(col, new Bool())
  if (typeId === T.DATE) return vectorFromArray(col, new DateDay())
  if (TIMESTAMPS.has(typeId)) return vectorFromArray(col, new TimestampMillisecond())
  // explicit Utf8: untyped strings would become Dictionary<Utf8>
  if (TEXT.has(typeId)) return vectorFromArray(col, new Utf8())
  if (typeId === T.BLOB) {
    return vectorFromArray(
      col.map((v) => (v == null ? null : Buffer.from(v as Uint8Array).toString("hex"))),
      new Utf8()
    )
  }
  return vectorFromArray(col.map(jsonText), new Utf8())
}

type Chunk = ReturnType<Api.DuckDBMaterializedResult["getChunk"]>

/** One result column -> Arrow vector; the typed-array path is a hot loop, inlined on purpose. */
function columnVector(chunks: ReadonlyArray<Chunk>, rows: number, col: number, typeId: number): Vector {
  if (INT32.has(typeId) || FLOAT64.has(typeId)) {
    const out = INT32.has(typeId) ? new Int32Array(rows) : new Float64Array(rows)
    let pos = 0
    let sawNull = false
    outer: for (const chunk of chunks) {
      const v = chunk.getColumnVector(col)
      for (let r = 0, m = chunk.rowCount; r < m; r++) {
        const x = v.getItem(r) as number | null
        if (x === null) {
          sawNull = true
          break outer
        }
        out[pos++] = x
      }
    }
    if (!sawNull) return makeVector(out)
  }
  const values: Array<unknown> = []
  for (const chunk of chunks) for (const x of chunk.convertColumnValues(col, JSDuckDBValueConverter)) values.push(x)
  return toVector(typeId, values)
}

export interface IpcResult {
  readonly bytes: Uint8Array
  readonly rows: number
  readonly columns: ReadonlyArray<string>
  readonly queryMs: number
  readonly encodeMs: number
  /** The last row's values of the columns asked for (`lastOf`), e.g. a keyset page's cursor. */
  readonly last?: Readonly<Record<string, unknown>>
}

/** Run SQL (with optional $1… or $name parameters) and encode its rows as one Arrow IPC stream. */
export async function queryToIpc(
  con: DuckDBConnection,
  sql: string,
  params?: Array<DuckDBValue> | Record<string, DuckDBValue>,
  lastOf?: ReadonlyArray<string>
): Promise<IpcResult> {
  const t0 = performance.now()
  const res = await con.run(sql, params)
  const t1 = performance.now()
  const chunks = Array.from({ length: res.chunkCount }, (_, k) => res.getChunk(k))
  const rows = chunks.reduce((n, c) => n + c.rowCount, 0)
  const names = res.deduplicatedColumnNames()
  const vectors: Record<string, Vector> = {}
  names.forEach((name, i) => {
    vectors[name] = columnVector(chunks, rows, i, res.columnTypeId(i))
  })
  const bytes = tableToIPC(new Table(vectors), "stream")
  const tail = [...chunks].reverse().find((c) => c.rowCount > 0)
  const last =
    lastOf === undefined || tail === undefined
      ? undefined
      : Object.fromEntries(
          lastOf.map((n) => [n, tail.convertColumnValues(names.indexOf(n), JSDuckDBValueConverter).at(-1)])
        )
  return {
    bytes,
    rows,
    columns: names,
    queryMs: t1 - t0,
    encodeMs: performance.now() - t1,
    ...(last === undefined ? {} : { last })
  }
}
