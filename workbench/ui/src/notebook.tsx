/**
 * The notebook: the pipeline's nodes as cells in topological order (the graph route's order), the DAG
 * beside them (click a node: its cell scrolls into view), a Run button that re-runs what is stale with
 * live progress from the event stream, and a SQL cell at the end.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks"
import { ApiError, getJson, pipelinePath, postJson } from "./api.ts"
import { Cell, type Live } from "./cell.tsx"
import { DagPanel } from "./dag-panel.tsx"
import { appendPoint } from "./live-curves.tsx"
import { subscribe } from "./events.ts"
import { SqlCell } from "./sql-cell.tsx"
import type { Graph, GraphNode, RunEvent } from "./types.ts"

export function Notebook({ pipeline }: { pipeline: string }) {
  const [graph, setGraph] = useState<Graph | null>(null)
  const [error, setError] = useState<string | undefined>()
  const [live, setLive] = useState<Record<string, Live>>({})
  const [run, setRun] = useState<{ id: string; status: string; seconds?: number } | null>(null)
  const [selected, setSelected] = useState<string | undefined>()
  // whether the run the stream is telling of is this pipeline's (another pipeline may share the workspace)
  const mine = useRef(false)
  // the current run as lines (started / finished per node): what ran is visible even when a node is too quick to see running
  const [log, setLog] = useState<ReadonlyArray<{ node: string; text: string; tag: string }>>([])

  const refresh = useCallback(() => {
    getJson<Graph>(`${pipelinePath(pipeline)}/graph`).then(
      (g) => {
        setGraph(g)
        setError(undefined)
      },
      (e) => setError(e instanceof Error ? e.message : String(e))
    )
  }, [pipeline])
  useEffect(refresh, [refresh])

  // runs of this pipeline, started here or in a terminal, as they happen
  const name = graph?.pipeline
  useEffect(() => {
    // subscribe once the pipeline's name is known: the replayed events of the latest run must not be lost
    if (name === undefined) return
    return subscribe((e: RunEvent) => {
      if (e._tag === "RunStarted") mine.current = e.pipeline === name
      if (!mine.current) return
      switch (e._tag) {
        case "RunStarted":
          setRun({ id: e.runId, status: "running" })
          setLive({})
          setLog([])
          return
        case "NodeStarted":
          setLog((l) => [...l, { node: e.node, text: `${e.node} started`, tag: "started" }])
          return setLive((l) => ({ ...l, [e.node]: { state: "running" } }))
        case "NodeProgress":
          return setLive((l) => ({
            ...l,
            [e.node]: {
              ...l[e.node],
              state: "running",
              progress: `${e.done.toLocaleString("en-US")}${e.total ? ` / ${e.total.toLocaleString("en-US")}` : ""} ${e.unit}`
            }
          }))
        case "NodeMetrics": {
          const point = { step: e.step, values: e.values, ...(e.epoch === undefined ? {} : { epoch: e.epoch }) }
          return setLive((l) => ({
            ...l,
            [e.node]: {
              ...l[e.node],
              state: l[e.node]?.state ?? "running",
              metrics: appendPoint(l[e.node]?.metrics ?? [], point)
            }
          }))
        }
        case "NodeFinished":
          setLog((l) => [
            ...l,
            {
              node: e.report.name,
              text: `${e.report.name} ${e.report.status} (${e.report.seconds.toFixed(1)} s)`,
              tag: e.report.status
            }
          ])
          return setLive((l) => ({
            ...l,
            [e.report.name]: {
              ...l[e.report.name],
              state: e.report.status as Live["state"],
              seconds: e.report.seconds
            }
          }))
        case "RunFinished":
          setRun({ id: e.runId, status: e.report.status, seconds: e.report.seconds })
          refresh()
          return
      }
    })
  }, [name, refresh])

  const select = useCallback((name: string) => {
    setSelected(name)
    document.getElementById(`cell-${name}`)?.scrollIntoView({ behavior: "smooth", block: "start" })
  }, [])
  const shownNodes: ReadonlyArray<GraphNode> = useMemo(
    () => (graph?.nodes ?? []).map((n) => (live[n.name]?.state === "running" ? { ...n, status: "running" } : n)),
    [graph, live]
  )

  const start = async () => {
    try {
      setRun({ id: "", status: "starting" })
      await postJson(`${pipelinePath(pipeline)}/run`, {})
    } catch (e) {
      setRun(null)
      setError(e instanceof ApiError ? e.message : String(e))
    }
  }

  if (graph === null) return <div class="notebook">{error ? <div class="error">{error}</div> : <p>loading…</p>}</div>
  const busy = run?.status === "running" || run?.status === "starting"
  const stale = graph.nodes.filter((n) => n.status !== "cached").length
  return (
    <div class="notebook">
      <aside class="side-panel">
        <div class="run-bar">
          <button type="button" id="run" class="primary" disabled={busy} onClick={start}>
            {busy ? "running…" : "▶ Run"}
          </button>
          <span id="run-status" data-status={run?.status ?? ""} class="muted">
            {run
              ? run.status === "running" || run.status === "starting"
                ? "running"
                : `last run ${run.status}${run.seconds === undefined ? "" : ` in ${run.seconds.toFixed(1)} s`}`
              : stale
                ? `${stale} node${stale === 1 ? "" : "s"} to run`
                : "all cached"}
          </span>
        </div>
        {graph.overrides && <p class="muted">overrides active ({Object.keys(graph.overrides.set).join(", ")})</p>}
        {log.length > 0 && (
          <ol id="run-log" class="run-log">
            {log.slice(-40).map((l, i) => (
              <li key={`${i}:${l.text}`} data-node={l.node} data-tag={l.tag}>
                {l.text}
              </li>
            ))}
          </ol>
        )}
        <h3>DAG</h3>
        <DagPanel nodes={shownNodes} onSelect={select} />
      </aside>
      <main class="cells">
        <h2>
          {graph.pipeline} <span class="muted file">{graph.id}</span>
        </h2>
        {error && <div class="error">{error}</div>}
        {graph.nodes.map((n) => (
          <Cell
            key={n.name}
            pipeline={pipeline}
            node={n}
            live={live[n.name]}
            selected={selected === n.name}
            onSaved={refresh}
          />
        ))}
        <SqlCell pipeline={pipeline} graph={graph} onSaved={refresh} />
      </main>
    </div>
  )
}
