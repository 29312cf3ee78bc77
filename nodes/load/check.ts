/**
 * Record validation and the rejects table. A loader lists the fields it needs with their JSON types;
 * every record that lacks one, or has the wrong type, gets a reason such as
 * "response1: expected a string, got a boolean". Reasons are written in SQL over all records at once.
 *
 * The rejects table numbers records as users count them in that format: `line` (1-based) for JSON
 * Lines, `index` (0-based element) for JSON arrays, `row` (1-based data row) for CSV and Parquet.
 */
import { Effect } from "effect"
import { DataError } from "../../workbench/core/errors.js"
import { Sql } from "../../workbench/core/services.js"
import type { FileFormat, LoadContext, SourceFile } from "./files.js"
import { where } from "./files.js"
import { jsonTypeWordSql, type RecordsTable } from "./read-lines.js"
import { keyPath, sqlIdent, sqlText } from "./sql.js"

export type JsonKind = "string" | "number" | "integer" | "bool" | "array" | "object"

/** A field a record must (or may) have, with the JSON types it may take. */
export interface FieldCheck {
  readonly name: string
  readonly kinds: ReadonlyArray<JsonKind>
  /** May be missing or null. */
  readonly optional?: boolean
}

const TYPES: Record<JsonKind, ReadonlyArray<string>> = {
  string: ["VARCHAR"],
  number: ["BIGINT", "UBIGINT", "DOUBLE"],
  integer: ["BIGINT", "UBIGINT"],
  bool: ["BOOLEAN"],
  array: ["ARRAY"],
  object: ["OBJECT"]
}

/** What a reason says was expected, in user words. */
const WORDS: Record<JsonKind, string> = {
  string: "a string",
  number: "a number",
  integer: "an integer",
  bool: "a boolean",
  array: "an array",
  object: "an object"
}
const expectedOf = (f: FieldCheck) => f.kinds.map((k) => WORDS[k]).join(" or ")

const list = (xs: ReadonlyArray<string>) => `[${xs.map(sqlText).join(", ")}]`

/** SQL: the JSON types of `fields` in `raw` as a list, in order (one parse for all fields). */
export const fieldTypesSql = (raw: string, fields: ReadonlyArray<FieldCheck>): string =>
  `json_type(${raw}, ${list(fields.map((f) => keyPath(f.name)))})`

/**
 * SQL for the first problem with `raw`'s fields, or NULL. One JSON parse for all fields
 * (`json_type(raw, [paths])`); `raw` must be a valid JSON object. `types`: a column holding that list
 * of types when the caller has it already (`fieldTypesSql`), saving the parse; the check is then
 * written out field by field (a lambda over the list costs ~5x more).
 */
export function fieldProblemSql(raw: string, fields: ReadonlyArray<FieldCheck>, types?: string): string {
  if (fields.length === 0) return "NULL::VARCHAR"
  const allowedOf = (f: FieldCheck) => [...f.kinds.flatMap((k) => TYPES[k]), ...(f.optional ? ["NULL"] : [])]
  if (types !== undefined) {
    const each = fields.map((f, i) => {
      const t = `${types}[${i + 1}]`
      return `CASE WHEN ${t} IS NULL THEN ${f.optional ? "NULL" : sqlText(`${f.name}: missing`)}
        WHEN ${t} NOT IN (${allowedOf(f).map(sqlText).join(", ")}) THEN ${sqlText(`${f.name}: expected ${expectedOf(f)}, got `)} || ${jsonTypeWordSql(t)} END`
    })
    return `CASE WHEN ${types} IS NOT NULL THEN coalesce(${each.join(", ")}) END`
  }
  const names = list(fields.map((f) => f.name))
  const allowed = `[${fields.map((f) => list(allowedOf(f))).join(", ")}]`
  const expected = list(fields.map(expectedOf))
  const optional = `[${fields.map((f) => (f.optional ? "true" : "false")).join(", ")}]`
  return `list_filter(list_transform(${fieldTypesSql(raw, fields)}, lambda t, i: CASE
      WHEN t IS NULL THEN CASE WHEN NOT ${optional}[i] THEN ${names}[i] || ': missing' END
      WHEN NOT list_contains(${allowed}[i], t) THEN ${names}[i] || ': expected ' || ${expected}[i] || ', got ' || ${jsonTypeWordSql("t")}
    END), lambda x: x IS NOT NULL)[1]`
}

/**
 * Give a reason to each record whose fields fail `fields`, then to those failing `extra` (SQL
 * expressions over `raw` that return a reason or NULL; they see only records whose fields passed).
 */
