/** A node's line in the run report, from its artifact's manifest or for a node that did not run. */
import type { GraphNode } from "./graph.js"
import type { Manifest, NodeReport } from "./report.js"

export const emptyReport = (node: GraphNode): NodeReport => ({
  name: node.name,
  kind: node.definition.kind,
  status: "skipped",
  rowsIn: 0,
  rowsOut: 0,
  rejected: 0,
  removed: 0,
  seconds: 0
})

export function reportFrom(node: GraphNode, m: Manifest, status: "ran" | "cached", seconds: number): NodeReport {
  const byRole = (role: string) =>
    Object.values(m.tables)
      .filter((t) => t.role === role)
      .reduce((s, t) => s + t.rows, 0)
  return {
    name: node.name,
    kind: node.definition.kind,
    status,
    key: m.key,
    seconds,
    stats: m.stats,
    rowsIn: m.rowsIn,
    rowsOut: byRole("main"),
    rejected: byRole("rejects"),
    removed: byRole("removed")
  }
}
