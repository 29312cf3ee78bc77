// The import rules of .dependency-cruiser.cjs (style.md §1) fire on the imports they exist to stop,
// including dynamic import() and node: builtins, and the real tree passes them. The fixtures are small
// trees written to a temp folder with the same layout (workbench/core/, nodes/<family>/, …), checked
// with the real config: the rules match on paths relative to where dependency-cruiser runs.
import { spawnSync } from "node:child_process"
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { describe, expect, it } from "vitest"

const REPO = resolve(import.meta.dirname, "../..")
const CONFIG = join(REPO, ".dependency-cruiser.cjs")
const CLI = join(REPO, "node_modules/dependency-cruiser/bin/dependency-cruise.mjs")

function cruise(cwd: string, targets: ReadonlyArray<string>) {
  const r = spawnSync(process.execPath, [CLI, "--config", CONFIG, "--output-type", "err", ...targets], {
    cwd,
    encoding: "utf8"
  })
  return { code: r.status, out: `${r.stdout}${r.stderr}` }
}

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "wb-import-rules-"))
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true })
    writeFileSync(join(root, path), text)
  }
  return root
}

// what every fixture tree has: legal targets for the imports below
const BASE = {
  "workbench/core/node.ts": "export const node = 1\n",
  "workbench/protocol/events.ts": "export const events = 1\n",
  "workbench/io/duckdb.ts": "export const duckdb = 1\n",
  "nodes/lib/pair-tables.ts": "export const pairs = 1\n",
  "nodes/load/read.ts": "export const read = 1\n",
  "nodes/load/index.ts": 'export { read } from "./read.js"\n',
  "nodes/index.ts": 'export { read } from "./load/index.js"\n'
}

describe("import rules", () => {
  it("fail on a node family importing another, statically or with import(), and name the rule", () => {
    const root = tree({
      ...BASE,
      "nodes/dedupe/static.ts": 'import { read } from "../load/read.js"\nexport const a = read\n',
      "nodes/dedupe/dynamic.ts": 'export const b = async () => (await import("../load/index.js")).read\n',
      "nodes/dedupe/barrel.ts": 'export { read } from "../index.js"\n',
      "nodes/lib/upward.ts": 'import { read } from "../load/read.js"\nexport const c = read\n'
    })
    const r = cruise(root, ["nodes"])
    expect(r.code, r.out).toBe(4)
    expect(r.out).toContain("error node-family-not-to-other-family: nodes/dedupe/static.ts → nodes/load/read.ts")
    expect(r.out).toContain("error node-family-not-to-other-family: nodes/dedupe/dynamic.ts → nodes/load/index.ts")
    expect(r.out).toContain("error node-family-not-to-other-family: nodes/dedupe/barrel.ts → nodes/index.ts")
    expect(r.out).toContain("error nodes-lib-not-to-families: nodes/lib/upward.ts → nodes/load/read.ts")
  })

  it("fail on workbench/core using node:fs (any spelling, static or dynamic) or importing io", () => {
    const root = tree({
      ...BASE,
      "workbench/core/reads.ts": 'import { readFileSync } from "node:fs"\nexport const r = readFileSync\n',
      "workbench/core/reads-later.ts": 'export const r = async () => (await import("node:fs/promises")).readFile\n',
      "workbench/core/bare.ts": 'import { statSync } from "fs"\nexport const s = statSync\n',
      "workbench/core/spawns.ts": 'import { spawn } from "node:child_process"\nexport const s = spawn\n',
      "workbench/core/uses-io.ts": 'import type { duckdb } from "../io/duckdb.js"\nexport type D = typeof duckdb\n'
    })
    const r = cruise(root, ["workbench"])
    expect(r.code, r.out).toBe(5)
    expect(r.out).toContain("error core-no-io-builtins: workbench/core/reads.ts → fs")
    expect(r.out).toContain("error core-no-io-builtins: workbench/core/reads-later.ts → fs/promises")
    expect(r.out).toContain("error core-no-io-builtins: workbench/core/bare.ts → fs")
    expect(r.out).toContain("error core-no-io-builtins: workbench/core/spawns.ts → child_process")
    // a type-only import ties the layers too
    expect(r.out).toContain(
      "error core-imports-only-core-and-effect: workbench/core/uses-io.ts → workbench/io/duckdb.ts"
    )
  })

  it("fail on nodes reaching io, cli reaching a node, the package's own name inside it, and an import nothing resolves", () => {
    const root = tree({
      ...BASE,
      "nodes/report/by-name.ts": 'import { pipeline } from "preference-workbench"\nexport const p = pipeline\n',
      "nodes/load/sql.ts": 'import { duckdb } from "../../workbench/io/duckdb.js"\nexport const s = duckdb\n',
      "workbench/cli/run.ts": 'export const r = async () => (await import("../../nodes/load/read.js")).read\n',
      "workbench/core/typo.ts": 'import { node } from "./nod.js"\nexport const t = node\n'
    })
    const r = cruise(root, ["workbench", "nodes"])
    expect(r.code, r.out).toBe(4)
    expect(r.out).toContain("error nodes-only-core-api: nodes/load/sql.ts → workbench/io/duckdb.ts")
    // by name, the package is dist/ (or nothing before a build): the layer rules could not see through it
    expect(r.out).toContain("error no-own-package-name-inside: nodes/report/by-name.ts → preference-workbench")
    expect(r.out).toContain("error cli-server-no-specific-node: workbench/cli/run.ts → nodes/load/read.ts")
    expect(r.out).toContain("error no-unresolvable-in-layers: workbench/core/typo.ts → ./nod.js")
  })

  it("pass what the layer table allows: a family using nodes/lib and core, core hashing and using protocol", () => {
    const root = tree({
      ...BASE,
      "nodes/dedupe/run.ts": [
        'import { pairs } from "../lib/pair-tables.js"',
        'import { node } from "../../workbench/core/node.js"',
        "export const run = [pairs, node]",
        ""
      ].join("\n"),
      "workbench/core/cache-key.ts": 'import { createHash } from "node:crypto"\nexport const h = createHash\n',
      "workbench/core/events.ts": 'export { events } from "../protocol/events.js"\n',
      "workbench/io/store.ts":
        'import { readFileSync } from "node:fs"\nimport { node } from "../core/node.js"\nexport const s = [readFileSync, node]\n'
    })
    const r = cruise(root, ["workbench", "nodes"])
    expect(r.out).toMatch(/no dependency violations found/)
    expect(r.code).toBe(0)
  })

  it("pass on the real tree", () => {
    const r = cruise(REPO, ["workbench", "nodes", "pipelines"])
    expect(r.out).toMatch(/no dependency violations found/)
    expect(r.code, r.out).toBe(0)
  })
})
