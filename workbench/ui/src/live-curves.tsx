/**
 * Live curves of a running node: the NodeMetrics events of the event stream (named values at a step),
 * one Plot chart per series name, redrawn as points arrive. Generic over the names, by the protocol's
 * conventions: `val_<name>` joins `<name>`'s chart (a trainer's validation loss beside its loss), and
 * `<name>_per_s` is a rate, shown as text rather than drawn. After the run the node's declared views
 * (the train family's history-table curves) take over in the cell.
 */
import * as Plot from "@observablehq/plot"
import { useMemo } from "preact/hooks"
import { Mount } from "./mount.tsx"
import type { RunEvent } from "./types.ts"

/** One NodeMetrics event, as the cell keeps it. */
export type MetricPoint = Pick<Extract<RunEvent, { _tag: "NodeMetrics" }>, "step" | "epoch" | "values">

const RATE = "_per_s"
const VAL = "val_"
/** Points kept per node: far beyond a curve's resolution, and a bound on a very long run's memory. */
export const MAX_POINTS = 20_000

/** Appends a point, dropping every other old point once the cap is reached (the curve keeps its shape). */
export function appendPoint(points: ReadonlyArray<MetricPoint>, p: MetricPoint): ReadonlyArray<MetricPoint> {
  const kept = points.length < MAX_POINTS ? points : points.filter((_, i) => i % 2 === 0)
  return [...kept, p]
}

interface Row {
  readonly step: number
  readonly value: number
  readonly series: string
}

function chart(rows: ReadonlyArray<Row>, name: string): Element {
  // few points (a per-epoch validation series) are dots on the line, so a single one still shows
  const counts = new Map<string, number>()
  for (const r of rows) counts.set(r.series, (counts.get(r.series) ?? 0) + 1)
  const sparse = rows.filter((r) => (counts.get(r.series) ?? 0) <= 50)
  return Plot.plot({
    width: 560,
    height: 200,
    marginLeft: 56,
    marginBottom: 40,
    style: { fontSize: "11px" },
    color: { legend: true, domain: [...counts.keys()] },
    x: { label: "step" },
    y: { grid: true, label: name },
    marks: [
      Plot.lineY(rows, { x: "step", y: "value", stroke: "series" }),
      Plot.dot(sparse, { x: "step", y: "value", fill: "series", r: 2.5 })
    ]
  })
}

export function LiveCurves({ points }: { points: ReadonlyArray<MetricPoint> }) {
  const { charts, rates } = useMemo(() => {
    const byName = new Map<string, Array<Row>>()
    const rates = new Map<string, number>()
    for (const p of points) {
      for (const [series, value] of Object.entries(p.values)) {
        if (series.endsWith(RATE)) {
          rates.set(series.slice(0, -RATE.length), value)
          continue
        }
        const name = series.startsWith(VAL) ? series.slice(VAL.length) : series
        if (!byName.has(name)) byName.set(name, [])
        byName.get(name)!.push({ step: p.step, value, series })
      }
    }
    const charts = [...byName].map(([name, rows]) => ({ name, rows: rows.length, svg: chart(rows, name) }))
    return { charts, rates }
  }, [points])
  const last = points[points.length - 1]
  return (
    <div class="live-curves">
      <p class="muted">
        live: step {last?.step.toLocaleString("en-US")}
        {last?.epoch === undefined ? "" : `, epoch ${last.epoch + 1}`}
        {[...rates].map(([unit, v]) => ` · ${Math.round(v).toLocaleString("en-US")} ${unit}/s`).join("")}
      </p>
      <div class="views">
        {charts.map((c) => (
          <figure key={c.name} class="view live-curve" data-series={c.name} data-points={c.rows}>
            <figcaption>{c.name} (live)</figcaption>
            <Mount node={c.svg} />
          </figure>
        ))}
      </div>
    </div>
  )
}
