/**
 * Query results for people and for scripts: an aligned text table that fits the terminal (long cells
 * elided with their length shown), a vertical layout (one field per line, long text wrapped), and
 * JSON, JSON Lines and CSV, written chunk by chunk so a large result never has to fit in memory.
 */
import type { SandboxColumn, SandboxResult } from "../io/sandbox-sql.js"
import { count, padEnd, padStart, width } from "./format.js"

export const ROW_FORMATS = ["table", "json", "jsonl", "csv"] as const
export type RowFormat = (typeof ROW_FORMATS)[number]

const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL)/i

/** The narrowest a column is squeezed to before the table is allowed to overflow. */
const MIN_CELL = 12

/**
 * Where text output must fit: the terminal's width; without a terminal `COLUMNS` when set (as shells
 * and CI set it), else 100.
 */
export function outputWidth(stream: { readonly isTTY?: boolean; readonly columns?: number } = process.stdout): number {
  if (stream.isTTY === true && typeof stream.columns === "number" && stream.columns > 0) return stream.columns
  const env = Number(process.env["COLUMNS"])
  return Number.isInteger(env) && env > 0 ? env : 100
}

/** A value as text: null as "null", objects as JSON. */
export const text = (v: unknown): string =>
  v === null || v === undefined
    ? "null"
    : typeof v === "string"
      ? v
      : typeof v === "object"
        ? JSON.stringify(v)
        : String(v)

/**
 * A value on one line, at most `w` columns: line breaks shown as ⏎, tabs as spaces, and text that does
 * not fit cut with its full length shown, e.g. `Human: What is…(1,234 chars)`.
 */
export function cellText(v: unknown, w: number): string {
  const full = text(v)
  const flat = full.replace(/\r?\n/g, "⏎").replace(/\t/g, " ")
  const chars = [...flat]
  if (chars.length <= w) return flat
  const length = `…(${count([...full].length)} chars)`
  // too narrow to say the length and still show some text: the ellipsis alone says it was cut
  const tail = w - length.length >= 6 ? length : "…"
  return chars.slice(0, Math.max(0, w - tail.length)).join("") + tail
}

/**
 * Column widths that fit `available` columns: each column's natural width, the widest ones capped at
 * one common width (never under MIN_CELL), so narrow columns stay whole and long text shares the rest.
 */
export function fitWidths(natural: ReadonlyArray<number>, available: number): Array<number> {
  const total = (cap: number) => natural.reduce((s, w) => s + Math.min(w, cap), 0)
  if (total(Number.POSITIVE_INFINITY) <= available) return [...natural]
  let cap = Math.max(...natural, MIN_CELL)
  while (cap > MIN_CELL && total(cap) > available) cap--
  return natural.map((w) => Math.min(w, cap))
}

/** The rows as an aligned table that fits `lineWidth` columns (with a two-space indent). */
export function rowsTable(result: Pick<SandboxResult, "columns" | "rows">, lineWidth = 100): Array<string> {
  const columns = result.columns
  if (columns.length === 0) return ["  (no columns)"]
  const full = result.rows.map((r) => r.map((v) => [...text(v).replace(/\r?\n/g, "⏎")].length))
  const natural = columns.map((c, i) => Math.max(width(c.name), ...full.map((r) => r[i] ?? 0)))
  const widths = fitWidths(natural, lineWidth - 2 - 2 * (columns.length - 1))
  const right = columns.map((c) => NUMERIC.test(c.type))
  const line = (cells: ReadonlyArray<string>) =>
    `  ${cells.map((cell, i) => (right[i] ? padStart(cell, widths[i]!) : padEnd(cell, widths[i]!))).join("  ")}`.trimEnd()
  const lines = [
    line(columns.map((c, i) => cellText(c.name, widths[i]!))),
    ...result.rows.map((r) => line(r.map((v, i) => cellText(v, widths[i]!))))
  ]
  if (result.rows.length === 0) lines.push("  (no rows)")
  const used = 2 + widths.reduce((s, w) => s + w, 0) + 2 * (columns.length - 1)
  if (used > lineWidth) {
    lines.push(`  (${columns.length} columns do not fit in ${lineWidth}: use --vertical, or pick some with --columns)`)
  }
  return lines
}

