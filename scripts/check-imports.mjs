#!/usr/bin/env node
// Enforces the layer table of ../shared/guides/style.md §1: a wrong import fails CI.
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join, relative, resolve, dirname } from "node:path"

const root = resolve(dirname(new URL(import.meta.url).pathname), "..")
const layerOf = (file) => {
  const rel = relative(root, file)
  if (rel.startsWith("workbench/core/")) return "core"
  if (rel.startsWith("workbench/io/")) return "io"
  if (rel.startsWith("workbench/protocol/")) return "protocol"
  if (rel.startsWith("workbench/cli/")) return "cli"
  if (rel.startsWith("workbench/server/")) return "server"
  if (rel.startsWith("workbench/ui/")) return "ui"
  if (rel.startsWith("nodes/lib/")) return "nodes-lib"
  if (rel.startsWith("nodes/")) return "nodes"
  if (rel.startsWith("pipelines/")) return "pipelines"
  return undefined
}
// layer -> layers it must not import
const forbidden = {
  core: ["io", "nodes", "nodes-lib", "pipelines", "cli", "server", "ui", "protocol"],
  io: ["nodes", "nodes-lib", "pipelines", "cli", "server", "ui"],
  nodes: ["io", "cli", "server", "ui", "pipelines"],
  "nodes-lib": ["io", "cli", "server", "ui", "pipelines", "nodes"],
  pipelines: ["io", "cli", "server", "ui"],
  cli: ["nodes", "nodes-lib", "pipelines", "ui"],
  server: ["nodes", "nodes-lib", "pipelines", "ui"],
  protocol: ["core", "io", "nodes", "nodes-lib", "pipelines", "cli", "server", "ui"],
  ui: ["core", "io", "nodes", "nodes-lib", "pipelines", "cli", "server"]
}
const walk = (dir) => readdirSync(dir).flatMap((n) => {
  const p = join(dir, n)
  return statSync(p).isDirectory() ? walk(p) : /\.(ts|js|mjs)$/.test(n) ? [p] : []
})
const problems = []
for (const top of ["workbench", "nodes", "pipelines"]) {
  for (const file of walk(join(root, top))) {
    const from = layerOf(file)
    if (from === undefined) continue
    const text = readFileSync(file, "utf8")
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+["']([^"']+)["']/g)) {
      const spec = m[1]
      if (!spec.startsWith(".")) continue
      const to = layerOf(resolve(dirname(file), spec))
      if (to !== undefined && forbidden[from]?.includes(to)) {
        problems.push(`${relative(root, file)}: ${from} must not import ${to} (${spec})`)
      }
    }
    // one node family must not import another: shared helpers go in nodes/lib/
    if (from === "nodes") {
      const familyOf = (f) => /^nodes\/([^/]+)\//.exec(relative(root, f))?.[1]
      for (const m of text.matchAll(/from\s+["'](\.[^"']+)["']/g)) {
        const target = familyOf(resolve(dirname(file), m[1]))
        const own = familyOf(file)
        if (own !== undefined && target !== undefined && target !== "lib" && target !== own) {
          problems.push(`${relative(root, file)}: node families must not import each other (${m[1]})`)
        }
      }
    }
  }
}
if (problems.length > 0) {
  console.error(`import rule violations (see ../shared/guides/style.md §1):\n${problems.map((p) => `  ${p}`).join("\n")}`)
  process.exit(1)
}
console.log("imports follow the layer rules")
