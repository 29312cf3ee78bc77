/** `GET /api/pipelines/:id/graph`: the pipeline as the notebook shows it, one cell per node in run order. */
import { Schema } from "effect"
import { describeParams } from "../core/params-doc.js"
import { viewProblems } from "../core/views.js"
import type { PipelineContext } from "../io/catalog/pipeline-context.js"
import type { EventHub } from "./hub.js"
import { nodeStates } from "./project.js"

const jsonSchemaOf = (schema: Schema.Top): unknown => {
  try {
    return Schema.toJsonSchemaDocument(schema).schema
  } catch {
    return null // a param type JSON Schema cannot describe: the UI falls back to `params` docs
  }
}

/** The first paragraph of the kind's summary is its doc line; the UI shows `summary` as given. */
export function graphJson(id: string, ctx: PipelineContext, hub: EventHub) {
  const running = hub.runningNodes(ctx.graph.name)
  const reports = hub.lastReports.get(ctx.graph.name)
  const states = nodeStates(ctx)
  return {
    id,
    pipeline: ctx.graph.name,
    file: ctx.file,
    workspace: ctx.label,
    overrides: ctx.overrides === undefined ? null : { file: ctx.overrides.file, set: ctx.overrides.values },
    nodes: states.map((s) => {
      const def = s.node.definition
      const report = reports?.get(s.node.name)
      const cached = s.state._tag === "Cached" ? s.state.manifest : undefined
      const status = running.has(s.node.name)
        ? "running"
        : cached !== undefined
          ? "cached"
          : report?.status === "failed" && (report.key === undefined || report.key === s.key)
            ? "failed"
            : s.state._tag === "NotRun"
              ? "not-run"
              : s.state._tag === "Damaged"
                ? "damaged"
                : "stale"
      const views = def.views ?? []
      return {
        name: s.node.name,
        kind: def.kind,
        doc: def.summary,
        params: s.node.params,
        paramsDoc: describeParams(def.params),
        paramsSchema: jsonSchemaOf(def.params),
        inputs: Object.fromEntries(
          Object.entries(s.node.inputs).map(([k, refs]) => [k, refs.map((r) => `${r.node}.${r.table}`)])
        ),
        edges: [
          ...new Set(
            Object.values(s.node.inputs)
              .flat()
              .map((r) => r.node)
          )
        ],
        outputs: Object.fromEntries(
          Object.entries(def.outputs).map(([t, o]) => [
            t,
            {
              role: o.role,
              rows: cached?.tables[t]?.rows ?? null,
              columns: (s.node.outputs[t]?.columns ?? []).map((c) => ({ name: c.name, type: c.type }))
            }
          ])
        ),
        status,
        key: s.key ?? null,
        rowsIn: cached?.rowsIn ?? report?.rowsIn ?? null,
        rowsOut:
          cached === undefined
            ? (report?.rowsOut ?? null)
            : (Object.values(cached.tables).find((t) => t.role === "main")?.rows ?? null),
        seconds: cached?.seconds ?? report?.seconds ?? null,
        stats: cached?.stats ?? report?.stats ?? null,
        error: status === "failed" ? (report?.error ?? null) : s.state._tag === "Damaged" ? s.state.problem : null,
        views: views.map((v) => ({ ...v })),
        viewProblems: viewProblems(views, Object.keys(def.outputs))
      }
    })
  }
}
