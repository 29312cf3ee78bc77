/** Text formatting shared by the `wb` commands: counts, durations, padding, plain tables. */

/** 2312 -> "2,312". */
export const count = (n: number): string => n.toLocaleString("en-US", { maximumFractionDigits: 0 })

/** Seconds as "0.4 s" / "12 s" / "2m05s". */
export function seconds(s: number): string {
  if (s < 10) return `${s.toFixed(1)} s`
  if (s < 60) return `${Math.round(s)} s`
  return duration(s)
}

/** A compact duration for ETAs: "45s", "1m21s", "2h03m". */
export function duration(s: number): string {
  const t = Math.max(0, Math.round(s))
  if (t < 60) return `${t}s`
  if (t < 3600) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, "0")}s`
  return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, "0")}m`
}

/** A rate such as 38.2/s -> "38/s", 0.5/s -> "0.5/s". */
export const rate = (perSecond: number): string =>
  `${perSecond >= 10 ? count(Math.round(perSecond)) : perSecond.toFixed(1)}/s`

/** Display width of a string (every code point counts as one column; good enough for our glyphs). */
export const width = (s: string): number => [...s].length

export const padEnd = (s: string, w: number): string => s + " ".repeat(Math.max(0, w - width(s)))
export const padStart = (s: string, w: number): string => " ".repeat(Math.max(0, w - width(s))) + s

/** Cut a string to `w` columns, ending in "…" when cut. */
export function truncate(s: string, w: number): string {
  const chars = [...s]
  return chars.length <= w ? s : `${chars.slice(0, Math.max(0, w - 1)).join("")}…`
}

/** A progress bar of `cells` cells: "████████░░░░". */
export function bar(done: number, total: number, cells = 12): string {
  const filled = total <= 0 ? 0 : Math.min(cells, Math.round((done / total) * cells))
  return "█".repeat(filled) + "░".repeat(cells - filled)
}

export interface Column {
  readonly header: string
  readonly align?: "left" | "right"
}

/** Rows as an aligned text table with a header line; every line is prefixed with `indent`. */
export function table(
  columns: ReadonlyArray<Column>,
  rows: ReadonlyArray<ReadonlyArray<string>>,
  indent = "  "
): Array<string> {
  const widths = columns.map((c, i) => Math.max(width(c.header), ...rows.map((r) => width(r[i] ?? ""))))
  const line = (cells: ReadonlyArray<string>) =>
    indent +
    cells
      .map((cell, i) => (columns[i]?.align === "right" ? padStart(cell, widths[i]!) : padEnd(cell, widths[i]!)))
      .join("  ")
      .trimEnd()
  return [line(columns.map((c) => c.header)), ...rows.map(line)]
}

/** Indent every line of `text`. */
export const indent = (text: string, prefix: string): string =>
  text
    .split("\n")
    .map((l) => prefix + l)
    .join("\n")
