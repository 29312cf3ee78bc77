/**
 * The DAG beside the notebook, with a toggle per family (every `judge.*` node, …) that collapses its
 * nodes into one box and expands them again (clicking the box expands it too). The collapsed families
 * are kept per pipeline for the page's life, so a re-run or a refresh of the graph keeps the view.
 */
import { useMemo, useState } from "preact/hooks"
import { dagSvg, families } from "./dag.ts"
import { Mount } from "./mount.tsx"
import type { GraphNode } from "./types.ts"

export function DagPanel({ nodes, onSelect }: { nodes: ReadonlyArray<GraphNode>; onSelect: (name: string) => void }) {
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(new Set())
  const toggle = (family: string) =>
    setCollapsed((c) => {
      const next = new Set(c)
      if (!next.delete(family)) next.add(family)
      return next
    })
  const groups = useMemo(() => families(nodes), [nodes])
  const dag = useMemo(
    () =>
      nodes.length
        ? dagSvg(nodes, onSelect, {
            collapsed,
            onExpand: (f) => setCollapsed((c) => new Set([...c].filter((x) => x !== f)))
          })
        : null,
    [nodes, onSelect, collapsed]
  )
  return (
    <div class="dag-panel">
      {groups.size > 0 && (
        <div class="dag-families toolbar">
          {[...groups].map(([family, members]) => (
            <button
              type="button"
              key={family}
              class="family-toggle"
              data-family={family}
              aria-pressed={collapsed.has(family)}
              title={members.join(", ")}
              onClick={() => toggle(family)}
            >
              {collapsed.has(family) ? "⊞" : "⊟"} {family}.* ({members.length})
            </button>
          ))}
        </div>
      )}
      <Mount node={dag} class="dag-box" />
    </div>
  )
}
