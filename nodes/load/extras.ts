/**
 * Pass-through of a source's extra fields: every top-level key a loader does not map becomes a
 * column of the pairs table, typed from the JSON values it holds across all records
 * (`load-survey.ts`), under a name no other column has (DuckDB compares names case-insensitively).
 */
import { Effect } from "effect"
import { Progress, Sql } from "../../workbench/core/services.js"
import type { RecordsTable } from "./read-lines.js"
import { keyPath, sqlText } from "./sql.js"
import { STRUCTURE_SAMPLE, type Structure, surveyNote, surveyStructure } from "./survey.js"
import { pairColumns } from "../lib/pair-tables.js"

export { STRUCTURE_SAMPLE }

/**
 * How one field becomes a column, given its type (from `json_group_structure`): scalars convert its
 * text `text` (one list extraction serves every scalar field; extracting JSON values costs ~3x more),
 * objects, arrays and mixed types keep their JSON (`json`).
 */
const convertSql = (text: string, json: string, structure: unknown): string => {
  switch (structure) {
    case "VARCHAR":
    case "NULL":
      return text
    case "BIGINT":
    case "UBIGINT":
      return `TRY_CAST(${text} AS BIGINT)`
    case "DOUBLE":
      return `TRY_CAST(${text} AS DOUBLE)`
    case "BOOLEAN":
      return `TRY_CAST(${text} AS BOOLEAN)`
    default:
      return json
  }
}

/**
 * The merged JSON structure of every good record: top-level key -> value type, as
 * `json_group_structure` gives it, from a sample completed over all records (`surveyStructure`).
 */
export const recordStructure = (records: RecordsTable) =>
  Effect.gen(function* () {
    const from = `${records.table} WHERE reason IS NULL`
    return yield* completeStructure(from, (yield* sampleStructure(from)).structure, [])
  })

/** `surveyStructure`, with a progress note when the sample missed keys or types. */
const completeStructure = (from: string, sample: Structure, mapped: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const survey = yield* surveyStructure(from, sample, mapped)
    const note = surveyNote(survey)
    if (note !== undefined) yield* (yield* Progress).note(note)
    return survey.structure
  })

/**
 * The structure of the first STRUCTURE_SAMPLE rows of `from` (a relation, optionally followed by a
 * WHERE clause, whose `raw` column holds good records), and how many rows that sample had. With
 * `mapped`, a caller that only uses the other keys: when no sampled record has another key, the
 * structure is {} (json_group_structure costs ~10 µs a record; listing the keys, a parse).
 */
export const sampleStructure = (from: string, mapped?: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const sql = yield* Sql
    const sample = `(SELECT raw FROM ${from} LIMIT ${STRUCTURE_SAMPLE})`
    if (mapped !== undefined) {
      const [row] = yield* sql.rows<{ n: number; other: number }>(`SELECT count(*) AS n,
        count(*) FILTER (WHERE NOT list_has_all([${mapped.map(sqlText).join(", ")}]::VARCHAR[], json_keys(raw))) AS other FROM ${sample}`)
      if (row!.other === 0) return { structure: {} as Structure, rows: row!.n }
    }
    const [row] = yield* sql.rows<{ s: string | null; n: number }>(
      `SELECT json_group_structure(raw::JSON)::VARCHAR AS s, count(*) AS n FROM ${sample}`
    )
    const structure = row?.s == null ? {} : (JSON.parse(row.s) as unknown)
    return {
      structure:
        typeof structure === "object" && structure !== null && !Array.isArray(structure)
          ? (structure as Structure)
          : {},
      rows: row?.n ?? 0
    }
  })

/** Pass-through columns: one text extraction for all fields (`_x`), then a conversion each. */
export interface Extras {
  /** The source keys, in `_x` order. */
  readonly keys: ReadonlyArray<string>
  /** Select item extracting every extra field's text from `raw` as a list named `_x`. */
  readonly select: string
  /** [SQL over `_x` and `raw`, column name] for each extra column. */
  readonly columns: ReadonlyArray<readonly [string, string]>
}

/**
 * Column names for `keys`, each unique ignoring case among themselves and `reserved` (lowercase):
 * a key a reserved name uses gets a `src_` prefix, a later one that differs only in case a `_1`,
 * `_2`, … suffix, and the empty key the name `unnamed`.
 */
export function columnNamesOf(keys: ReadonlyArray<string>, reserved: ReadonlySet<string>): Array<string> {
  const used = new Set(reserved)
  return keys.map((key) => {
    const base = key === "" ? "unnamed" : reserved.has(key.toLowerCase()) ? `src_${key}` : key
    let name = base
    for (let n = 1; used.has(name.toLowerCase()); n++) name = `${base}_${n}`
    used.add(name.toLowerCase())
    return name
  })
}

/**
 * Extra columns for each key of `structure` not in `mapped`. A key whose name a pairs column
 * already uses (or one in `reserved`) is renamed `src_<key>`; see `columnNamesOf`.
 */
export function extraColumnsOf(
  structure: Structure,
  mapped: ReadonlyArray<string>,
  reserved: ReadonlyArray<string> = [],
  raw = "raw"
): Extras {
  const taken = new Set([...Object.keys(pairColumns), "messages", ...reserved].map((n) => n.toLowerCase()))
  const keys = Object.entries(structure).filter(([key]) => !mapped.includes(key))
  const names = columnNamesOf(
    keys.map(([key]) => key),
    taken
  )
  return {
    keys: keys.map(([key]) => key),
    select:
      keys.length === 0
        ? "NULL::VARCHAR[] AS _x"
        : `json_extract_string(${raw}, [${keys.map(([k]) => sqlText(keyPath(k))).join(", ")}]) AS _x`,
    columns: keys.map(([key, type], i): readonly [string, string] => [
      convertSql(`_x[${i + 1}]`, `json_extract(${raw}, ${sqlText(keyPath(key))})`, type),
      names[i]!
    ])
  }
}

/** `extraColumnsOf` the records' own structure. */
export const extraColumns = (
  records: RecordsTable,
  mapped: ReadonlyArray<string>,
  reserved: ReadonlyArray<string> = []
) => Effect.map(recordStructure(records), (s) => extraColumnsOf(s, mapped, reserved))
