// aggregate → strength → mix → export.table as one real pipeline (Parquet artifacts between the nodes)
// on PandaLM with human votes kept for only some pairs: the human queue holds exactly the routed pairs
// without them, and export.table writes it as JSON Lines for annotators.
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { exportTo } from "../../nodes/export/index.js"
import { judge } from "../../nodes/judge/index.js"
import { load } from "../../nodes/load/index.js"
import { mix } from "../../nodes/mix/index.js"
import { strength } from "../../nodes/strength/index.js"
import { transform } from "../../nodes/transform/index.js"
import { pipeline } from "../../workbench/core/pipeline.js"
import { runPipeline } from "../../workbench/run-pipeline.js"
import { readParquet } from "../support/sql.js"

describe("judge.aggregate → strength.filter → mix.route → export.table", () => {
  it("queues the routed pairs that lack a human label, in routing order, and exports them", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wb-mix-pipeline-"))
    const to = join(dir, "queue.jsonl")
    const def = pipeline("mix-queue", (p) => {
      const panda = p.node("panda", load.pandalm({ path: "data/pandalm-testset", maxRejectRate: 0.01 }))
      // annotators have labelled only the first 500 records so far
      const human = p.node(
        "human",
        transform.sql({
          sql: `select * from votes where rater_kind = 'human' and cast(json_extract(meta, '$.source_row') as integer) < 500`
        }),
        { votes: panda.votes }
      )
      const ai = p.node("ai", judge.aggregate({ raterKinds: ["ai"] }), { pairs: panda, votes: panda.votes })
      const strong = p.node("strength", strength.filter({ drop: { fraction: 0.1 } }), { pairs: ai, votes: ai.votes })
      const mixed = p.node("mix", mix.route({ budget: { pairs: 300 } }), { pairs: strong, human, ai: ai.votes })
      p.node("queue", exportTo.table({ to }), { table: mixed.human_queue })
    })
    const result = await runPipeline(def, { workspace: join(dir, ".wb"), threads: 2 })
    expect(result.report.status).toBe("ok")
    const read = (node: string, table: string) => readParquet(result.nodes[node]!.tables[table]!)
    const [strong, dropped, pairs, queue] = await Promise.all([
      read("strength", "pairs"),
      read("strength", "dropped"),
      read("mix", "pairs"),
      read("mix", "human_queue")
    ])
    expect(strong.length + dropped.length).toBe(993)
    expect(dropped.length).toBe(Math.floor(0.1 * dropped.concat(strong).filter((r) => r["strength"] !== null).length))
    expect(pairs).toHaveLength(strong.length)
    const routed = pairs.filter((r) => r["routed"])
    expect(routed).toHaveLength(300)
    // the queue: routed rows without a human label, i.e. source_row >= 500, in route_rank order
    const expected = routed
      .filter((r) => r["label_human"] === null)
      .sort((x, y) => Number(x["route_rank"]) - Number(y["route_rank"]))
    expect(expected.every((r) => Number(r["source_row"]) >= 500)).toBe(true)
    expect(expected.length).toBeGreaterThan(0)
    expect(queue.map((q) => q["pair_id"])).toEqual(expected.map((r) => r["pair_id"]))
    expect(queue.map((q) => Number(q["queue_rank"]))).toEqual(expected.map((_, i) => i + 1))
    // every routed row with a human label took it; every other row kept its AI label
    for (const r of pairs) {
      const human = r["routed"] && r["label_human"] !== null
      expect([r["label_source"], r["label"]]).toEqual(
        human
          ? ["human", r["label_human"]]
          : r["label_ai"] === null
            ? [r["label_human"] === null ? null : "human", r["label_human"]]
            : ["ai", r["label_ai"]]
      )
    }
    const lines = readFileSync(to, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(lines.map((l) => l["pair_id"])).toEqual(expected.map((r) => r["pair_id"]))
    expect(Object.keys(lines[0]!)).toEqual([
      "queue_rank",
      "pair_id",
      "source_row",
      "prompt",
      "response_a",
      "response_b",
      "label_ai",
      "route_score",
      "route_rank"
    ])
  }, 60_000)
})
