/**
 * CSV/TSV (.gz) with a header row, read with RFC 4180 quoting (quote `"`, a quote inside a quoted
 * field doubled) unless the caller's dialect says otherwise: every field as text (an empty field is
 * ""), record = 0-based data row. Rows the scanner refuses (wrong field count, invalid UTF-8, an
 * unterminated quote) become rejects with the reason.
 *
 * Why not DuckDB's sniffer: it picks the quoting from the first ~20k rows, so a file whose first
 * quote comes later is read with no quoting at all (its quoted multi-line fields split into rows),
 * and one unterminated quote in the sample makes it give up on quoting. Here only the delimiter is
 * guessed, from the header row, and the header is parsed with the same dialect as the data.
 *
 * Gotchas
 * - The scanner numbers refused rows by row (a quoted multi-line field counts once) but skips blank
 *   lines without a trace: a blank line between data rows shifts the numbers of refused rows after it.
 * - An unterminated quote runs to the end of the file (RFC 4180): the rest of the file is one refused row.
 */
import { Effect } from "effect"
import { Sql } from "../../workbench/core/services.js"
import { peekText } from "./file-fingerprint.js"
import { plainSql, type RecordsTable, rowJsonSql, scanOptions, scanReason, shiftedSql } from "./read-lines.js"
import { sqlText } from "./sql.js"

/** How fields are delimited and quoted. `quote: ""` turns quoting off. */
export interface CsvDialect {
  readonly delimiter?: string
  readonly quote?: string
  readonly escape?: string
}

const DELIMITERS = [",", "\t", ";", "|"]

/** The fields of the first record of `text` (a quoted field may span lines). */
export function parseFirstRecord(text: string, delimiter: string, quote: string, escape: string): Array<string> {
  const fields: Array<string> = []
  let field = "", quoted = false, atStart = true, i = 0
  while (i < text.length) {
    if (quoted) {
      if (escape !== "" && text.startsWith(escape + quote, i)) {
        field += quote
        i += escape.length + quote.length
      } else if (escape !== quote && escape !== "" && text.startsWith(escape + escape, i)) {
        field += escape
        i += 2 * escape.length
      } else if (text.startsWith(quote, i)) {
        quoted = false
        i += quote.length
      } else field += text[i++]
    } else if (text.startsWith(delimiter, i)) {
      fields.push(field)
      field = ""
      atStart = true
      i += delimiter.length
    } else if (text[i] === "\n" || text[i] === "\r") break
    else if (atStart && quote !== "" && text.startsWith(quote, i)) {
      quoted = true
      atStart = false
      i += quote.length
    } else {
      field += text[i++]
      atStart = false
    }
  }
  fields.push(field)
  return fields
}

/** The delimiter of a header line: the candidate found most often outside quotes (a comma when none is). */
function guessDelimiter(abs: string, header: string): string {
  if (/\.tsv(\.gz|\.gzip)?$/i.test(abs)) return "\t"
  const counts = DELIMITERS.map((d) => parseFirstRecord(header, d, '"', '"').length)
  const best = Math.max(...counts)
  return best <= 1 ? "," : DELIMITERS[counts.indexOf(best)]!
}

/** Column names as DuckDB's sniffer makes them: empty -> column<i>, repeats (ignoring case) -> name_1, name_2. */
export function columnNames(fields: ReadonlyArray<string>): Array<string> {
  const used = new Set<string>()
  return fields.map((f, i) => {
    const base = f === "" ? `column${i}` : f
    let name = base
    for (let n = 1; used.has(name.toLowerCase()); n++) name = `${base}_${n}`
    used.add(name.toLowerCase())
    return name
  })
}

/** The `read_csv` call for `abs`: explicit dialect and columns, nothing sniffed. */
export function csvSource(abs: string, dialect: CsvDialect = {}): { readonly source: string; readonly columns: Array<string> } {
  const head = peekText(abs, 1 << 20).replace(/^\uFEFF/, "")
  const delimiter = dialect.delimiter ?? guessDelimiter(abs, head)
  const quote = dialect.quote ?? '"'
  const escape = dialect.escape ?? quote
  const columns = columnNames(parseFirstRecord(head, delimiter, quote, escape))
  const types = columns.map((c) => `${sqlText(c)}: 'VARCHAR'`).join(", ")
  return {
    columns,
    source: `read_csv(${sqlText(abs)}, auto_detect = false, header = true, delim = ${sqlText(delimiter)},
      quote = ${sqlText(quote)}, escape = ${sqlText(escape)}, columns = {${types}}, nullstr = chr(0), max_line_size = 256000000`
  }
}

/** Read `abs` into a records table: each row as a JSON object of its fields. */
export const readCsv = (abs: string, dialect: CsvDialect = {}) =>
  Effect.gen(function*() {
    const sql = yield* Sql
    const { source, columns } = csvSource(abs, dialect)
    const rows = sql.tempName("csv_rows"), bad = sql.tempName("csv_bad"), out = sql.tempName("records")
    const scan = scanOptions(sql)
    yield* sql.run(`CREATE TEMP TABLE ${rows} AS
      SELECT ordinality AS k, ${rowJsonSql(columns)} AS line FROM ${source}, ${scan.options}) WITH ORDINALITY`)
    // the scanner's line numbers count rows from the header: data row = line - 1 (1-based)
    yield* sql.run(`CREATE TEMP TABLE ${bad} AS
      SELECT line - 1 AS pos, any_value(error_type) AS err, any_value(error_message) AS detail, any_value(csv_line) AS text
      FROM ${scan.errors} GROUP BY line`)
    const refused = yield* sql.count(bad)
    yield* sql.run(`CREATE TEMP TABLE ${out} AS
      SELECT pos - 1 AS record, coalesce(line, text) AS raw,
             CASE WHEN err IS NOT NULL THEN ${scanReason("err", "detail")} END AS reason
      FROM (${refused === 0 ? plainSql(rows, "line") : shiftedSql(rows, bad, ["line"])})
      ${refused === 0 ? "" : "ORDER BY pos"}`)
    const records = yield* sql.count(out)
    yield* sql.run(`DROP TABLE ${rows}; DROP TABLE ${bad}`)
    return { table: out, records, blankLines: 0 } satisfies RecordsTable
  })
