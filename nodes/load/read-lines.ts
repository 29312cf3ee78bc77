/**
 * JSON Lines through DuckDB's CSV scanner (one VARCHAR per line, the "line-per-row trick"), and the
 * pieces it shares with the CSV reader (`load-read-csv.ts`). Both keep every record's number,
 * including records the scanner refused (invalid UTF-8, a CSV row with the wrong number of fields),
 * which come back as rejects with the reason.
 *
 * Gotchas
 * - The scanner numbers emitted rows only (`WITH ORDINALITY`), so refused lines leave gaps; the ASOF
 *   join shifts each row's number by the count of refused lines before it (duckdb-node-api guide §2).
 * - The scanner takes its line ending (LF, CRLF or CR) from the start of the file and fails outright
 *   ("CSV Parser state machine reached an invalid state") on a file that mixes them; `strict_mode =
 *   false` would read it but silently cuts a line at a stray delimiter byte. `readRecords` reads such
 *   a file from a copy with CRLF rewritten to LF (`read-stream.ts`), which keeps every line number.
 * - DuckDB globs every path it is given: readers name files through `literalPathSql`.
 */
import { Effect } from "effect"
import { Sql } from "../../workbench/core/services.js"
import { literalPathSql } from "../lib/table-file.js"
import type { Compression } from "./read-stream.js"
import { sqlIdent, sqlText } from "./sql.js"

/** The file DuckDB reads (the source file, or a rewritten copy of it) and its compression. */
export interface ReadSource {
  readonly abs: string
  readonly compression: Compression
}

/** The read_csv options naming the compression (from the file's bytes, not its name). */
export const compressionOption = (source: ReadSource) =>
  `compression = ${sqlText(source.compression === "none" ? "uncompressed" : source.compression)}`

/** A table `(record BIGINT, raw VARCHAR, reason VARCHAR)`: raw is the record as JSON text when reason is null. */
export interface RecordsTable {
  readonly table: string
  readonly records: number
  /** Blank lines skipped (JSONL): not records, so not counted anywhere else. */
  readonly blankLines: number
}

/**
 * Rows of `good(k, <cols>)` (k = 1-based emitted row) plus refused rows of `bad(pos, err, detail, text)`
 * (pos = 1-based position among all rows), as `(pos, <cols>, err, detail, text)` in one relation.
 */
export const shiftedSql = (good: string, bad: string, cols: ReadonlyArray<string>) => `
  WITH s AS (SELECT pos - i AS key, max(i) AS before
             FROM (SELECT pos, row_number() OVER (ORDER BY pos) AS i FROM ${bad}) GROUP BY ALL)
  SELECT g.k + coalesce(s.before, 0) AS pos, ${cols.map((c) => `g.${c}`).join(", ")},
    NULL::VARCHAR AS err, NULL::VARCHAR AS detail, NULL::VARCHAR AS text
  FROM ${good} g ASOF LEFT JOIN s ON g.k > s.key
  UNION ALL
  SELECT pos, ${cols.map(() => "NULL").join(", ")}, err, detail, text FROM ${bad}`

/** The same relation when nothing was refused: no join, and the rows stay in file order. */
export const plainSql = (good: string, cols: string) =>
  `SELECT k AS pos, ${cols}, NULL::VARCHAR AS err, NULL::VARCHAR AS detail, NULL::VARCHAR AS text FROM ${good}`

export const scanOptions = (sql: Sql["Service"]) => {
  const errors = sql.tempName("scan_errors"),
    scans = sql.tempName("scan_scans")
  return {
    errors,
    options: `ignore_errors = true, store_rejects = true, rejects_table = ${sqlText(errors)}, rejects_scan = ${sqlText(scans)}`
  }
}

export const scanReason = (err: string, detail: string) =>
  `CASE WHEN ${err} = 'INVALID ENCODING' THEN 'invalid UTF-8' ELSE 'unreadable row: ' || lower(${err}) || coalesce(' (' || ${detail} || ')', '') END`

/** Marks blank lines in the first pass over a JSON Lines file; they are deleted right after. */
const BLANK = "blank line"

/** The characters JSON counts as whitespace (RFC 8259): a line of only these is blank. */
const JSON_SPACE = "' ' || chr(9) || chr(10) || chr(13)"

/**
 * SQL: a JSON type as `json_type` names it, in the words a user knows: 'a string', 'a number',
 * 'a boolean', 'an array', 'an object', 'null'; 'nothing' for a missing value (NULL).
 */
export const jsonTypeWordSql = (type: string): string =>
  `CASE ${type} WHEN 'VARCHAR' THEN 'a string' WHEN 'BIGINT' THEN 'a number' WHEN 'UBIGINT' THEN 'a number'
     WHEN 'DOUBLE' THEN 'a number' WHEN 'BOOLEAN' THEN 'a boolean' WHEN 'ARRAY' THEN 'an array'
     WHEN 'OBJECT' THEN 'an object' WHEN 'NULL' THEN 'null' ELSE coalesce(lower(${type}), 'nothing') END`

