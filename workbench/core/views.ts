/**
 * Views a node kind declares next to its code: charts of its output tables that `wb serve` computes
 * in DuckDB (binned or aggregated on the server, so a 1M-row table plots from a few hundred rows) and
 * the browser draws with Observable Plot.
 *
 * Each view names one output table and a chart kind; its fields are column names or SQL expressions
 * over that table's columns. What the server returns (Arrow IPC), by kind:
 *
 * | kind      | fields used              | columns returned                                   |
 * |-----------|--------------------------|----------------------------------------------------|
 * | histogram | x (numeric), color, bins | x0, x1, [color], n — `bins` equal-width bins over min..max of x |
 * | bar       | x, y (aggregate), color, lo, hi (aggregates) | x, [color], y, [lo, hi] — y defaults to count(*) |
 * | heatmap   | x, y, value (aggregate)  | x, y, value — value defaults to count(*)          |
 * | line      | x, y, color, lo, hi      | x, y, [color], [lo, hi] — ordered by x            |
 * | scatter   | x, y, color              | x, y, [color] — a seeded sample of at most `limit` points |
 *
 * `where` filters the table's rows first (every kind). `sql` replaces the generated query: one SELECT
 * over the view's table, written as `input` (its own WITH may follow), returning the columns of its
 * kind (`select reason as x, count(*) as y from input group by 1`). How the browser draws the
 * columns, whoever computed them: a
 * `color` column stacks bars and histogram bins (and splits lines and dots); `lo`/`hi` columns draw an
 * interval (error bar) on each bar or point; an `n` column on a scatter sizes its dots (a binned
 * scatter); `reference` adds a rule at y = that number (0.5: no preference) or the y = x diagonal.
 *
 * @example
 * views: [{ name: "funnel", title: "Removed by reason", table: "removed", kind: "bar", x: "reason" }]
 */

export type ViewKind = "histogram" | "bar" | "heatmap" | "line" | "scatter"

export interface NodeView {
  /** Unique within the kind, kebab-case: the URL names it (`/views/<name>`). */
  readonly name: string
  readonly title: string
  /** One of the kind's output tables. */
  readonly table: string
  readonly kind: ViewKind
  readonly x: string
  readonly y?: string
  /** Splits the series (bar fill, histogram stack, scatter colour). */
  readonly color?: string
  /** A SQL condition over the table's columns: only these rows are drawn (e.g. `slice_by = '(all)'`). */
  readonly where?: string
  /** bar, line: the interval around y (a 95% CI, ±1 SE), aggregates for a bar (`max(ci_lo)`). */
  readonly lo?: string
  readonly hi?: string
  /** A reference drawn under the marks: a horizontal rule at y = the number, or the y = x diagonal. */
  readonly reference?: number | "diagonal"
  /** Axis labels (default: none for x, "rows" for counts). */
  readonly xLabel?: string
  readonly yLabel?: string
  /** heatmap: the cell value, an aggregate (e.g. `avg(kappa)`). */
  readonly value?: string
  /** histogram: number of bins (default 30). */
  readonly bins?: number
  /** scatter: at most this many points (default 5,000). */
  readonly limit?: number
  /** The whole query, over `input`; see the module doc. */
  readonly sql?: string
  /** One sentence for the UI: what to look for. */
  readonly doc?: string
}

export const VIEW_KINDS: ReadonlyArray<ViewKind> = ["histogram", "bar", "heatmap", "line", "scatter"]

const NAME = /^[a-z][a-z0-9-]*$/

/**
 * Problems with a kind's view declarations (names, tables, kinds), as plain sentences: the server
 * reports them on the view instead of failing the pipeline.
 */
export function viewProblems(views: ReadonlyArray<NodeView>, tables: ReadonlyArray<string>): Array<string> {
  const out: Array<string> = []
  const seen = new Set<string>()
  for (const v of views) {
    if (!NAME.test(v.name)) out.push(`view "${v.name}": the name must be kebab-case (a-z, 0-9, -)`)
    if (seen.has(v.name)) out.push(`view "${v.name}" is declared twice`)
    seen.add(v.name)
    if (!tables.includes(v.table))
      out.push(
        `view "${v.name}" reads table "${v.table}", which the kind does not output (it has ${tables.join(", ")})`
      )
    if ((v.lo === undefined) !== (v.hi === undefined))
      out.push(`view "${v.name}": lo and hi go together (an interval needs both ends); give both or neither`)
    if (!VIEW_KINDS.includes(v.kind))
      out.push(`view "${v.name}": kind "${v.kind}" is not one of ${VIEW_KINDS.join(", ")}`)
  }
  return out
}
