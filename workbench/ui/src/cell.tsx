/**
 * One notebook cell: a node of the pipeline with its kind and doc, params form, status, rows in → out,
 * seconds, live progress while it runs, and its outputs inline (declared views drawn with Plot, and a
 * paged preview of any of its tables).
 */
import { useEffect, useState } from "preact/hooks"
import { getArrow, pipelinePath } from "./api.ts"
import { viewChart } from "./charts.ts"
import { LiveCurves, type MetricPoint } from "./live-curves.tsx"
import { Mount } from "./mount.tsx"
import { ParamsForm } from "./params-form.tsx"
import { TableView } from "./table-view.tsx"
import type { GraphNode, NodeView, Status } from "./types.ts"

/** What the event stream says of a node during and after the current run. */
export interface Live {
  readonly state: "running" | "ran" | "cached" | "failed" | "skipped" | "interrupted"
  readonly progress?: string
  readonly seconds?: number
  /** The node's NodeMetrics events of this run, oldest first (live curves). */
  readonly metrics?: ReadonlyArray<MetricPoint>
}

const fmt = (n: number | null | undefined) => (n === null || n === undefined ? "–" : n.toLocaleString("en-US"))

interface Props {
  readonly pipeline: string
  readonly node: GraphNode
  readonly live: Live | undefined
  readonly selected: boolean
  readonly onSaved: () => void
}

export function Cell({ pipeline, node, live, selected, onSaved }: Props) {
  const status: Status = live?.state === "running" ? "running" : node.status
  const tables = Object.keys(node.outputs)
  const main = tables.find((t) => node.outputs[t]!.role === "main") ?? tables[0]
  const [table, setTable] = useState(main)
  // a stale node's artifact is under its old key: the server serves the current one only
  const hasOutputs = node.key !== null && node.status === "cached"
  return (
    <section
      id={`cell-${node.name}`}
      class={`cell status-${status}${selected ? " selected" : ""}`}
      data-node={node.name}
      data-status={status}
      data-last={live && live.state !== "running" ? live.state : ""}
    >
      <header>
        <span class="cell-name">{node.name}</span>
        <span class="kind">{node.kind}</span>
        <span class={`badge status-${status}`}>{status}</span>
        <span class="rowcount" title="rows in → rows out">
          {fmt(node.rowsIn)} → {fmt(node.rowsOut)}
        </span>
        <span class="secs">{node.seconds === null ? "" : `${node.seconds.toFixed(1)} s`}</span>
        {live?.state === "running" && <span class="progress">{live.progress ?? "running…"}</span>}
        {live && live.state !== "running" && <span class="last muted">last run: {live.state}</span>}
      </header>
      <p class="doc">{node.doc}</p>
      {node.error && <pre class="error">{node.error}</pre>}
      <details class="params-box">
        <summary>params</summary>
        <ParamsForm pipeline={pipeline} node={node} onSaved={onSaved} />
      </details>
      {node.viewProblems.length > 0 && <div class="error">{node.viewProblems.join("; ")}</div>}
      {/* while it runs, and until the run's outputs (and their declared views) are there */}
      {live?.metrics && live.metrics.length > 0 && (live.state === "running" || !hasOutputs) && (
        <LiveCurves points={live.metrics} />
      )}
      {hasOutputs && (
        <div class="outputs">
          {node.views.length > 0 && (
            <div class="views">
              {node.views.map((v) => (
                <ViewPlot key={`${v.name}:${node.key}`} pipeline={pipeline} node={node.name} view={v} />
              ))}
            </div>
          )}
          {table !== undefined && (
            <div class="preview">
              <div class="table-tabs">
                {tables.map((t) => (
                  <button
                    type="button"
                    key={t}
                    class={t === table ? "tab active" : "tab"}
                    onClick={() => setTable(t)}
                    data-table-tab={t}
                  >
                    {t} <span class="muted">({fmt(node.outputs[t]!.rows)})</span>
                  </button>
                ))}
              </div>
              <TableView
                key={`${table}:${node.key}`}
                pipeline={pipeline}
                node={node.name}
                table={table}
                info={node.outputs[table]!}
              />
            </div>
          )}
        </div>
      )}
    </section>
  )
}

function ViewPlot({ pipeline, node, view }: { pipeline: string; node: string; view: NodeView }) {
  const [chart, setChart] = useState<Element | null>(null)
  const [rows, setRows] = useState<number | null>(null)
  const [error, setError] = useState<string | undefined>()
  useEffect(() => {
    getArrow(`${pipelinePath(pipeline)}/nodes/${encodeURIComponent(node)}/views/${encodeURIComponent(view.name)}`).then(
      ({ table }) => {
        setRows(table.numRows())
        setChart(viewChart(view, table))
      },
      (e) => setError(String(e instanceof Error ? e.message : e))
    )
  }, [pipeline, node, view])
  return (
    <figure class="view" data-view={view.name} data-rows={rows ?? ""}>
      <figcaption>
        {view.title}
        {view.doc && <span class="muted"> — {view.doc}</span>}
      </figcaption>
      {error ? <div class="error">{error}</div> : <Mount node={chart} />}
    </figure>
  )
}
