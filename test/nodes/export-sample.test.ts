// A sample run (`wb run --sample N`) keeps its artifacts in a workspace of its own, and its exports must
// stay out of the files a full run wrote: an export's `to` is outside the workspace, so a sample run
// writing there would leave a training file of N records (and a card saying so) where the full one was.
import { createHash } from "node:crypto"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { exportTo } from "../../nodes/export/index.js"
import { load } from "../../nodes/load/index.js"
import type { RunEvent } from "../../workbench/core/events.js"
import { pipeline } from "../../workbench/core/pipeline.js"
import { runPipeline } from "../../workbench/run-pipeline.js"
import { readJsonl, tempRoot } from "./export-helpers.js"

const sha = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex")

describe("exports in a sample run", () => {
  it("are written inside the sample's workspace, never over the full run's files", async () => {
    const root = tempRoot("wb-export-sample-")
    const def = pipeline("sampled-export", (p) => {
      const hh = p.node("hh", load.hhRlhf({ path: "data/hh-rlhf-harmless-base/test.jsonl.gz" }))
      p.node("out", exportTo.trl({ to: "exports/hh/train.jsonl" }), { pairs: hh })
    })
    const run = async (options: { sample?: number; workspace: string }) => {
      const notes: Array<string> = []
      const onEvent = (e: RunEvent) => {
        if (e._tag === "NodeNote") notes.push(`${e.node}: ${e.text}`)
      }
      const result = await runPipeline(def, { root, threads: 2, onEvent, ...options })
      return { statuses: result.report.nodes.map((n) => n.status), notes }
    }
    const full = join(root, "exports", "hh")
    expect((await run({ workspace: join(root, ".wb") })).statuses).toEqual(["ran", "ran"])
    const before = { data: sha(join(full, "train.jsonl")), card: readFileSync(join(full, "README.md"), "utf8") }

    // as `wb run --sample 5` runs it: the sample's own workspace
    const sampleDir = join(root, ".wb", "sample-5")
    const sampled = await run({ sample: 5, workspace: sampleDir })
    expect(sampled.statuses).toEqual(["ran", "ran"])
    expect(sha(join(full, "train.jsonl"))).toBe(before.data)
    expect(readFileSync(join(full, "README.md"), "utf8")).toBe(before.card)
    const inSample = join(sampleDir, "files", "exports", "hh", "train.jsonl")
    expect(readJsonl(inSample)).toHaveLength(5)
    expect(sampled.notes).toContain(
      "out: wrote 5 rows to .wb/sample-5/files/exports/hh/train.jsonl (data card: README.md beside it; " +
        "a sample run: exports/hh/train.jsonl is left as it was)"
    )
    // cached sample runs check (and restore) the sample's file, not the full one
    expect((await run({ sample: 5, workspace: sampleDir })).notes).toEqual([])
    // and the full run is untouched by all this: cached, nothing rewritten
    const again = await run({ workspace: join(root, ".wb") })
    expect(again.statuses).toEqual(["cached", "cached"])
    expect(again.notes).toEqual([])
  })
})
