/** The end of `wb run`: a summary table, what failed and why, what did not run, and where to look next. */
import type { PipelineGraph } from "../core/graph.js"
import type { NodeReport, RunReport } from "../core/report.js"
import { count, indent, seconds, table } from "./format.js"
import { shellArg } from "./args.js"
import { describeProjectRoot, type ProjectRoot } from "../io/project-root.js"

/** `--json`: the report as a stable, documented shape. */
export function runJson(report: RunReport) {
  return {
    pipeline: report.pipeline,
    status: report.status,
    nodes: report.nodes.map((n) => ({
      name: n.name,
      kind: n.kind,
      status: n.status,
      rowsIn: n.rowsIn,
      rowsOut: n.rowsOut,
      rejected: n.rejected,
      removed: n.removed,
      seconds: Math.round(n.seconds * 1000) / 1000,
      // the node's own counts (a judge's requests, tokens, cost, retryable failures)
      ...(n.stats === undefined ? {} : { stats: n.stats }),
      ...(n.error === undefined ? {} : { error: n.error }),
      // why it failed, as data: the error's tag and fields, or an internal error's id and log file
      ...(n.failure === undefined ? {} : { failure: n.failure })
    }))
  }
}

const ok = (n: NodeReport) => n.status === "ran" || n.status === "cached"

export function summaryLines(report: RunReport, graph: PipelineGraph, file: string, root?: ProjectRoot): Array<string> {
  const out: Array<string> = []
  const statusWord = report.status === "ok" ? "ok" : report.status
  out.push("", `summary · ${report.pipeline} · ${statusWord} · ${seconds(report.seconds)}`)
  out.push(
    ...table(
      [
        { header: "node" },
        { header: "kind" },
        { header: "rows in → out", align: "right" },
        { header: "rejected", align: "right" },
        { header: "removed", align: "right" },
        { header: "status" },
        { header: "seconds", align: "right" }
      ],
      report.nodes.map((n) => [
        n.name,
        n.kind,
        ok(n) ? `${count(n.rowsIn)} → ${count(n.rowsOut)}` : "–",
        ok(n) ? count(n.rejected) : "–",
        ok(n) ? count(n.removed) : "–",
        n.status,
        n.status === "ran" || n.status === "failed" ? n.seconds.toFixed(1) : "–"
      ])
    )
  )

  // nodes that talked to a model say what it took (stats `requests`, `cache_hits`, tokens, `cost`)
  const usage = report.nodes.filter((n) => ok(n) && typeof n.stats?.requests === "number")
  if (usage.length > 0) {
    out.push("", "model usage")
    for (const n of usage)
      out.push(`  ${n.name}: ${usageText(n.stats!)}${n.status === "cached" ? " (when it ran)" : ""}`)
  }

  // nodes that computed on a backend chosen at run time (training) say which one (stat `backend`)
  const backends = report.nodes.filter((n) => ok(n) && typeof n.stats?.backend === "string")
  if (backends.length > 0) {
    out.push("", "backends")
    for (const n of backends) {
      // and how it ran, where it says (stats `threads`, `kernels`: the sparse trainer, SIMD or plain JS)
      const how = [
        typeof n.stats!.threads === "number"
          ? `${n.stats!.threads} thread${n.stats!.threads === 1 ? "" : "s"}`
          : undefined,
        typeof n.stats!.kernels === "string" ? `${n.stats!.kernels} kernels` : undefined
      ].filter((x) => x !== undefined)
      out.push(
        `  ${n.name}: ${n.stats!.backend}${how.length > 0 ? ` (${how.join(", ")})` : ""}${n.status === "cached" ? " (when it ran)" : ""}`
      )
    }
  }

  // which folder the pipeline's data paths were read from: it is not always the current directory
  if (root !== undefined) out.push("", describeProjectRoot(root))

  const failed = report.nodes.filter((n) => n.status === "failed")
  if (failed.length > 0) {
    out.push("", "failed")
    for (const n of failed) out.push(`  ✗ ${n.name} (${n.kind})`, indent(n.error ?? "unknown error", "      "))
  }
  const skipped = report.nodes.filter((n) => n.status === "skipped" || n.status === "interrupted")
  if (skipped.length > 0) {
    out.push("", "did not run")
    for (const n of skipped) out.push(`  – ${n.name}: ${n.error ?? n.status}`)
  }
  const hints = nextHints(report, graph, file)
  if (hints.length > 0) out.push("", "next:", ...hints.map((h) => `  ${h}`))
  return out
}

const num = (v: number | string | undefined) => (typeof v === "number" ? v : 0)

/** "6 requests (2 retries), 3 cache hits, 6,000 prompt + 60 completion tokens, cost 0.01248" */
function usageText(stats: Readonly<Record<string, number | string>>): string {
  const retries = num(stats.retries)
  return [
    `${count(num(stats.requests))} requests${retries > 0 ? ` (${count(retries)} retries)` : ""}`,
    `${count(num(stats.cache_hits))} cache hits`,
    `${count(num(stats.prompt_tokens))} prompt + ${count(num(stats.completion_tokens))} completion tokens`,
    ...(num(stats.cost) > 0 ? [`cost ${stats.cost}`] : [])
  ].join(", ")
}

function nextHints(report: RunReport, graph: PipelineGraph, file: string): Array<string> {
  const hints: Array<string> = []
  const f = shellArg(file)
  const byName = new Map(graph.nodes.map((n) => [n.name, n]))
  const removedTable = (name: string) => {
    const outputs = byName.get(name)?.definition.outputs ?? {}
    return Object.keys(outputs).find((t) => outputs[t]!.role === "removed")
  }
  const withRemoved = report.nodes.find((n) => ok(n) && n.removed > 0 && removedTable(n.name) !== undefined)
  if (withRemoved !== undefined) {
    hints.push(`wb show ${f} ${withRemoved.name} --table ${removedTable(withRemoved.name)}`)
  }
  const last = [...report.nodes].reverse().find(ok)
  if (last !== undefined) {
    if (withRemoved === undefined) hints.push(`wb show ${f} ${last.name}`)
    hints.push(`wb sql ${f} 'select count(*) from "${last.name}"'`)
  }
  for (const n of report.nodes.filter((x) => ok(x) && num(x.stats?.retryable) > 0)) {
    hints.push(`wb run ${f} --retry-failed    # "${n.name}" has ${count(num(n.stats?.retryable))} failures to retry`)
  }
  for (const n of report.nodes.filter((x) => x.status === "failed")) {
    hints.push(`wb run ${f} --from ${n.name}    # after fixing "${n.name}"`)
  }
  return hints
}
