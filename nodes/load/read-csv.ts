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
 * - An unterminated quote runs to the end of the file (RFC 4180): the scanner refuses the rest of
 *   the file as one row. Each non-empty line it swallowed is counted as a rejected row of its own
 *   (`unclosedQuoteRows`), so the reject rate is not understated, and the first names the line the
 *   quote opens on.
 */
import { Effect } from "effect"
import { Sql } from "../../workbench/core/services.js"
import { literalPathSql } from "../lib/table-file.js"
import { peekText } from "../lib/file-fingerprint.js"
import {
  compressionOption,
  plainSql,
  type ReadSource,
  type RecordsTable,
  rowJsonSql,
  scanOptions,
  scanReason,
  shiftedSql
} from "./read-lines.js"
import { linesFrom } from "./read-stream.js"
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
  let field = "",
    quoted = false,
    atStart = true,
    i = 0
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

/** The quote and escape of a dialect, as the reader uses them (RFC 4180 by default). */
export const csvQuoting = (dialect: CsvDialect = {}) => {
  const quote = dialect.quote ?? '"'
  return { quote, escape: dialect.escape ?? quote }
}

/** The `read_csv` call for `source`: explicit dialect and columns, nothing sniffed. */
export function csvSource(
  source: ReadSource,
  dialect: CsvDialect = {}
): { readonly source: string; readonly columns: Array<string> } {
  const head = peekText(source.abs, 1 << 20).replace(/^\uFEFF/, "")
  const delimiter = dialect.delimiter ?? guessDelimiter(source.abs, head)
  const { quote, escape } = csvQuoting(dialect)
  const columns = columnNames(parseFirstRecord(head, delimiter, quote, escape))
  const types = columns.map((c) => `${sqlText(c)}: 'VARCHAR'`).join(", ")
  return {
    columns,
    source: `read_csv(${literalPathSql(source.abs)}, auto_detect = false, header = true, delim = ${sqlText(delimiter)},
      quote = ${sqlText(quote)}, escape = ${sqlText(escape)}, columns = {${types}}, nullstr = chr(0), max_line_size = 256000000,
      ${compressionOption(source)}`
  }
}

/**
 * An unterminated quote swallowed the rest of the file into the refused row at data row `pos`:
 * replace that one reject by one per non-empty line from the quote's line to the end (`at`: the
 * scanner's byte position of the row, which falls inside its first line).
 */
const unclosedQuoteRows = (source: ReadSource, out: string, pos: number, at: number) =>
  Effect.gen(function* () {
    const sql = yield* Sql
    const rest = yield* Effect.promise(() => linesFrom(source.abs, source.compression, at))
    if (rest.lines.length === 0) return
    const first = rest.firstLine,
      n = rest.lines.length
    const reasons = rest.lines.map((_, i) =>
      i === 0
        ? `unclosed quote: a quoted field opens on line ${first} and never closes, so the ${n} line(s) from there to the end of the file could not be read`
        : `swallowed by the unclosed quote on line ${first}`
    )
    const swallowed = sql.tempName("csv_swallowed")
    yield* sql.load(
      swallowed,
      [
        { name: "record", type: "int64" },
        { name: "raw", type: "utf8" },
        { name: "reason", type: "utf8" }
      ],
      [rest.lines.map((_, i) => pos - 1 + i), rest.lines.map((l) => l.text), reasons]
    )
    // the refused row is the last one (the quote reaches the end): appending keeps the table in row order
    yield* sql.run(`DELETE FROM ${out} WHERE record = ${pos - 1}; INSERT INTO ${out} SELECT record, raw, reason FROM ${swallowed} ORDER BY record;
      DROP TABLE ${swallowed}`)
  })

/** Read `source` into a records table: each row as a JSON object of its fields. */
export const readCsv = (source: ReadSource, dialect: CsvDialect = {}) =>
  Effect.gen(function* () {
    const sql = yield* Sql
    const { source: read, columns } = csvSource(source, dialect)
    const rows = sql.tempName("csv_rows"),
      bad = sql.tempName("csv_bad"),
      out = sql.tempName("records")
    const scan = scanOptions(sql)
    yield* sql.run(`CREATE TEMP TABLE ${rows} AS
      SELECT ordinality AS k, ${rowJsonSql(columns)} AS line FROM ${read}, ${scan.options}) WITH ORDINALITY`)
    // the scanner's line numbers count rows from the header: data row = line - 1 (1-based)
    yield* sql.run(`CREATE TEMP TABLE ${bad} AS
      SELECT line - 1 AS pos, any_value(error_type) AS err, any_value(error_message) AS detail, any_value(csv_line) AS text,
             min(line_byte_position) AS row_byte
      FROM ${scan.errors} GROUP BY line`)
    const refused = yield* sql.count(bad)
    yield* sql.run(`CREATE TEMP TABLE ${out} AS
      SELECT pos - 1 AS record, coalesce(line, text) AS raw,
             CASE WHEN err IS NOT NULL THEN ${scanReason("err", "detail")} END AS reason
      FROM (${refused === 0 ? plainSql(rows, "line") : shiftedSql(rows, bad, ["line"])})
      ${refused === 0 ? "" : "ORDER BY pos"}`)
    const [unclosed] =
      refused === 0
        ? []
        : yield* sql.rows<{ pos: number; row_byte: number }>(
            `SELECT pos, row_byte FROM ${bad} WHERE err = 'UNQUOTED VALUE' AND detail ILIKE '%unterminated quote%' ORDER BY pos LIMIT 1`
          )
    if (unclosed !== undefined) yield* unclosedQuoteRows(source, out, unclosed.pos, unclosed.row_byte)
    const records = yield* sql.count(out)
    yield* sql.run(`DROP TABLE ${rows}; DROP TABLE ${bad}`)
    return { table: out, records, blankLines: 0 } satisfies RecordsTable
  })
