// A list of paths naming one file twice reads it once (each file once, as the pattern matches of a
// list are): rows in counted the file once and nothing said so, where the user may have meant to
// read it twice or listed the wrong second file. The run says which entry repeated which.
import { mkdirSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { load } from "../../nodes/load/index.js"
import type { RunEvent } from "../../workbench/core/events.js"
import { pipeline } from "../../workbench/core/pipeline.js"
import { runPipeline } from "../../workbench/run-pipeline.js"
import { writeJsonl } from "./load-helpers.js"

describe("a list of paths naming one file twice", () => {
  it("reads it once and says so", async () => {
    const root = mkdtempSync(join(tmpdir(), "wb-repeated-"))
    mkdirSync(join(root, "in"))
    writeJsonl(join(root, "in"), "a.jsonl", [{ prompt: "p", chosen: "c", rejected: "r" }])
    writeJsonl(join(root, "in"), "b.jsonl", [{ prompt: "q", chosen: "c", rejected: "r" }])
    const def = pipeline("repeated", (p) => {
      p.node("l", load.trl({ path: ["in/a.jsonl", "in/b.jsonl", "./in/a.jsonl"] }))
    })
    const notes: Array<string> = []
    const onEvent = (e: RunEvent) => {
      if (e._tag === "NodeNote") notes.push(e.text)
    }
    const r = await runPipeline(def, { root, threads: 2, onEvent })
    expect(r.report.nodes[0]).toMatchObject({ status: "ran", rowsIn: 2, rowsOut: 2 })
    expect(notes).toContain("path[2] (./in/a.jsonl) names the file path[0] names: each file is read once")
  })
})
