// The quickstart on the shipped real data: known answers, a fully cached second run, and a param
// change that re-runs only the changed node, and its downstream only where its output changed.
import { readFileSync, symlinkSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { describe, expect, it } from "vitest"
import { REPO, tempDir, wb } from "./cli-spawn.js"

interface JsonReport {
  readonly nodes: ReadonlyArray<{
    name: string
    status: string
    rowsIn: number
    rowsOut: number
    rejected: number
    removed: number
  }>
}
const statuses = (r: JsonReport) => Object.fromEntries(r.nodes.map((n) => [n.name, n.status]))
const node = (r: JsonReport, name: string) => r.nodes.find((n) => n.name === name)!

// each test runs in a workspace of its own: none relies on what another cached, or on their order
const freshWorkspace = () => join(tempDir("wb-quickstart-"), ".wb")
const run = async (file: string, workspace: string) => {
  const r = await wb(["run", file, "--json", "--workspace", workspace], { cwd: REPO })
  expect(r.code, r.stderr).toBe(0)
  return JSON.parse(r.stdout) as JsonReport
}

describe("quickstart", () => {
  it("loads, dedupes and summarises the real data with the known answers", async () => {
    const workspace = freshWorkspace()
    const sql = async (query: string) => {
      const r = await wb(["sql", "pipelines/quickstart.ts", query, "--json", "--workspace", workspace], { cwd: REPO })
      expect(r.stderr).toBe("")
      return JSON.parse(r.stdout) as Array<Record<string, unknown>>
    }
    const report = await run("pipelines/quickstart.ts", workspace)
    expect(statuses(report)).toEqual({ hh: "ran", panda: "ran", clean: "ran", summary: "ran" })
    expect(node(report, "hh")).toMatchObject({ rowsIn: 2312, rowsOut: 2312, rejected: 0 })
    expect(node(report, "panda")).toMatchObject({ rowsIn: 999, rowsOut: 993, rejected: 6 })
    const clean = node(report, "clean")
    expect(clean.rowsIn).toBe(2312 + 993)
    expect(clean.rowsIn).toBe(clean.rowsOut + clean.removed)

    const rejects = await sql(
      `select cast(json_extract(raw, '$.idx') as integer) as idx from "panda.rejects" order by 1`
    )
    expect(rejects.map((x) => x["idx"])).toEqual([157, 158, 159, 161, 162, 164])
    const checks = Object.fromEntries((await sql(`select * from "clean.report"`)).map((x) => [x["check"], x]))
    expect(checks["exact"]).toMatchObject({ groups: 70, rows_removed: 97 })
    expect(checks["mirrored"]).toMatchObject({ groups: 35 })
    const summary = Object.fromEntries(
      (await sql(`select source || ' / ' || metric as k, value from summary`)).map((x) => [x["k"], x["value"]])
    )
    expect(summary["pandalm / loaded: pairs with an empty response"]).toBe(54)
    expect(summary["pandalm / removed: exact-duplicate"]).toBe(97)
    expect(summary["hh-rlhf / loaded: pairs"]).toBe(2312)
    const hhRemoved = await sql(
      `select reason, count(*)::INTEGER as n from "clean.removed" where source = 'hh-rlhf' group by 1 order by 1`
    )
    expect(hhRemoved).toEqual([{ reason: "empty-side", n: 4 }]) // no exact duplicates, no identical sides
    // merging a mirrored twin's votes must not let the AI judges' verdicts overrule the human majority
    const relabelled = await sql(`select count(*)::INTEGER as n from panda p join clean c using (pair_id)
      where c.label is distinct from p.label or c.label_source <> 'human'`)
    expect(relabelled).toEqual([{ n: 0 }])
  })

  it("serves an unchanged second run entirely from cache", async () => {
    const workspace = freshWorkspace()
    expect(statuses(await run("pipelines/quickstart.ts", workspace))).toEqual({
      hh: "ran",
      panda: "ran",
      clean: "ran",
      summary: "ran"
    })
    const again = await run("pipelines/quickstart.ts", workspace)
    expect(statuses(again)).toEqual({ hh: "cached", panda: "cached", clean: "cached", summary: "cached" })
  })

  it("re-runs only dedupe when a dedupe param changes, and its downstream only if dedupe's output changed (YAML twin, same cache)", async () => {
    const yaml = readFileSync(join(REPO, "pipelines/quickstart.yaml"), "utf8").replace(
      "normalize: none",
      "normalize: whitespace"
    )
    // the twin's data paths resolve against its project root: the folder holding the workspace (.wb/),
    // where data/ is the checkout's data; keys hold paths relative to the root, so the loaders match
    const workspace = freshWorkspace()
    const file = join(dirname(workspace), "quickstart-ws.yaml")
    writeFileSync(file, yaml)
    symlinkSync(join(REPO, "data"), join(dirname(workspace), "data"))
    await run("pipelines/quickstart.ts", workspace)
    // no text here differs only in whitespace: clean re-runs and writes the same rows, so summary stays
    // cached (early cutoff: its key hashes the content of clean's tables, not clean's key)
    expect(statuses(await run(file, workspace))).toEqual({
      hh: "cached",
      panda: "cached",
      clean: "ran",
      summary: "cached"
    })
    // mirrored pairs kept: clean's output changes, and summary re-runs
    writeFileSync(file, yaml.replace("normalize: whitespace", "normalize: whitespace, mirrored: { enabled: false }"))
    expect(statuses(await run(file, workspace))).toEqual({
      hh: "cached",
      panda: "cached",
      clean: "ran",
      summary: "ran"
    })
  })
})
