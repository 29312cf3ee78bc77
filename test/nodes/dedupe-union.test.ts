/** Several tables on one input are unioned by column name; an extra column whose types clash is a clear data error. */
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { dedupe } from "../../nodes/dedupe.js"
import { load } from "../../nodes/load.js"
import { pipeline } from "../../workbench/core/pipeline.js"
import { runPipeline } from "../../workbench/run-pipeline.js"

describe("dedupe over several loaders whose extra columns clash", () => {
  it("names the column, the input and what to do when one table has JSON and another text under one name", async () => {
    const root = mkdtempSync(join(tmpdir(), "wb-dedupe-union-"))
    writeFileSync(join(root, "un1.jsonl"), `${JSON.stringify({ prompt: "p", chosen: "c", rejected: "r", meta: { k: 1 } })}\n`)
    writeFileSync(join(root, "un2.csv"), "prompt,chosen,rejected,meta\nq,c,r,hello\n")
    const def = pipeline("un", (p) => {
      const a = p.node("a", load.table({ path: "un1.jsonl" }))
      const b = p.node("b", load.table({ path: "un2.csv" }))
      p.node("d", dedupe.pairs(), { pairs: [a, b] })
      // an eval set is read for its prompts only: the clash does not matter there
      p.node("deco", dedupe.decontaminate(), { pairs: a, against: [a, b] })
    })
    const res = await runPipeline(def, { root, workspace: join(root, ".wb"), threads: 2 })
    const deco = res.report.nodes.find((n) => n.name === "deco")!
    expect(deco).toMatchObject({ status: "ran", rowsIn: 1, rowsOut: 0, removed: 1 })
    const d = res.report.nodes.find((n) => n.name === "d")!
    expect(d.status).toBe("failed")
    expect(d.errorTag).toBe("DataError")
    expect(d.error).toBe(
      `node "d" input "pairs": column "meta" has different types in the tables unioned into it ` +
        `(Conversion Error: Malformed JSON at byte 0 of input: unexpected character.  Input: "hello" when casting from source column meta)\n` +
        `  expected: a column that several tables of one input share has one type in all of them (they are unioned by column name)\n` +
        `  fix: rename column "meta" in one of the files connected to "pairs", give it the same type in each, or dedupe each table in its own node`
    )
  })
})
