/**
 * The fields of every record, not just a sample: which top-level keys a file has, and whether each
 * typed pass-through column can hold all of its values.
 *
 * A structure sample (`json_group_structure` over the first STRUCTURE_SAMPLE records, ~10 µs a
 * record) names the columns and their types; one pass over all records (a JSON parse each, ~1 µs)
 * then finds the keys the sample never saw and the values a sampled type cannot hold. load.trl runs
 * that check inside its own single pass (`fitChecks`, `finishSurvey`). Keys first seen late get
 * their own sample and check; a column whose values do not all fit its type is widened (integers ->
 * DOUBLE when every value is a JSON number and no integer is beyond 2^53, else JSON), never nulled
 * or rounded.
 *
 * Gotchas
 * - The check reads values as text: a JSON string written exactly like a number ("12") fits a
 *   number column, and loads as that number.
 * - `from` may hold records that are not JSON objects (load.trl checks them later): every parse is
 *   wrapped in try(), and such records count for nothing.
 */
import { Effect } from "effect"
import { Sql } from "../../workbench/core/services.js"
import { keyPath, sqlText } from "./sql.js"

export type Structure = Readonly<Record<string, unknown>>

/** Records whose keys and value types decide the extra columns (as DuckDB's read_json samples). */
export const STRUCTURE_SAMPLE = 20_480

/** What the survey changed about a sampled structure, for the node's notes. */
export interface Survey {
  readonly structure: Structure
  /** Keys no sampled record had, now in `structure`. */
  readonly late: ReadonlyArray<string>
  /** Keys whose sampled type could not hold a later value: key -> the type they now have. */
  readonly widened: Readonly<Record<string, string>>
}

const INT = "-?(0|[1-9][0-9]*)"
/** SQL: text `x` (a JSON value's text) is an integer a BIGINT holds. */
const intFits = (x: string) =>
  `(${x} IS NULL OR (regexp_full_match(${x}, '${INT}') AND TRY_CAST(${x} AS BIGINT) IS NOT NULL))`
/** SQL: `x` is a JSON number, and not an integer too large for a DOUBLE to hold exactly. */
const numberFits = (x: string) =>
  `(${x} IS NULL OR (regexp_full_match(${x}, '${INT}([.][0-9]+)?([eE][+-]?[0-9]+)?')
     AND (NOT regexp_full_match(${x}, '${INT}') OR abs(TRY_CAST(${x} AS DOUBLE)) <= 9007199254740992)))`
const boolFits = (x: string) => `(${x} IS NULL OR ${x} IN ('true', 'false'))`

/** Sampled scalar types whose conversion could fail on a later value, and how each is checked. */
const CHECKS: Readonly<Record<string, ReadonlyArray<readonly [string, (x: string) => string]>>> = {
  BIGINT: [
    ["BIGINT", intFits],
    ["DOUBLE", numberFits]
  ],
  UBIGINT: [
    ["BIGINT", intFits],
    ["DOUBLE", numberFits]
  ],
  DOUBLE: [["DOUBLE", numberFits]],
  BOOLEAN: [["BOOLEAN", boolFits]]
}

/** The structure of the first STRUCTURE_SAMPLE rows of `from` that hold one of `keys`, those keys only. */
const sampleKeys = (from: string, keys: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const sql = yield* Sql
    const [row] = yield* sql.rows<{ s: string | null }>(`SELECT json_group_structure(raw::JSON)::VARCHAR AS s FROM (
      SELECT raw FROM (SELECT raw FROM ${from})
      WHERE list_has_any(try(json_keys(raw)), [${keys.map(sqlText).join(", ")}]::VARCHAR[]) LIMIT ${STRUCTURE_SAMPLE})`)
    const all = row?.s == null ? {} : (JSON.parse(row.s) as Record<string, unknown>)
    return Object.fromEntries(keys.map((k) => [k, all[k] ?? "NULL"]))
  })

/**
 * Per-record checks of the typed fields of `structure` (those not in `mapped`): `exprs`, SQL
 * booleans over each field's text (`textOf(key)`), and `typesOf`, the type each field takes given
 * whether every record passed each check (`bool_and` of each expr; null = no record had the field).
 */
export function fitChecks(structure: Structure, mapped: ReadonlyArray<string>, textOf: (key: string) => string) {
  const checked = Object.entries(structure).filter(
    ([k, t]) => !mapped.includes(k) && typeof t === "string" && CHECKS[t] !== undefined
  )
  return {
    exprs: checked.flatMap(([key, t]) => CHECKS[t as string]!.map(([, fits]) => fits(textOf(key)))),
    typesOf(fits: ReadonlyArray<boolean | null | undefined>): Record<string, string> {
      const types: Record<string, string> = {}
      let at = 0
      for (const [key, t] of checked) {
        const candidates = CHECKS[t as string]!
        const first = candidates.findIndex((_, j) => fits[at + j] !== false)
        at += candidates.length
        types[key] = first < 0 ? "JSON" : candidates[first]![0]
      }
      return types
    }
  }
}