/**
 * SQL: why text `raw` is not a JSON object ('malformed JSON', 'expected a JSON object, got an array'),
 * or NULL. `types`: a `try(json_type(raw, …))` the caller computes anyway, NULL exactly when `raw`
 * is not valid JSON; without it, `json_valid` parses every line once more.
 */
export const jsonProblemSql = (raw: string, types?: string): string => {
  // CASE, not OR/AND: json_type must not see malformed text, and OR evaluates both sides on every row
  const notObject = `CASE WHEN json_type(${raw}) <> 'OBJECT' THEN 'expected a JSON object, got ' || ${jsonTypeWordSql(`json_type(${raw})`)} END`
  return types === undefined
    ? `CASE WHEN NOT json_valid(${raw}) THEN 'malformed JSON' WHEN starts_with(${raw}, '{') THEN NULL ELSE ${notObject} END`
    : `CASE WHEN ${types} IS NULL THEN coalesce(CASE WHEN json_valid(${raw}) THEN ${notObject} END, 'malformed JSON')
        WHEN starts_with(${raw}, '{') THEN NULL ELSE ${notObject} END`
}

/**
 * JSON Lines (.gz): record = 0-based line number; blank lines (only spaces, tabs, CRs) are skipped.
 * One pass reads and numbers the lines into the records table (the scanner runs on one thread:
 * lines may be 256 MB); a parallel one then marks malformed JSON, unless `checkJson` is false (the
 * caller checks each record with `jsonProblemSql` as it parses it anyway). Only when the scanner
 * refused lines (invalid UTF-8) does another pass shift the numbers and add the refused lines.
 */
export const readJsonLines = (source: ReadSource, checkJson = true) =>
  Effect.gen(function* () {
    const sql = yield* Sql
    const first = sql.tempName("jsonl_lines"),
      bad = sql.tempName("jsonl_bad")
    const scan = scanOptions(sql)
    // blank: NULL, or short and all JSON whitespace (space, tab, CR, LF). CASE, not OR/AND: only short
    // lines are trimmed (trim copies the string, and OR evaluated it on every line)
    yield* sql.run(`CREATE TEMP TABLE ${first} AS
      SELECT ordinality - 1 AS record, line AS raw,
        CASE WHEN CASE WHEN line IS NULL THEN true WHEN strlen(line) > 256 THEN false ELSE trim(line, ${JSON_SPACE}) = '' END
          THEN ${sqlText(BLANK)} END AS reason
      FROM read_csv(${literalPathSql(source.abs)}, columns = {'line': 'VARCHAR'}, header = false, auto_detect = false, delim = chr(1),
        quote = '', escape = '', max_line_size = 256000000, ${compressionOption(source)}, ${scan.options}) WITH ORDINALITY`)
    const [blank] = yield* sql.rows<{ n: number }>(
      `SELECT count(*) AS n FROM ${first} WHERE reason = ${sqlText(BLANK)}`
    )
    const blankLines = blank!.n
    // a delete only marks rows: the table keeps its file order
    if (blankLines > 0) yield* sql.run(`DELETE FROM ${first} WHERE reason = ${sqlText(BLANK)}`)
    if (checkJson) {
      // the WHERE repeats the check so only failing rows are written: updating every row costs more than checking twice
      yield* sql.run(
        `UPDATE ${first} SET reason = ${jsonProblemSql("raw")} WHERE (${jsonProblemSql("raw")}) IS NOT NULL`
      )
    }
    yield* sql.run(`CREATE TEMP TABLE ${bad} AS
      SELECT line AS pos, any_value(error_type) AS err, any_value(error_message) AS detail, any_value(csv_line) AS text
      FROM ${scan.errors} GROUP BY line`)
    const refused = yield* sql.count(bad)
    if (refused === 0) {
      // without refused lines, the scanner's row number is the line number: no join, no sort
      yield* sql.run(`DROP TABLE ${bad}`)
      return { table: first, records: yield* sql.count(first), blankLines } satisfies RecordsTable
    }
    const out = sql.tempName("records")
    yield* sql.run(`CREATE TEMP TABLE ${out} AS
      SELECT pos - 1 AS record, coalesce(raw, text) AS raw,
        CASE WHEN err IS NOT NULL THEN ${scanReason("err", "detail")} ELSE reason END AS reason
      FROM (${shiftedSql(`(SELECT record + 1 AS k, raw, reason FROM ${first})`, bad, ["raw", "reason"])})
      ORDER BY pos`)
    yield* sql.run(`DROP TABLE ${first}; DROP TABLE ${bad}`)
    return { table: out, records: yield* sql.count(out), blankLines } satisfies RecordsTable
  })

/** A struct literal of the listed columns, as JSON text: the record as a JSON object. */
export const rowJsonSql = (columns: ReadonlyArray<string>, from = ""): string =>
  `to_json({${columns.map((c) => `${sqlText(c)}: ${from}${sqlIdent(c)}`).join(", ")}})::VARCHAR`
