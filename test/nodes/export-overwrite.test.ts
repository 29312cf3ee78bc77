// An export writes outside the workspace, at a path the user typed: it must never replace a file wb did
// not write there itself. A `to` that names the pipeline's own input file replaced the source data with
// the export (10 records became 5, exit 0); one inside the workspace replaced the run log.
import { createHash } from "node:crypto"
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { exportTo } from "../../nodes/export/index.js"
import { filter } from "../../nodes/filter/index.js"
import { load } from "../../nodes/load/index.js"
import { pipeline } from "../../workbench/core/pipeline.js"
import { runPipeline } from "../../workbench/run-pipeline.js"
import { tempRoot } from "./export-helpers.js"
import { writeJsonl } from "./load-helpers.js"

const sha = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex")

/** A project with in/src.jsonl (10 TRL records), loaded, filtered to 5 and exported to `to`. */
function project(to: string) {
  const root = tempRoot("wb-export-overwrite-")
  mkdirSync(join(root, "in"))
  writeJsonl(
    join(root, "in"),
    "src.jsonl",
    Array.from({ length: 10 }, (_, i) => ({ prompt: `p${i}`, chosen: `c${i}`, rejected: `r${i}` }))
  )
  const def = pipeline("overwrite", (p) => {
    const src = p.node("src", load.trl({ path: "in/src.jsonl" }))
    const few = p.node("few", filter.sql({ where: "source_row < 5" }), { pairs: src })
    p.node("out", exportTo.trl({ to }), { pairs: few })
  })
  const run = async () => {
    const r = await runPipeline(def, { root, threads: 2 })
    const out = r.report.nodes.find((n) => n.name === "out")!
    return { status: out.status, error: out.error ?? "" }
  }
  return { root, run }
}

describe("an export's `to`", () => {
  it("naming a file wb did not write (the pipeline's own input) is refused, and the file is left as it was", async () => {
    const { root, run } = project("in/src.jsonl")
    const before = sha(join(root, "in", "src.jsonl"))
    const r = await run()
    expect(r.status).toBe("failed")
    expect(r.error).toBe(
      'node "out" (export.trl) param to: in/src.jsonl exists and was not written by a wb export (no record of it in the workspace, ' +
        "and no data card beside it names it)\n" +
        "  expected: a path that is free, or a file a wb export wrote\n" +
        '  fix: pick another `to` path (e.g. "exports/src.jsonl"), or move the file away if it should be replaced'
    )
    expect(sha(join(root, "in", "src.jsonl"))).toBe(before)
    expect(existsSync(join(root, "in", "README.md"))).toBe(false)
  })

  it("inside the workspace is refused: the run log and artifacts are wb's own", async () => {
    const { root, run } = project(".wb/rows.jsonl")
    const r = await run()
    expect(r.status).toBe("failed")
    expect(r.error).toContain(
      `node "out" (export.trl) param to: .wb/rows.jsonl is inside the workspace ${join(root, ".wb")}`
    )
    expect(existsSync(join(root, ".wb", "rows.jsonl"))).toBe(false)
    expect((await run()).status).toBe("failed") // the run log still opens: same answer, not a broken workspace
  })

  it("a file a wb export wrote is replaced, also once the workspace that recorded it is gone (its data card names it)", async () => {
    const { root, run } = project("exports/few.jsonl")
    expect((await run()).status).toBe("ran")
    const written = sha(join(root, "exports", "few.jsonl"))
    rmSync(join(root, ".wb"), { recursive: true })
    writeFileSync(join(root, "exports", "few.jsonl"), "edited\n")
    expect((await run()).status).toBe("ran")
    expect(sha(join(root, "exports", "few.jsonl"))).toBe(written)
  })
})
