/** `wb ls <file>`: the DAG in run order, with each node's kind, inputs and cache state. No DuckDB needed. */
import { Console, Effect } from "effect"
import { Argument, Command } from "effect/cli"
import type { GraphNode, PipelineGraph } from "../core/graph.js"
import type { Manifest } from "../core/report.js"
import { cacheStates, type CacheState, mainTable } from "../io/catalog/artifacts.js"
import { openPipeline } from "../io/catalog/pipeline-context.js"
import { workspaceFlag } from "./args.js"
import { reportErrors } from "./exit.js"
import { count, table } from "./format.js"

function inputsText(node: GraphNode, graph: PipelineGraph): string {
  const byName = new Map(graph.nodes.map((n) => [n.name, n]))
  const refs = Object.values(node.inputs)
    .flat()
    .map((r) => {
      const outputs = byName.get(r.node)?.definition.outputs ?? {}
      const main = Object.keys(outputs).find((t) => outputs[t]!.role === "main")
      return r.table === main ? r.node : `${r.node}.${r.table}`
    })
  return refs.length === 0 ? "" : `← ${[...new Set(refs)].join(", ")}`
}

const when = (m: Manifest) => `${m.createdAt.replace("T", " ").slice(0, 16)} UTC`

function stateText(state: CacheState): string {
  switch (state._tag) {
    case "Cached": {
      const m = state.manifest
      const main = mainTable(m)
      const rows = main === undefined ? 0 : m.tables[main]!.rows
      const others = Object.entries(m.tables)
        .filter(([t, x]) => t !== main && x.rows > 0 && x.role !== "aux")
        .map(([t, x]) => `${count(x.rows)} ${t}`)
      return `cached · ${count(rows)} rows${others.length > 0 ? ` (${others.join(", ")})` : ""}`
    }
    case "Stale":
      return `stale · params or inputs changed since its last run (${when(state.previous)})`
    case "Upstream": {
      // its key hashes what the upstream writes, so whether it re-runs is known only once that has run
      const names = state.upstream.map((u) => `"${u}"`).join(", ")
      const one = state.upstream.length === 1
      return `stale (upstream) · ${names} ${one ? "runs" : "run"} first; this re-runs only if ${one ? "its" : "their"} output changes (last run ${when(state.previous)})`
    }
    case "NotRun":
      return "not run"
    case "Damaged":
      return `damaged · ${state.problem}; the next wb run recomputes it`
  }
}

export const lsCommand = Command.make(
  "ls",
  {
    file: Argument.String("file").pipe(Argument.withDescription("Pipeline file (.ts or .yaml)")),
    workspace: workspaceFlag
  },
  ({ file, workspace }) =>
    Effect.gen(function* () {
      const ctx = yield* openPipeline(file, workspace)
      const n = ctx.graph.nodes.length
      const states = cacheStates(ctx.graph, ctx.root, ctx.dir)
      const lines = table(
        [{ header: "node" }, { header: "kind" }, { header: "inputs" }, { header: "cache" }],
        states.map((s) => [s.node.name, s.node.definition.kind, inputsText(s.node, ctx.graph), stateText(s.state)])
      )
      yield* Console.log(
        [`${ctx.graph.name} · ${n} node${n === 1 ? "" : "s"} · workspace ${ctx.label}`, ...lines].join("\n")
      )
    }).pipe(reportErrors)
).pipe(Command.withDescription("List a pipeline's nodes in run order with their inputs and cache state"))
