// export.trl on the shipped HH-RLHF split, through the real runner: the turn markers come back exactly
// (prompt + chosen is the source's own transcript), and what load.trl reads back is the same pairs.
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { gunzipSync } from "node:zlib"
import { beforeAll, describe, expect, it } from "vitest"
import { exportTo } from "../../nodes/export/index.js"
import { load } from "../../nodes/load/index.js"
import { pipeline } from "../../workbench/core/pipeline.js"
import { runPipeline } from "../../workbench/run-pipeline.js"
import { readParquet } from "../support/sql.js"
import { runLoad } from "./load-helpers.js"
import { readJsonl, type Row, tempRoot, triples } from "./export-helpers.js"

const HH = "data/hh-rlhf-harmless-base/test.jsonl.gz"
const NL2 = "\n\n"

describe("export.trl on HH-RLHF", () => {
  const root = tempRoot()
  const file = (name: string) => join(root, "exports", "hh", name)
  let hh: ReadonlyArray<Row>
  let report: Awaited<ReturnType<typeof runPipeline>>["report"]
  const chosen = (p: Row) => String(p["label"] === "a" ? p["response_a"] : p["response_b"])
  const rejected = (p: Row) => String(p["label"] === "a" ? p["response_b"] : p["response_a"])

  beforeAll(async () => {
    const def = pipeline("hh-export", (p) => {
      const hh = p.node("hh", load.hhRlhf({ path: HH }))
      p.node("explicit", exportTo.trl({ to: "exports/hh/explicit.jsonl", keep: ["source_row"] }), { pairs: hh })
      p.node("plain", exportTo.trl({ to: "exports/hh/plain.jsonl", turnMarkers: "none" }), { pairs: hh })
      p.node("conv", exportTo.trl({ to: "exports/hh/conv.jsonl", layout: "conversational" }), { pairs: hh })
      p.node("implicit", exportTo.trl({ to: "exports/hh/implicit.jsonl", layout: "implicit", keep: ["source_row"] }), {
        pairs: hh
      })
    })
    const result = await runPipeline(def, { root, workspace: join(root, ".wb"), threads: 2 })
    report = result.report
    hh = await readParquet(result.nodes["hh"]!.tables["pairs"]!)
  })

  it("writes every pair (HH has no ties) and says where", () => {
    expect(report.status).toBe("ok")
    for (const n of report.nodes.filter((n) => n.kind === "export.trl")) {
      expect(n).toMatchObject({ status: "ran", rowsIn: 2312, rowsOut: 2312, removed: 0 })
    }
    expect(report.nodes.find((n) => n.name === "explicit")!.stats).toMatchObject({
      written: 2312,
      hh_markers_restored: 2312,
      file: "exports/hh/explicit.jsonl"
    })
  })

  it("load.hh-rlhf records what it cut on every row: one Human turn or a dialogue", () => {
    const formats = hh.map((p) => p["prompt_format"])
    expect(formats.filter((f) => f === "hh-turn").length).toBe(662)
    expect(formats.filter((f) => f === "hh-dialogue").length).toBe(1650)
  })

  it("restores the turn markers exactly: prompt + chosen / rejected are the source transcripts, on every row", () => {
    const source = gunzipSync(readFileSync(HH))
      .toString("utf8")
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as { chosen: string; rejected: string })
    const rows = readJsonl(file("explicit.jsonl"))
    expect(rows.length).toBe(2312)
    expect(Object.keys(rows[0]!)).toEqual(["prompt", "chosen", "rejected", "source_row"])
    for (const r of rows) {
      const original = source[Number(r["source_row"])]!
      expect(String(r["prompt"]) + String(r["chosen"])).toBe(original.chosen)
      expect(String(r["prompt"]) + String(r["rejected"])).toBe(original.rejected)
      expect(String(r["prompt"]).startsWith(`${NL2}Human: `)).toBe(true)
      expect(String(r["prompt"]).endsWith(`${NL2}Assistant:`)).toBe(true)
    }
    // TRL's HH form: a single-turn prompt, its reply with the leading space
    const single = rows.find((r) => !String(r["prompt"]).slice(2).includes(`${NL2}Human:`))!
    expect(String(single["chosen"]).startsWith(" ")).toBe(true)
  })

  it("implicit: each side is the whole source transcript", () => {
    const source = gunzipSync(readFileSync(HH))
      .toString("utf8")
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as { chosen: string; rejected: string })
    for (const r of readJsonl(file("implicit.jsonl"))) {
      expect(r["chosen"]).toBe(source[Number(r["source_row"])]!.chosen)
      expect(r["rejected"]).toBe(source[Number(r["source_row"])]!.rejected)
    }
  })

  it("HH -> export.trl -> load.trl gives the same pairs (conversational, and plain text)", async () => {
    const expected = triples(hh.map((p) => [p["prompt"], chosen(p), rejected(p)]))
    for (const name of ["conv.jsonl", "plain.jsonl"]) {
      const back = await runLoad(load.trl, { path: file(name) }, root)
      expect(back.rejects.length, name).toBe(0)
      expect(triples(back.pairs.map((p) => [p["prompt"], chosen(p), rejected(p)])), name).toEqual(expected)
    }
    // a conversational HH dialogue is user/assistant turns, not one message holding the markers
    const conv = readJsonl(file("conv.jsonl"))
    const turns = conv.map((r) => (r["prompt"] as Array<{ role: string }>).length)
    expect(Math.max(...turns)).toBeGreaterThan(2)
    expect(conv[0]!["chosen"]).toEqual([{ role: "assistant", content: expect.any(String) }])
  })

  it("with markers restored, load.trl reads the TRL HH form: the same pairs with the markers and spaces", async () => {
    const back = await runLoad(load.trl, { path: file("explicit.jsonl") }, root)
    expect(back.rejects.length).toBe(0)
    const restore = (p: Row) =>
      p["prompt_format"] === "hh-turn"
        ? `${NL2}Human: ${p["prompt"]}${NL2}Assistant:`
        : `${NL2}${p["prompt"]}${NL2}Assistant:`
    expect(triples(back.pairs.map((p) => [p["prompt"], chosen(p), rejected(p)]))).toEqual(
      triples(hh.map((p) => [restore(p), ` ${chosen(p)}`, ` ${rejected(p)}`]))
    )
  })

  it("writes one data card for the folder, a section per file", () => {
    const card = readFileSync(join(root, "exports", "hh", "README.md"), "utf8")
    for (const name of ["conv.jsonl", "explicit.jsonl", "implicit.jsonl", "plain.jsonl"]) {
      expect(card).toContain(`<!-- wb:file ${name} -->\n## ${name}\n\nJSON Lines, 2,312 rows`)
    }
    expect(card).toContain("Rows: 2,312 in = 2,312 written + 0 left out.")
    expect(card).toContain("| `human` | 2,312 |")
    expect(card).toMatch(/- node `hh`, table `pairs`, artifact `[0-9a-f]+`/)
    expect(card).toContain("HH turn markers restored on 2,312 prompts")
    expect(existsSync(file("explicit.jsonl.tmp"))).toBe(false)
  })
})