/** What a pass over every record found: keys outside the sample, and the type each checked field takes. */
export interface Found {
  readonly late: ReadonlyArray<string>
  readonly types: Readonly<Record<string, string>>
}

/**
 * One pass over `from`: the keys outside `known` (when `findLate`), and for each checked field of
 * `structure` the first of its candidate types that holds every value.
 */
const checkAll = (from: string, structure: Structure, known: ReadonlyArray<string>, findLate: boolean) =>
  Effect.gen(function* () {
    const sql = yield* Sql
    const keys = Object.entries(structure)
      .filter(([, t]) => typeof t === "string" && CHECKS[t] !== undefined)
      .map(([k]) => k)
    const checks = fitChecks(structure, [], (key) => `x[${keys.indexOf(key) + 1}]`)
    if (!findLate && checks.exprs.length === 0) return { late: [], types: {} } satisfies Found
    const knownList = `[${known.map(sqlText).join(", ")}]::VARCHAR[]`
    // only records with a key outside `known` build a list (list_has_all first: most records have none)
    const [row] = yield* sql.rows<{
      late: ReadonlyArray<string> | null
      fits: ReadonlyArray<boolean | null> | null
    }>(`SELECT
        ${findLate ? "list_distinct(flatten(list(late) FILTER (WHERE late IS NOT NULL)))" : "NULL"} AS late,
        ${checks.exprs.length === 0 ? "NULL" : `[${checks.exprs.map((e) => `bool_and(${e})`).join(", ")}]`} AS fits
      FROM (SELECT ${
        findLate
          ? `CASE WHEN NOT list_has_all(${knownList}, k) THEN list_filter(k, lambda key: NOT list_contains(${knownList}, key)) END`
          : "NULL"
      } AS late,
          ${checks.exprs.length === 0 ? "NULL" : `try(json_extract_string(raw, [${keys.map((k) => sqlText(keyPath(k))).join(", ")}]))`} AS x
        FROM (SELECT raw, ${findLate ? "try(json_keys(raw))" : "NULL"} AS k FROM ${from}))`)
    return { late: row?.late ?? [], types: checks.typesOf(row?.fits ?? []) } satisfies Found
  })

/**
 * Complete `sample` given what a pass over every row of `from` found (`found`): sample and check the
 * late keys the same way, and widen what does not fit.
 */
export const finishSurvey = (from: string, sample: Structure, mapped: ReadonlyArray<string>, found: Found) =>
  Effect.gen(function* () {
    const late = found.late.filter((k) => !mapped.includes(k))
    const lateStructure = late.length === 0 ? {} : yield* sampleKeys(from, late)
    const second = late.length === 0 ? { types: {} } : yield* checkAll(from, lateStructure, [], false)
    const widened: Record<string, string> = {}
    const structure: Record<string, unknown> = { ...sample, ...lateStructure }
    for (const [key, type] of Object.entries({ ...found.types, ...second.types })) {
      const was = structure[key] === "UBIGINT" ? "BIGINT" : structure[key]
      if (type !== was) widened[key] = type
      structure[key] = type
    }
    return { structure, late, widened } satisfies Survey
  })

/**
 * Complete `sample` (the structure of the first records) over every row of `from` (a relation whose
 * `raw` holds the records, followed by a WHERE clause). `mapped`: keys the caller maps itself; they
 * are never columns, so their types are not checked.
 */
export const surveyStructure = (from: string, sample: Structure, mapped: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const own = Object.fromEntries(Object.entries(sample).filter(([k]) => !mapped.includes(k)))
    const found = yield* checkAll(from, own, [...mapped, ...Object.keys(sample)], true)
    return yield* finishSurvey(from, sample, mapped, found)
  })

/** A note on what the survey found beyond the sample, or undefined when the sample told all. */
export function surveyNote(survey: Survey): string | undefined {
  const parts = [
    ...(survey.late.length === 0
      ? []
      : [
          `fields first seen after the first ${STRUCTURE_SAMPLE.toLocaleString("en-US")} records: ${survey.late.join(", ")}`
        ]),
    ...Object.entries(survey.widened).map(([k, t]) => `column ${k} widened to ${t} to hold every value`)
  ]
  return parts.length === 0 ? undefined : parts.join("; ")
}
