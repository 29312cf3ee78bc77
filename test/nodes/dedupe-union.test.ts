/** Several tables on one input are unioned by column name; an extra column whose types clash is read as text. */
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { dedupe } from "../../nodes/dedupe/index.js"
import { load } from "../../nodes/load/index.js"
import { pipeline } from "../../workbench/core/pipeline.js"
import { runPipeline } from "../../workbench/run-pipeline.js"
import { readParquet } from "../support/sql.js"

describe("dedupe over several loaders whose extra columns clash", () => {
  it("reads a column that is JSON in one table and text in another as text, and says so", async () => {
    const root = mkdtempSync(join(tmpdir(), "wb-dedupe-union-"))
    writeFileSync(
      join(root, "un1.jsonl"),
      `${JSON.stringify({ prompt: "p", chosen: "c", rejected: "r", meta: { k: 1 } })}\n`
    )
    writeFileSync(join(root, "un2.csv"), "prompt,chosen,rejected,meta\nq,c,r,hello\n")
    const def = pipeline("un", (p) => {
      const a = p.node("a", load.table({ path: "un1.jsonl" }))
      const b = p.node("b", load.table({ path: "un2.csv" }))
      p.node("d", dedupe.pairs(), { pairs: [a, b] })
      // an eval set is read for its prompts only: the clash does not matter there
      p.node("deco", dedupe.decontaminate(), { pairs: a, against: [a, b] })
    })
    const notes: Array<string> = []
    const res = await runPipeline(def, {
      root,
      workspace: join(root, ".wb"),
      threads: 2,
      onEvent: (e) => {
        if (e._tag === "NodeNote") notes.push(`${e.node}: ${e.text}`)
      }
    })
    const deco = res.report.nodes.find((n) => n.name === "deco")!
    expect(deco).toMatchObject({ status: "ran", rowsIn: 1, rowsOut: 0, removed: 1 })
    const d = res.report.nodes.find((n) => n.name === "d")!
    expect(d).toMatchObject({ status: "ran", rowsIn: 2, rowsOut: 2 })
    // the clashing column is read as text from each table, as the runner's note says
    const kept = await readParquet(res.nodes["d"]!.tables["pairs"]!)
    expect(kept.map((r) => [r["prompt"], r["meta"]])).toEqual([
      ["p", '{"k":1}'],
      ["q", "hello"]
    ])
    expect(notes).toContain("d: input pairs: meta (json / utf8) read as text: the unioned tables disagree on the type")
  })
})
