/**
 * The pipeline's DAG, laid out by dagre (left to right) into plain SVG: one `<g data-node>` per node,
 * coloured by status, one `<path>` per edge. dagre rather than elkjs: 16 kB gzipped against 450 kB, and
 * a pipeline's few dozen nodes lay out in milliseconds.
 *
 * Families (a kind's prefix: every `judge.*` node) can be collapsed into one box, `<g data-family>`,
 * coloured by its members' most pressing status; edges into and out of it are merged, edges inside it
 * dropped, and dagre lays out the smaller graph. Clicking the box expands it again.
 */
import { Graph, layout } from "@dagrejs/dagre"
import type { GraphNode } from "./types.ts"

const SVG = "http://www.w3.org/2000/svg"
const H = 30

/** A node's family: its kind up to the first dot (`judge.heuristic` -> `judge`). */
export const familyOf = (n: GraphNode): string => n.kind.split(".")[0] ?? n.kind

/** Families with at least two nodes (the ones worth collapsing), with their member names, in graph order. */
export function families(nodes: ReadonlyArray<GraphNode>): Map<string, Array<string>> {
  const all = new Map<string, Array<string>>()
  for (const n of nodes) all.set(familyOf(n), [...(all.get(familyOf(n)) ?? []), n.name])
  return new Map([...all].filter(([, members]) => members.length > 1))
}

/** The status a collapsed family shows: the most pressing of its members'. */
const URGENCY = ["running", "failed", "damaged", "stale", "not-run", "cached"]
const familyStatus = (members: ReadonlyArray<GraphNode>) =>
  URGENCY.find((s) => members.some((m) => m.status === s)) ?? members[0]?.status ?? "not-run"

interface Box {
  readonly id: string
  readonly label: string
  readonly title: string
  readonly status: string
  readonly family?: string
  readonly members?: ReadonlyArray<string>
}

export function dagSvg(
  nodes: ReadonlyArray<GraphNode>,
  onClick: (name: string) => void,
  collapse: { readonly collapsed: ReadonlySet<string>; readonly onExpand: (family: string) => void } = {
    collapsed: new Set(),
    onExpand: () => {}
  }
): SVGSVGElement {
  const groups = families(nodes)
  // the box each node is drawn in: its own, or its collapsed family's
  const boxOf = new Map<string, string>()
  const boxes: Array<Box> = []
  for (const n of nodes) {
    const f = familyOf(n)
    if (groups.has(f) && collapse.collapsed.has(f)) {
      boxOf.set(n.name, `family:${f}`)
      if (boxes.some((b) => b.id === `family:${f}`)) continue
      const members = nodes.filter((m) => familyOf(m) === f)
      boxes.push({
        id: `family:${f}`,
        label: `${f}.* ×${members.length}`,
        title: `${members.map((m) => m.name).join(", ")} (${f}.*): click to expand`,
        status: familyStatus(members),
        family: f,
        members: members.map((m) => m.name)
      })
    } else {
      boxOf.set(n.name, n.name)
      boxes.push({ id: n.name, label: n.name, title: `${n.name} (${n.kind}): ${n.status}`, status: n.status })
    }
  }
  const g = new Graph()
  g.setGraph({ rankdir: "LR", nodesep: 14, ranksep: 36, marginx: 6, marginy: 6 })
  g.setDefaultEdgeLabel(() => ({}))
  const width = (b: Box) => Math.max(70, 8 * b.label.length + 24)
  for (const b of boxes) g.setNode(b.id, { width: width(b), height: H })
  for (const n of nodes)
    for (const e of n.edges) {
      const from = boxOf.get(e)
      const to = boxOf.get(n.name)!
      // merged: one edge per pair of boxes; none inside a collapsed family
      if (from !== undefined && from !== to) g.setEdge(from, to)
    }
  layout(g)
  const gl = g.graph()
  const svg = document.createElementNS(SVG, "svg")
  svg.setAttribute("viewBox", `0 0 ${gl.width ?? 0} ${gl.height ?? 0}`)
  svg.setAttribute("width", String(gl.width ?? 0))
  svg.setAttribute("class", "dag")
  for (const e of g.edges()) {
    const pts: ReadonlyArray<{ x: number; y: number }> = g.edge(e).points ?? []
    const p = document.createElementNS(SVG, "path")
    p.setAttribute("d", pts.map((q, i) => `${i === 0 ? "M" : "L"}${q.x},${q.y}`).join(" "))
    p.setAttribute("class", "edge")
    p.setAttribute("data-edge", `${e.v}->${e.w}`)
    svg.append(p)
  }
  for (const b of boxes) {
    const at = g.node(b.id)
    const w = width(b)
    const group = document.createElementNS(SVG, "g")
    group.setAttribute("transform", `translate(${at.x - w / 2},${at.y - H / 2})`)
    group.setAttribute("class", `dag-node status-${b.status}${b.family === undefined ? "" : " dag-family"}`)
    if (b.family === undefined) group.setAttribute("data-node", b.id)
    else {
      group.setAttribute("data-family", b.family)
      group.setAttribute("data-members", (b.members ?? []).join(","))
    }
    const title = document.createElementNS(SVG, "title")
    title.textContent = b.title
    const rect = document.createElementNS(SVG, "rect")
    rect.setAttribute("width", String(w))
    rect.setAttribute("height", String(H))
    rect.setAttribute("rx", "6")
    const text = document.createElementNS(SVG, "text")
    text.setAttribute("x", String(w / 2))
    text.setAttribute("y", String(H / 2 + 4))
    text.setAttribute("text-anchor", "middle")
    text.textContent = b.label
    group.append(title, rect, text)
    const family = b.family
    group.addEventListener("click", () => (family === undefined ? onClick(b.id) : collapse.onExpand(family)))
    svg.append(group)
  }
  return svg
}
