/**
 * Every chart is Observable Plot, drawn from columns an arquero table holds: a node's declared views
 * (binned or aggregated by DuckDB on the server, so a big table plots from a few hundred rows), column
 * histograms, and the SQL cell's quick chart.
 */
import * as Plot from "@observablehq/plot"
import type { ColumnTable } from "arquero"
import type { NodeView } from "./types.ts"

const BASE = { width: 560, height: 240, marginLeft: 56, marginBottom: 44, style: { fontSize: "11px" } }
const has = (t: ColumnTable, c: string) => t.columnNames().includes(c)

type Row = Record<string, unknown>

/** What every view kind draws under and over its own marks, keyed by the columns present. */
function extras(
  view: NodeView,
  t: ColumnTable,
  data: Array<Row>
): { under: Array<Plot.Markish>; over: Array<Plot.Markish> } {
  const under: Array<Plot.Markish> = []
  const over: Array<Plot.Markish> = []
  if (typeof view.reference === "number")
    under.push(Plot.ruleY([view.reference], { stroke: "#888", strokeDasharray: "4 3" }))
  if (view.reference === "diagonal") {
    const xs = data.flatMap((d) => [Number(d["x"]), Number(d["y"])]).filter(Number.isFinite)
    const lo = Math.min(0, ...xs)
    const hi = Math.max(1, ...xs)
    under.push(
      Plot.line(
        [
          [lo, lo],
          [hi, hi]
        ],
        { stroke: "#888", strokeDasharray: "4 3" }
      )
    )
  }
  // an interval per bar or point (a CI, ±1 SE): a rule from lo to hi, centred on its band
  if (has(t, "lo") && has(t, "hi"))
    over.push(Plot.ruleX(data, { x: "x", y1: "lo", y2: "hi", stroke: "#222", strokeWidth: 1.5 }))
  return { under, over }
}

const fmt2 = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v.toFixed(2) : "")

/**
 * A declared view, by its kind; columns as in workbench/core/views.ts. Generic over the columns: a
 * `color` column stacks bars and bins and splits lines, `lo`/`hi` draw intervals, `n` sizes dots.
 */
export function viewChart(view: NodeView, t: ColumnTable): Element {
  const data = t.objects() as Array<Row>
  const color = has(t, "color") ? "color" : undefined
  const legend = color ? { color: { legend: true } } : {}
  const { under, over } = extras(view, t, data)
  const x = { label: view.xLabel ?? null }
  switch (view.kind) {
    case "bar": {
      // labels that would overlap side by side are tilted (about 6.5 px a character at 11 px)
      const labels = [...new Set(data.map((d) => String(d["x"])))]
      const crowded = labels.length * Math.max(0, ...labels.map((l) => l.length)) * 6.5 > BASE.width - BASE.marginLeft
      return Plot.plot({
        ...BASE,
        ...legend,
        ...(crowded ? { marginBottom: 90 } : {}),
        x: { ...x, tickRotate: crowded ? -30 : 0 },
        y: { grid: true, label: view.yLabel ?? "rows" },
        marks: [
          ...under,
          Plot.barY(data, { x: "x", y: "y", fill: color ?? "steelblue", tip: true }),
          Plot.ruleY([0]),
          ...over
        ]
      })
    }
    case "histogram":
      return Plot.plot({
        ...BASE,
        ...legend,
        x,
        y: { grid: true, label: view.yLabel ?? "rows" },
        marks: [
          ...under,
          Plot.rectY(data, { x1: "x0", x2: "x1", y: "n", fill: color ?? "steelblue", inset: 0.5, tip: true }),
          Plot.ruleY([0])
        ]
      })
    case "heatmap": {
      const values = data.map((d) => Number(d["value"])).filter(Number.isFinite)
      // signed values (kappa) diverge from 0; counts and rates run light to dark
      const scale = values.some((v) => v < 0)
        ? { type: "diverging" as const, scheme: "rdbu" as const, pivot: 0, legend: true }
        : { scheme: "blues" as const, legend: true }
      return Plot.plot({
        ...BASE,
        marginLeft: 110,
        marginBottom: 70,
        x: { ...x, tickRotate: -20 },
        y: { label: view.yLabel ?? null },
        color: scale,
        marks: [
          Plot.cell(data, { x: "x", y: "y", fill: "value", tip: true }),
          Plot.text(data, {
            x: "x",
            y: "y",
            text: (d: Row) => fmt2(d["value"]),
            fill: "black",
            stroke: "white",
            strokeWidth: 2
          })
        ]
      })
    }
    case "line":
      return Plot.plot({
        ...BASE,
        ...legend,
        x,
        y: { grid: true, label: view.yLabel ?? null },
        marks: [
          ...under,
          Plot.lineY(data, { x: "x", y: "y", stroke: color ?? "steelblue" }),
          Plot.dot(data, { x: "x", y: "y", fill: color ?? "steelblue", r: 2.5, tip: true }),
          ...over
        ]
      })
    case "scatter":
      return Plot.plot({
        ...BASE,
        ...legend,
        grid: true,
        x,
        y: { label: view.yLabel ?? null },
        // a binned scatter carries each point's row count: area by it
        ...(has(t, "n") ? { r: { range: [2, 12] } } : {}),
        marks: [
          ...under,
          Plot.dot(data, { x: "x", y: "y", fill: color ?? "steelblue", r: has(t, "n") ? "n" : 2, tip: true })
        ]
      })
  }
}

/** A numeric column's histogram from the summary route (bins computed in DuckDB). */
export function histogramChart(bins: ReadonlyArray<{ x0: number; x1: number; n: number }>, label: string): Element {
  return Plot.plot({
    ...BASE,
    height: 180,
    x: { label },
    y: { grid: true, label: "rows" },
    marks: [Plot.rectY(bins, { x1: "x0", x2: "x1", y: "n", fill: "steelblue", inset: 0.5 }), Plot.ruleY([0])]
  })
}

/** A text column's most frequent values. */
export function topChart(top: ReadonlyArray<{ value: string; n: number }>): Element {
  const rows = top.map((t) => ({ value: t.value.length > 40 ? `${t.value.slice(0, 40)}…` : t.value, n: t.n }))
  return Plot.plot({
    ...BASE,
    height: 24 + rows.length * 16,
    marginLeft: 220,
    x: { grid: true, label: "rows" },
    y: { label: null },
    marks: [Plot.barX(rows, { y: "value", x: "n", fill: "steelblue", sort: { y: "-x" } }), Plot.ruleX([0])]
  })
}

export type QuickMark = "bar" | "dot" | "line"

/** The SQL cell's chart: any two columns of the result, as bars, dots or a line. */
export function quickChart(t: ColumnTable, x: string, y: string, mark: QuickMark): Element {
  const data = t.objects() as Array<Record<string, unknown>>
  const m =
    mark === "bar"
      ? Plot.barY(data, { x, y, fill: "steelblue", tip: true })
      : mark === "dot"
        ? Plot.dot(data, { x, y, fill: "steelblue", tip: true })
        : Plot.lineY(data, { x, y, stroke: "steelblue" })
  return Plot.plot({ ...BASE, x: { label: x }, y: { grid: true, label: y }, marks: [m] })
}
