// Relative paths in a pipeline file resolve against its project root (the nearest folder holding
// package.json or .wb/, from the file's folder up), not the current directory: `wb run` started anywhere
// finds the pipeline's data, gets the same cache keys, and its summary says which root it used.
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { describe, expect, it } from "vitest"
import { FIXTURES, tempDir, wb } from "./cli-spawn.js"

const PIPELINE = [
  "pipeline: rooted",
  "nodes:",
  "  pairs: { use: load.trl, with: { path: data/pairs.jsonl } }",
  "  clean: { use: dedupe.exact, in: { pairs: pairs } }",
  ""
].join("\n")

/** A project folder: `marker` (package.json or .wb/) at its top, data/ and pipelines/rooted.yaml below. */
function project(marker: "package.json" | ".wb" | "none"): { dir: string; pipeline: string } {
  const dir = tempDir("wb-project-")
  if (marker === "package.json") writeFileSync(join(dir, "package.json"), '{ "name": "my-prefs", "private": true }\n')
  if (marker === ".wb") mkdirSync(join(dir, ".wb"))
  // without a marker, the pipeline sits beside its data: its own folder is the root
  const pipelineDir = marker === "none" ? dir : join(dir, "pipelines")
  mkdirSync(join(dir, "data"), { recursive: true })
  mkdirSync(pipelineDir, { recursive: true })
  copyFileSync(join(FIXTURES, "data", "trl-explicit.jsonl"), join(dir, "data", "pairs.jsonl"))
  const pipeline = join(pipelineDir, "rooted.yaml")
  writeFileSync(pipeline, PIPELINE)
  return { dir, pipeline }
}

const statuses = (stdout: string) =>
  (JSON.parse(stdout) as { nodes: Array<{ name: string; status: string; rowsOut: number }> }).nodes.map((n) => [
    n.name,
    n.status,
    n.rowsOut
  ])

// a package.json or .wb/ in a folder above the temp directory (a developer's machine) would be the root
const markerAboveTmp = (() => {
  for (let d = resolve(tmpdir()); ; d = dirname(d)) {
    if (existsSync(join(d, "package.json")) || existsSync(join(d, ".wb"))) return true
    if (dirname(d) === d) return false
  }
})()

describe("project root", { timeout: 90_000 }, () => {
  it("wb run from another directory reads the data under the project root, and the summary names it", async () => {
    const { dir, pipeline } = project("package.json")
    const elsewhere = tempDir("wb-elsewhere-")
    const r = await wb(["run", pipeline], { cwd: elsewhere })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain(
      `\nproject root ${dir} (nearest package.json above the pipeline; relative paths resolve here)\n`
    )
    expect(r.stdout).toMatch(/^ {2}pairs +load\.trl +4 → 4 /m)
    // the workspace startWb names in WB_WORKSPACE (an absolute path: the test's own folder)
    expect(existsSync(join(elsewhere, ".wb", "meta.duckdb"))).toBe(true)
  })

  it("cd pipelines && wb run x: the default workspace is the project root's .wb/, not one beside the pipeline", async () => {
    const { dir } = project("package.json")
    // WB_WORKSPACE empty counts as unset (as in `WB_WORKSPACE= wb run …`): the default .wb applies
    const r = await wb(["run", "rooted.yaml"], { cwd: join(dir, "pipelines"), env: { WB_WORKSPACE: "" } })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout.split("\n")[0]).toBe(`rooted · 2 nodes · workspace ${join(dir, ".wb")}/`)
    expect(existsSync(join(dir, ".wb", "meta.duckdb"))).toBe(true)
    expect(existsSync(join(dir, "pipelines", ".wb"))).toBe(false)
  })

  it("gives the same cache keys from any current directory (a .wb/ folder marks the root too)", async () => {
    const { dir, pipeline } = project(".wb")
    const workspace = join(tempDir("wb-shared-ws-"), ".wb")
    const first = await wb(["run", pipeline, "--json", "--workspace", workspace], { cwd: tempDir("wb-cwd-a-") })
    expect(first.code, first.stderr).toBe(0)
    expect(statuses(first.stdout)).toEqual([
      ["pairs", "ran", 4],
      ["clean", "ran", 4]
    ])
    const second = await wb(["run", pipeline, "--json", "--workspace", workspace], { cwd: join(dir, "data") })
    expect(second.code, second.stderr).toBe(0)
    expect(statuses(second.stdout)).toEqual([
      ["pairs", "cached", 4],
      ["clean", "cached", 4]
    ])
    const summary = await wb(["run", pipeline, "--workspace", workspace], { cwd: "/" })
    expect(summary.stdout).toContain(
      `\nproject root ${dir} (nearest .wb/ above the pipeline; relative paths resolve here)\n`
    )
  })

  it.skipIf(markerAboveTmp)("a pipeline in no project reads paths relative to its own folder", async () => {
    const { dir, pipeline } = project("none")
    const r = await wb(["run", pipeline, "--workspace", join(tempDir("wb-lone-ws-"), ".wb")], {
      cwd: tempDir("wb-cwd-")
    })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain(
      `\nproject root ${dir} (the pipeline's folder: no package.json or .wb/ above it; relative paths resolve here)\n`
    )
  })
})
