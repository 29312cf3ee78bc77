// Every loader through the real runner (contract checks on the real tables, Parquet artifacts, cache),
// and the file fingerprint that invalidates the cache when an input file changes.
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, utimesSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { fileFingerprint } from "../../nodes/lib/file-fingerprint.js"
import { load } from "../../nodes/load/index.js"
import { pipeline } from "../../workbench/core/pipeline.js"
import { runPipeline } from "../../workbench/run-pipeline.js"

const F = "test/fixtures/data/"

describe("load nodes in a pipeline", () => {
  it("run under the runner's contract checks and report rows in, out and rejected", async () => {
    const def = pipeline("all-loaders", (p) => {
      p.node("hh", load.hhRlhf({ path: "data/hh-rlhf-harmless-base/test.jsonl.gz" }))
      p.node("trl", load.trl({ path: `${F}trl-conversational.jsonl` }))
      p.node("table", load.table({ path: `${F}table-sides.jsonl`, maxRejectRate: 0.2 }))
      p.node("uf", load.ultrafeedback({ path: `${F}ultrafeedback.jsonl`, maxRejectRate: 0.5 }))
      p.node("oasst", load.oasst({ path: "data/oasst-en-100-trees/en_100_tree.jsonl" }))
      p.node("panda", load.pandalm({ path: "data/pandalm-testset", maxRejectRate: 0.01 }))
      p.node("ae", load.alpacaEval({ path: "data/alpaca-eval-gpt-3.5-turbo-0301" }))
    })
    const workspace = join(mkdtempSync(join(tmpdir(), "wb-load-run-")), ".wb")
    const first = await runPipeline(def, { workspace, threads: 2 })
    const by = Object.fromEntries(first.report.nodes.map((n) => [n.name, n]))
    expect(first.report.status).toBe("ok")
    expect(by["hh"]).toMatchObject({ status: "ran", rowsIn: 2312, rowsOut: 2312, rejected: 0 })
    expect(by["trl"]).toMatchObject({ rowsIn: 3, rowsOut: 3, rejected: 0 })
    expect(by["table"]).toMatchObject({ rowsIn: 6, rowsOut: 5, rejected: 1 })
    expect(by["uf"]).toMatchObject({ rowsIn: 6, rowsOut: 3, rejected: 2, removed: 1 })
    expect(by["oasst"]).toMatchObject({ rowsIn: 754, rowsOut: 754, rejected: 0, removed: 0 })
    expect(by["panda"]).toMatchObject({ rowsIn: 999, rowsOut: 993, rejected: 6 })
    expect(by["ae"]).toMatchObject({ rowsIn: 2415, rowsOut: 805, rejected: 0, removed: 1610 })
    expect(Object.keys(first.nodes["panda"]!.tables).sort()).toEqual(["pairs", "raters", "rejects", "removed", "votes"])
    expect(Object.keys(first.nodes["uf"]!.tables).sort()).toEqual([
      "pairs",
      "raters",
      "ratings",
      "rejects",
      "removed",
      "votes"
    ])
    expect(Object.keys(first.nodes["hh"]!.tables).sort()).toEqual(["pairs", "rejects", "removed", "votes"])
    const again = await runPipeline(def, { workspace, threads: 2 })
    expect(again.report.nodes.map((n) => n.status)).toEqual(Array(7).fill("cached"))
  })

  it("re-runs a loader when its file's content changes (relative path, size and content hash are the cache key)", async () => {
    const root = mkdtempSync(join(tmpdir(), "wb-load-fp-"))
    mkdirSync(join(root, "in"))
    const file = join(root, "in", "pairs.jsonl")
    copyFileSync(`${F}trl-explicit.jsonl`, file)
    const before = fileFingerprint(root, ["in/pairs.jsonl"])
    expect(before).toMatch(/^in\/pairs\.jsonl:\d+:sha1:[0-9a-f]{40}$/)
    expect(fileFingerprint(root, ["in/missing.jsonl"])).toBe("in/missing.jsonl:missing")
    expect(fileFingerprint(root, ["in"]).split("\n")).toEqual([before])
    // a new mtime alone changes nothing
    utimesSync(file, new Date(), new Date(Date.now() + 5000))
    expect(fileFingerprint(root, ["in/pairs.jsonl"])).toBe(before)

    const def = pipeline("fp", (p) => {
      p.node("t", load.trl({ path: "in/pairs.jsonl" }))
    })
    const opts = { root, workspace: join(root, ".wb"), threads: 2 }
    expect((await runPipeline(def, opts)).report.nodes[0]).toMatchObject({ status: "ran", rowsOut: 4 })
    expect((await runPipeline(def, opts)).report.nodes[0]!.status).toBe("cached")
    appendFileSync(file, JSON.stringify({ prompt: "One more?", chosen: "Yes.", rejected: "No." }) + "\n")
    expect(fileFingerprint(root, ["in/pairs.jsonl"])).not.toBe(before)
    expect((await runPipeline(def, opts)).report.nodes[0]).toMatchObject({ status: "ran", rowsOut: 5 })
  })
})
