/**
 * The figures behind the README's "honest pair semantics": on the 49-model AlpacaEval 2 folder (every
 * pair of an instruction shares the baseline answer) and on the OASST ranked siblings,
 *  - load.alpaca-eval's accounting (rows in = out + rejected + removed, with the merged-into records);
 *  - dedupe.near (`on: "pair"`, 0.8): how many pairs it removes, and a check of every one of them with
 *    exact word-shingle Jaccard (prompt and both responses, either orientation, against its kept twin);
 *  - three removed pairs beside their kept twins, as short excerpts;
 *  - the same for `on: "pair"` on OASST (`on: "prompt"` and `"responses"` for comparison).
 *
 * Run: `node --import tsx bench/honest-pairs.ts [alpacaEvalDir]` (default ../shared/data/alpaca-eval-2-weighted;
 * see its README). Prints figures, not pass/fail.
 */
import { existsSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DuckDBInstance } from "@duckdb/node-api"
import { shingleSet } from "../nodes/lib/minhash-kernel.js"
import { dedupe } from "../nodes/dedupe/index.js"
import { load } from "../nodes/load/index.js"
import { pipeline } from "../workbench/core/pipeline.js"
import { runPipeline } from "../workbench/run-pipeline.js"

type Row = Record<string, unknown>

const jaccard = (x: unknown, y: unknown) => {
  const A = new Set(shingleSet(String(x ?? ""), 3)),
    B = new Set(shingleSet(String(y ?? ""), 3))
  let shared = 0
  for (const h of A) if (B.has(h)) shared++
  return A.size + B.size === 0 ? 0 : shared / (A.size + B.size - shared)
}

/** Per-field Jaccard of a removed row with its kept twin: prompt, and the better orientation's two responses. */
const fieldJaccards = (x: Row, t: Row) => {
  const straight = [jaccard(x["response_a"], t["response_a"]), jaccard(x["response_b"], t["response_b"])]
  const mirrored = [jaccard(x["response_a"], t["response_b"]), jaccard(x["response_b"], t["response_a"])]
  return {
    prompt: jaccard(x["prompt"], t["prompt"]),
    responses: Math.min(...straight) >= Math.min(...mirrored) ? straight : mirrored
  }
}

const rowsOf = async (file: string, where = "true"): Promise<Array<Row>> => {
  const db = await DuckDBInstance.create(":memory:")
  const c = await db.connect()
  const r = await c.runAndReadAll(`SELECT * FROM '${file}' WHERE ${where}`)
  const rows = r.getRowObjectsJS() as Array<Row>
  c.closeSync()
  return rows
}

const excerpt = (s: unknown, n = 70) =>
  JSON.stringify(
    String(s ?? "")
      .replace(/\s+/g, " ")
      .slice(0, n) + (String(s ?? "").length > n ? "…" : "")
  )

/** Check every removed near-duplicate against its twin; print the counts, the lowest Jaccards, and `show` examples. */
async function checkNear(name: string, tables: Readonly<Record<string, string>>, show: number) {
  const kept = new Map((await rowsOf(tables["pairs"]!)).map((x) => [`${x["pair_id"]}/${x["source_row"]}`, x]))
  const removed = await rowsOf(tables["removed"]!)
  let worst = 1,
    bad = 0
  const examples: Array<string> = []
  for (const x of removed) {
    const twin = kept.get(`${x["kept_pair_id"]}/${x["kept_source_row"]}`)
    if (twin === undefined) {
      bad++
      continue
    }
    const j = fieldJaccards(x, twin)
    const least = Math.min(j.prompt, ...j.responses)
    worst = Math.min(worst, least)
    if (least < 0.8) bad++
    if (examples.length < show && removed.indexOf(x) % Math.max(1, Math.floor(removed.length / show)) === 0) {
      examples.push(
        [
          `removed ${x["generator_b"] ?? x["source"]} row ${x["source_row"]} (kept: ${twin["generator_b"] ?? twin["source"]} row ${twin["source_row"]}); ` +
            `Jaccard prompt ${j.prompt.toFixed(2)}, responses ${j.responses.map((v) => v.toFixed(2)).join(" / ")}`,
          `  prompt   ${excerpt(x["prompt"])}`,
          `  kept b   ${excerpt(twin["response_b"])}`,
          `  removed b ${excerpt(x["response_b"])}`
        ].join("\n")
      )
    }
  }
  console.log(
    `${name}: ${removed.length} removed; ${bad} without a kept twin at Jaccard >= 0.8 on every field; lowest field Jaccard ${worst.toFixed(3)}`
  )
  for (const e of examples) console.log(e)
}

const aeDir = process.argv[2] ?? "../shared/data/alpaca-eval-2-weighted"
if (!existsSync(aeDir)) throw new Error(`${aeDir}: not found; pass the AlpacaEval 2 folder as the first argument`)
const def = pipeline("honest-pairs", (p) => {
  const ae = p.node("ae", load.alpacaEval({ path: aeDir }))
  p.node("ae-near", dedupe.nearDuplicates({ on: "pair", threshold: 0.8 }), { pairs: ae })
  const oa = p.node("oasst", load.oasst({ path: "data/oasst-en-100-trees/en_100_tree.jsonl" }))
  p.node("oasst-pair", dedupe.nearDuplicates({ on: "pair", threshold: 0.8 }), { pairs: oa })
  p.node("oasst-responses", dedupe.nearDuplicates({ on: "responses", threshold: 0.8 }), { pairs: oa })
  p.node("oasst-prompt", dedupe.nearDuplicates({ on: "prompt", threshold: 0.8 }), { pairs: oa })
})
const workspace = join(mkdtempSync(join(tmpdir(), "wb-honest-")), ".wb")
const run = await runPipeline(def, { workspace, threads: 2 })
for (const n of run.report.nodes) {
  console.log(
    `${n.name.padEnd(16)} ${n.kind.padEnd(17)} in ${n.rowsIn} = out ${n.rowsOut} + rejected ${n.rejected} + removed ${n.removed}` +
      ` (${n.rowsIn === n.rowsOut + n.rejected + n.removed ? "balanced" : "NOT balanced"}), ${n.seconds.toFixed(1)} s`
  )
}
const merged = await rowsOf(run.nodes["ae"]!.tables["removed"]!)
const sameJudge = new Map<string, number>()
for (const x of merged) sameJudge.set(String(x["kept_pair_id"]), (sameJudge.get(String(x["kept_pair_id"])) ?? 0) + 1)
const most = [...sameJudge.entries()].sort((a, b) => b[1] - a[1])[0]
console.log(
  `ae: ${merged.length} records merged into ${sameJudge.size} pairs (most: ${most?.[1] ?? 0} extra records on pair ${most?.[0]})`
)
await checkNear("ae-near (pair, 0.8)", run.nodes["ae-near"]!.tables, 3)
await checkNear("oasst-pair (pair, 0.8)", run.nodes["oasst-pair"]!.tables, 3)