export const checkRecords = (
  records: RecordsTable,
  fields: ReadonlyArray<FieldCheck>,
  extra: ReadonlyArray<string> = []
) =>
  Effect.gen(function* () {
    const sql = yield* Sql
    // the WHERE repeats the check so only failing rows are written: updating every row costs more than checking twice.
    // CASE, not AND: AND may evaluate the check on rows already rejected (malformed JSON: it would throw)
    for (const e of [fieldProblemSql("raw", fields), ...extra]) {
      yield* sql.run(
        `UPDATE ${records.table} SET reason = ${e} WHERE (CASE WHEN reason IS NULL THEN ${e} END) IS NOT NULL`
      )
    }
  })

/** One source file's records, as the rejects table and the reject-rate check see it. */
export interface CheckedFile {
  readonly file: SourceFile
  readonly records: RecordsTable
}

export interface Rejects {
  readonly table: string
  readonly rejected: number
  readonly records: number
}

const percent = (x: number) => (x === 0 ? "0" : x * 100 < 0.1 ? (x * 100).toPrecision(1) : (x * 100).toFixed(1))

/** How users count a format's records, and the rejects column that holds the number. */
export type Numbering = "line" | "index" | "row"
export const numberingOf = (format: FileFormat): Numbering =>
  format === "jsonl" ? "line" : format === "json" ? "index" : "row"
const NUMBERINGS: ReadonlyArray<Numbering> = ["line", "index", "row"]
/** The user's number from the 0-based `record`: lines and rows count from 1, array elements from 0. */
const userNumberSql = (n: Numbering) => (n === "index" ? "record" : "record + 1")

/**
 * Collect the rejected records of all files into the rejects table `(file, line | index | row,
 * reason, raw)`, and fail with a DataError when the rejected fraction exceeds `maxRejectRate`. The
 * table has a number column for each numbering its files use (NULL in the others' rows).
 */
export const collectRejects = (ctx: LoadContext, files: ReadonlyArray<CheckedFile>, maxRejectRate: number) =>
  Effect.gen(function* () {
    const sql = yield* Sql
    const table = sql.tempName("rejects")
    const used = NUMBERINGS.filter((n) => files.some((f) => numberingOf(f.file.format) === n))
    const numbering = used.length === 0 ? ["row" as const] : used
    yield* sql.run(`CREATE TABLE ${table} AS ${
      files.length === 0
        ? `SELECT NULL::VARCHAR AS file, ${numbering.map((n) => `NULL::BIGINT AS ${sqlIdent(n)}`).join(", ")}, NULL::VARCHAR AS reason,
           NULL::VARCHAR AS raw, 0 AS file_no, 0 AS record WHERE false`
        : files
            .map(
              (f, i) => `
      SELECT ${sqlText(f.file.shown)} AS file,
        ${numbering.map((n) => `${n === numberingOf(f.file.format) ? `(${userNumberSql(n)})` : "NULL"}::BIGINT AS ${sqlIdent(n)}`).join(", ")},
        reason, raw, ${i} AS file_no, record
      FROM ${f.records.table} WHERE reason IS NOT NULL`
            )
            .join(" UNION ALL ")
    }
      ORDER BY file_no, record`)
    yield* sql.run(`ALTER TABLE ${table} DROP COLUMN file_no; ALTER TABLE ${table} DROP COLUMN record`)
    const rejected = yield* sql.count(table)
    const records = files.reduce((s, f) => s + f.records.records, 0)
    if (records > 0 && rejected / records > maxRejectRate) {
      const examples = yield* sql.rows<{ file: string; place: string; reason: string }>(
        `SELECT file, coalesce(${numbering.map((n) => `'${n} ' || ${sqlIdent(n)}`).join(", ")}) AS place, reason FROM ${table} LIMIT 3`
      )
      // in file order (DISTINCT alone may return them in any order)
      const byFile = yield* sql.rows<{ file: string }>(`SELECT file FROM ${table} GROUP BY file ORDER BY min(rowid)`)
      const manyFiles = byFile.length > 1
      const rate = rejected / records
      // load.arrow's rows come from an in-memory table (no path), not a file
      const inMemory = files.every((f) => f.file.abs === "")
      return yield* new DataError({
        where: where(ctx, inMemory ? "param table" : `file ${byFile.map((f) => f.file).join(", ")}`),
        found:
          `${rejected} of ${records} records rejected (${percent(rate)}%): ` +
          examples.map((e) => `${manyFiles ? `${e.file} ` : ""}${e.place}: ${e.reason}`).join("; ") +
          (rejected > 3 ? `; … (${rejected - 3} more)` : ""),
        expected: `a reject rate of at most ${percent(maxRejectRate)}% (maxRejectRate: ${maxRejectRate})`,
        fix:
          `${inMemory ? "fix those rows of the table" : "fix the file"}, or set maxRejectRate to ${Math.ceil(rate * 1000) / 1000} or more to load the other ` +
          `records; the rejects table then lists every rejected record with its reason`
      })
    }
    return { table, rejected, records } satisfies Rejects
  })
