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

/** A declared view, by its kind; columns as in workbench/core/views.ts. */
export function viewChart(view: NodeView, t: ColumnTable): Element {
  const data = t.objects() as Array<Record<string, unknown>>
  const color = has(t, "color") ? "color" : undefined
  const legend = color ? { color: { legend: true } } : {}
  switch (view.kind) {
    case "bar":
      return Plot.plot({
        ...BASE,
        ...legend,
        x: { label: null, tickRotate: data.length > 8 ? -30 : 0 },
        y: { grid: true, label: "rows" },
        marks: [Plot.barY(data, { x: "x", y: "y", fill: color ?? "steelblue", tip: true }), Plot.ruleY([0])]
      })
    case "histogram":
      return Plot.plot({
        ...BASE,
        ...legend,
        y: { grid: true, label: "rows" },
        marks: [
          Plot.rectY(data, { x1: "x0", x2: "x1", y: "n", fill: color ?? "steelblue", inset: 0.5 }),
          Plot.ruleY([0])
        ]
      })
    case "heatmap":
      return Plot.plot({
        ...BASE,
        color: { legend: true, scheme: "blues" },
        marks: [Plot.cell(data, { x: "x", y: "y", fill: "value", tip: true })]
      })
    case "line":
      return Plot.plot({
        ...BASE,
        ...legend,
        y: { grid: true },
        marks: [Plot.lineY(data, { x: "x", y: "y", stroke: color })]
      })
    case "scatter":
      return Plot.plot({
        ...BASE,
        ...legend,
        grid: true,
        marks: [Plot.dot(data, { x: "x", y: "y", fill: color, r: 2 })]
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