/** Text cut into lines of at most `w` columns, at a space where one is near the end, keeping its own line breaks. */
function wrap(s: string, w: number): Array<string> {
  const out: Array<string> = []
  for (const line of s.split(/\r?\n/)) {
    let chars = [...line.replace(/\t/g, " ")]
    if (chars.length === 0) out.push("")
    while (chars.length > 0) {
      let cut = Math.min(w, chars.length)
      if (cut < chars.length) {
        const space = chars.lastIndexOf(" ", cut)
        // a break at a space keeps words whole, unless it would leave most of the line empty
        if (space > w / 2) cut = space + 1
      }
      out.push(chars.slice(0, cut).join("").trimEnd())
      chars = chars.slice(cut)
    }
  }
  return out
}

/**
 * One block per row, one line per field (`name │ value`), values wrapped to the width: for rows
 * with long text (prompts, responses), which a table can only cut. `first`: the number of the first row.
 */
export function rowsVertical(
  result: Pick<SandboxResult, "columns" | "rows">,
  lineWidth = 100,
  first = 1
): Array<string> {
  const nameWidth = Math.max(0, ...result.columns.map((c) => width(c.name)))
  const valueWidth = Math.max(20, lineWidth - nameWidth - 5)
  const lines: Array<string> = []
  result.rows.forEach((r, n) => {
    lines.push(
      `── row ${count(first + n)} ${"─".repeat(Math.max(0, Math.min(lineWidth, 40) - 8 - count(first + n).length))}`
    )
    result.columns.forEach((c, i) => {
      const [head = "", ...rest] = wrap(text(r[i]), valueWidth)
      lines.push(`  ${padEnd(c.name, nameWidth)} │ ${head}`.trimEnd())
      for (const more of rest) lines.push(`  ${" ".repeat(nameWidth)} │ ${more}`.trimEnd())
    })
  })
  if (result.rows.length === 0) lines.push("  (no rows)")
  return lines
}

/** "3 rows" / "first 100 rows (more not shown; …)". */
export const rowsFooter = (
  result: Pick<SandboxResult, "rows" | "truncated">,
  hint = "use --limit N, or pipe the output for every row"
): string =>
  result.truncated
    ? `first ${count(result.rows.length)} rows (more not shown; ${hint})`
    : `${count(result.rows.length)} row${result.rows.length === 1 ? "" : "s"}`

/** A CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break; null is empty. */
export function csvField(v: unknown): string {
  if (v === null || v === undefined) return ""
  const s = text(v)
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}

/**
 * A writer for the machine formats: `columns` once, then `rows` per chunk, then `end`. JSON is one
 * array (on one line), JSON Lines one object per line, CSV a header line and one line per row.
 */
export function rowsWriter(format: Exclude<RowFormat, "table">, write: (text: string) => void) {
  let names: ReadonlyArray<string> = []
  let rows = 0
  const object = (r: ReadonlyArray<unknown>) =>
    JSON.stringify(Object.fromEntries(names.map((n, i) => [n, r[i] ?? null])))
  return {
    columns: (columns: ReadonlyArray<SandboxColumn>) => {
      names = columns.map((c) => c.name)
      if (format === "csv") write(`${names.map(csvField).join(",")}\n`)
      if (format === "json") write("[")
    },
    rows: (chunk: ReadonlyArray<ReadonlyArray<unknown>>) => {
      if (chunk.length === 0) return
      if (format === "json") write(`${rows === 0 ? "" : ","}${chunk.map(object).join(",")}`)
      else if (format === "jsonl") write(`${chunk.map(object).join("\n")}\n`)
      else write(chunk.map((r) => `${r.map(csvField).join(",")}\n`).join(""))
      rows += chunk.length
    },
    end: () => {
      if (format === "json") write("]\n")
    }
  }
}
