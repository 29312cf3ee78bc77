/**
 * The browser UI imports only itself and the browser libraries it bundles (the ui-browser-only rule
 * of .dependency-cruiser.cjs, which cannot parse JSX with its swc parser): no Node builtins, no core,
 * io, nodes, cli or server code, nothing that would drag Node-only modules into the bundle.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { filesUnder } from "../../scripts/dist-record.mjs"
import { REPO } from "../e2e/cli-spawn.js"

const ALLOWED = /^(\.\/|preact(\/|$)|arquero$|@observablehq\/plot$|@dagrejs\/dagre$|apache-arrow$|@uwdata\/)/
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^"']*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g
// type-only imports of the run-event protocol are erased by the build: the UI checks against the very
// types the runner emits without bundling effect's Schema
const TYPE_ONLY_PROTOCOL = /(?:^|\n)\s*(?:import|export)\s+type\s[^"']*?from\s*["']\.\.\/\.\.\/protocol\/[^"']+["']/g

export const importsOf = (source: string) =>
  [...source.replace(TYPE_ONLY_PROTOCOL, "").matchAll(IMPORT)].map((m) => (m[1] ?? m[2])!)

describe("workbench/ui imports", () => {
  it("finds the imports it checks (a bad one is reported)", () => {
    expect(
      importsOf(`import { x } from "node:fs"\nimport type { T } from "../../core/node.js"\nconst m = import("os")`)
    ).toEqual(["node:fs", "../../core/node.js", "os"])
    // the protocol only as types: a value import of it would bundle effect
    expect(importsOf(`export type { RunEvent } from "../../protocol/events.ts"`)).toEqual([])
    expect(importsOf(`import { RunEvent } from "../../protocol/events.ts"`)).toEqual(["../../protocol/events.ts"])
    expect(["node:fs", "../../core/node.js", "os"].filter((i) => !ALLOWED.test(i))).toHaveLength(3)
  })

  it("every UI source imports only ./ modules, preact, arquero, Plot, dagre and Arrow", () => {
    const files = (filesUnder(REPO, "workbench/ui/src") as Array<string>).filter((f) => /\.tsx?$/.test(f))
    expect(files.length).toBeGreaterThan(5)
    const bad = files.flatMap((f) =>
      importsOf(readFileSync(join(REPO, f), "utf8"))
        .filter((i) => !ALLOWED.test(i))
        .map((i) => `${f}: ${i}`)
    )
    expect(bad).toEqual([])
  })
})
