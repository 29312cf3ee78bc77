// The quickstart on the shipped real data: known answers, a fully cached second run, and a param
// change that re-runs only the changed node and its downstream.
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { REPO, tempDir, wb } from "./cli-spawn.js"

interface JsonReport {
  readonly nodes: ReadonlyArray<{ name: string; status: string; rowsIn: number; rowsOut: number; rejected: number; removed: number }>
}
const statuses = (r: JsonReport) => Object.fromEntries(r.nodes.map((n) => [n.name, n.status]))
const node = (r: JsonReport, name: string) => r.nodes.find((n) => n.name === name)!

describe("quickstart", () => {
  const workspace = join(tempDir("wb-quickstart-"), ".wb")
  const sql = async (query: string) => {
    const r = await wb(["sql", "pipelines/quickstart.ts", query, "--json", "--workspace", workspace], { cwd: REPO })
    expect(r.stderr).toBe("")
    return JSON.parse(r.stdout) as Array<Record<string, unknown>>
  }

  it("loads, dedupes and summarises the real data with the known answers", async () => {
    const r = await wb(["run", "pipelines/quickstart.ts", "--json", "--workspace", workspace], { cwd: REPO })
    expect(r.code).toBe(0)
    const report = JSON.parse(r.stdout) as JsonReport
    expect(statuses(report)).toEqual({ hh: "ran", panda: "ran", clean: "ran", summary: "ran" })
    expect(node(report, "hh")).toMatchObject({ rowsIn: 2312, rowsOut: 2312, rejected: 0 })
    expect(node(report, "panda")).toMatchObject({ rowsIn: 999, rowsOut: 993, rejected: 6 })
    const clean = node(report, "clean")
    expect(clean.rowsIn).toBe(2312 + 993)
    expect(clean.rowsIn).toBe(clean.rowsOut + clean.removed)

    const rejects = await sql(`select cast(json_extract(raw, '$.idx') as integer) as idx from "panda.rejects" order by 1`)
    expect(rejects.map((x) => x["idx"])).toEqual([157, 158, 159, 161, 162, 164])
    const checks = Object.fromEntries((await sql(`select * from "clean.report"`)).map((x) => [x["check"], x]))
    expect(checks["exact"]).toMatchObject({ groups: 70, rows_removed: 97 })
    expect(checks["mirrored"]).toMatchObject({ groups: 35 })
    const summary = Object.fromEntries((await sql(`select source || ' / ' || metric as k, value from summary`)).map((x) => [x["k"], x["value"]]))
    expect(summary["pandalm / loaded: pairs with an empty response"]).toBe(54)
    expect(summary["pandalm / removed: exact-duplicate"]).toBe(97)
    expect(summary["hh-rlhf / loaded: pairs"]).toBe(2312)
    const hhRemoved = await sql(`select reason, count(*)::INTEGER as n from "clean.removed" where source = 'hh-rlhf' group by 1 order by 1`)
    expect(hhRemoved).toEqual([{ reason: "empty-side", n: 4 }]) // no exact duplicates, no identical sides
    // merging a mirrored twin's votes must not let the AI judges' verdicts overrule the human majority
    const relabelled = await sql(`select count(*)::INTEGER as n from panda p join clean c using (pair_id)
      where c.label is distinct from p.label or c.label_source <> 'human'`)
    expect(relabelled).toEqual([{ n: 0 }])
  })

  it("serves an unchanged second run entirely from cache", async () => {
    const r = await wb(["run", "pipelines/quickstart.ts", "--json", "--workspace", workspace], { cwd: REPO })
    expect(r.code).toBe(0)
    expect(statuses(JSON.parse(r.stdout) as JsonReport)).toEqual({ hh: "cached", panda: "cached", clean: "cached", summary: "cached" })
  })

  it("re-runs only dedupe and its downstream when a dedupe param changes (YAML twin, same cache)", async () => {
    const yaml = readFileSync(join(REPO, "pipelines/quickstart.yaml"), "utf8").replace("normalize: none", "normalize: whitespace")
    const file = join(tempDir("wb-quickstart-yaml-"), "quickstart-ws.yaml")
    writeFileSync(file, yaml)
    const r = await wb(["run", file, "--json", "--workspace", workspace], { cwd: REPO })
    expect(r.code).toBe(0)
    expect(statuses(JSON.parse(r.stdout) as JsonReport)).toEqual({ hh: "cached", panda: "cached", clean: "ran", summary: "ran" })
  })
})
