/**
 * One side of bench/dedupe.ts: wb's load + exact dedupe of a JSONL file, through the real runner
 * (load.trl -> dedupe.exact, Parquet artifacts, run log) in a fresh workspace. Prints one JSON line.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pipeline, runPipeline } from "../workbench/index.js"
import { dedupe, load } from "../nodes/index.js"

const file = process.argv[2]!
const workspace = mkdtempSync(join(tmpdir(), "wb-bench-"))
const def = pipeline("bench-dedupe", (p) => {
  const pairs = p.node("load", load.trl({ path: file, source: "bench" }))
  p.node("exact", dedupe.exact({ normalize: "none" }), { pairs })
})
// the engine's services module is imported lazily by runPipeline; load it before the clock starts, as the
// hand-written side has its one module (@duckdb/node-api) loaded before its clock: both time the work
await import("../workbench/io/live.js")
const t0 = performance.now()
const result = await runPipeline(def, { workspace, threads: 2, memoryLimit: process.env["WB_MEMORY_LIMIT"] ?? "8GB" })
const seconds = (performance.now() - t0) / 1000
const byName = Object.fromEntries(result.report.nodes.map((n) => [n.name, n]))
console.log(
  JSON.stringify({
    seconds,
    status: result.report.status,
    nodeSeconds: { load: byName["load"]?.seconds, exact: byName["exact"]?.seconds },
    rowsIn: byName["load"]?.rowsIn,
    pairs: byName["load"]?.rowsOut,
    kept: byName["exact"]?.rowsOut,
    removed: byName["exact"]?.removed,
    error: result.report.nodes.find((n) => n.error !== undefined && n.status === "failed")?.error,
    peakRssMiB: process.resourceUsage().maxRSS / 1024
  })
)
rmSync(workspace, { recursive: true, force: true })
