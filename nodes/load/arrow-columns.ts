/**
 * Reading an in-memory Arrow table for `load.arrow`: its columns' types in the engine's terms, their
 * values as JS arrays for `Sql.load`, and a hash of its content for the cache key.
 *
 * Why no apache-arrow runtime import: nodes do not import Arrow code (only `workbench/io/` does),
 * and a user's table may come from their own copy of apache-arrow. Everything here goes through
 * what every apache-arrow `Table` has: `schema.fields` (name, type, metadata), `getChildAt(i)`, and
 * iterating a column (nulls come back as null, dictionary codes decoded). Type ids are the Arrow
 * format's (apache-arrow's `Type` enum: Int = 2, Utf8 = 5, …; Dictionary = -1), stable across versions.
 */
import type { DataType, Field, Table } from "apache-arrow"
import { createHash } from "node:crypto"
import type { ColumnType } from "../../workbench/core/column-type.js"

const T = {
  Null: 1,
  Int: 2,
  Float: 3,
  Utf8: 5,
  Bool: 6,
  Date: 8,
  Timestamp: 10,
  List: 12,
  Struct: 13,
  FixedSizeList: 16,
  Map: 17,
  LargeUtf8: 20,
  LargeList: 21,
  Utf8View: 24,
  Dictionary: -1
} as const

/** Whether `u` is an Arrow table (duck-typed: any copy of apache-arrow). */
export const isArrowTable = (u: unknown): u is Table => {
  const t = u as Partial<Table> | null
  return (
    typeof t === "object" &&
    t !== null &&
    typeof t.numRows === "number" &&
    Array.isArray(t.schema?.fields) &&
    typeof t.getChildAt === "function"
  )
}

/** One column of the Arrow table, as load.arrow loads it. */
export interface ArrowColumn {
  readonly name: string
  /** The Arrow type as apache-arrow prints it (`Int64`, `Dictionary<Int32, Utf8>`), for messages. */
  readonly arrowType: string
  /** The engine type it loads as; undefined when load.arrow cannot load it. */
  readonly type: ColumnType | undefined
  /** The column holds lists (a list of {role, content} messages is a valid prompt). */
  readonly isList: boolean
}

/** The canonical Arrow extension marking JSON text in a Utf8 column (what `toArrow()` writes). */
const JSON_EXTENSION = "arrow.json"

const isJsonText = (field: Field) => field.metadata?.get("ARROW:extension:name") === JSON_EXTENSION

/** Engine type for an Arrow type (a dictionary's values decide), or undefined when unsupported. */
function engineTypeOf(type: DataType, field: Field): ColumnType | undefined {
  const t = type as DataType & { bitWidth?: number; isSigned?: boolean; dictionary?: DataType }
  switch (type.typeId as number) {
    case T.Null:
    case T.Utf8:
    case T.LargeUtf8:
    case T.Utf8View:
      return isJsonText(field) ? "json" : "utf8"
    case T.Int:
      // unsigned 64-bit values may not fit BIGINT: refused rather than wrapped
      if (t.isSigned === false && t.bitWidth === 64) return undefined
      return (t.bitWidth ?? 64) < 32 || (t.bitWidth === 32 && t.isSigned !== false) ? "int32" : "int64"
    case T.Float:
      return "float64"
    case T.Bool:
      return "bool"
    case T.Date:
      return "date"
    case T.Timestamp:
      return "timestamp"
    case T.List:
    case T.LargeList:
    case T.FixedSizeList:
    case T.Struct:
    case T.Map:
      return "json"
    case T.Dictionary:
      return t.dictionary === undefined ? undefined : engineTypeOf(t.dictionary, field)
    default:
      return undefined
  }
}

const listIds: ReadonlyArray<number> = [T.List, T.LargeList, T.FixedSizeList]

/** The columns of `table` with the engine type each loads as. */
export function arrowColumns(table: Table): Array<ArrowColumn> {
  return table.schema.fields.map((field) => {
    const type = field.type as DataType & { dictionary?: DataType }
    const valueType = type.typeId === T.Dictionary && type.dictionary !== undefined ? type.dictionary : type
    return {
      name: field.name,
      arrowType: String(field.type),
      type: engineTypeOf(field.type, field),
      isList: listIds.includes(valueType.typeId)
    }
  })
}

/** JSON text for nested values (lists, structs, maps); 64-bit integers as numbers when exact, else text. */
const jsonText = (v: unknown) =>
  JSON.stringify(v, (_k, x: unknown) =>
    typeof x === "bigint" ? (Number.isSafeInteger(Number(x)) ? Number(x) : x.toString()) : x
  )

/** How a value of an engine type goes to `Sql.load`: dates and times as ISO text, nested values as JSON. */
const loadValue = (type: ColumnType): ((v: unknown) => unknown) => {
  switch (type) {
    case "json":
      // a Utf8 column marked arrow.json already holds the text
      return (v) => (typeof v === "string" ? v : jsonText(v))
    case "timestamp":
      return (v) => new Date(Number(v)).toISOString()
    case "date":
      return (v) => new Date(Number(v)).toISOString().slice(0, 10)
    default:
      return (v) => v
  }
}

export interface ColumnValues {
  readonly values: Array<unknown>
  /** NaN float values: `Sql.load` stores them as NULL, which the node reports. */
  readonly nans: number
}

/** Column `index`'s values as a JS array, converted for `Sql.load`. */
export function columnValues(table: Table, index: number, type: ColumnType): ColumnValues {
  const vector = table.getChildAt(index)
  const values = new Array<unknown>(table.numRows)
  if (vector === null) return { values: values.fill(null), nans: 0 }
  const convert = loadValue(type)
  let i = 0,
    nans = 0
  for (const v of vector as Iterable<unknown>) {
    if (typeof v === "number" && Number.isNaN(v)) nans++
    values[i++] = v === null || v === undefined ? null : convert(v)
  }
  return { values, nans }
}

/** What the cache key and the manifest record of the table: its shape and a hash of its values. */
export interface TableDigest {
  readonly rows: number
  readonly columns: ReadonlyArray<string>
  readonly sha256: string
}

/**
 * A sha256 over the table's schema and every value, in row order. Values are hashed as what they
 * mean, not as buffers, so the same rows hash the same however they are split into batches.
 * Each value is written with its kind and length, so ("ab", "c") and ("a", "bc") differ.
 */
export function tableDigest(table: Table): TableDigest {
  const hash = createHash("sha256")
  const columns = table.schema.fields.map((f) => `${f.name}: ${String(f.type)}${isJsonText(f) ? " (json)" : ""}`)
  hash.update(JSON.stringify(columns))
  let buffer = ""
  const flush = () => {
    hash.update(buffer)
    buffer = ""
  }
  for (let c = 0; c < table.numCols; c++) {
    buffer += `\u0000column ${c}\u0000`
    const vector = table.getChildAt(c)
    if (vector === null) continue
    for (const v of vector as Iterable<unknown>) {
      if (v === null || v === undefined) buffer += "~"
      else if (typeof v === "string") buffer += `s${v.length}:${v}`
      else if (typeof v === "number") buffer += `n${Object.is(v, -0) ? "-0" : String(v)};`
      else if (typeof v === "bigint") buffer += `i${v};`
      else if (typeof v === "boolean") buffer += v ? "T" : "F"
      else {
        const text = jsonText(v)
        buffer += `j${text.length}:${text}`
      }
      // hash in ~1 MB pieces: one update per value costs more than the hashing itself
      if (buffer.length > 1 << 20) flush()
    }
  }
  flush()
  return { rows: table.numRows, columns, sha256: hash.digest("hex") }
}
