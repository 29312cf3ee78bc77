// train.reward-model({ loss: "plackett-luce" }) through real pipeline runs on the shipped Open Assistant
// trees (load.oasst: every pair of ranked sibling replies, rank_group = the parent message): the lists are
// rebuilt per rank_group (counts checked against the pairs table, read here from Parquet); the loss falls;
// held-out listwise top-1 on the test split's groups is computed here, by hand, from train.score's scores
// and the human ranks; ordering by wins (rank columns dropped) gives the same lists, hence byte-identical
// weights; pairs without rank_group are refused with the full message.
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { featurize, load, split, train, transform } from "../../nodes/index.js"
import { pipeline, runPipeline } from "../../workbench/index.js"
import { readParquet } from "../support/sql.js"

type Row = Record<string, unknown>

const plPipeline = pipeline("oasst-pl", (p) => {
  const oa = p.node("oa", load.oasst({ path: "data/oasst-en-100-trees/en_100_tree.jsonl" }))
  const feats = p.node("feats", featurize.hash(), { pairs: oa })
  const parts = p.node("parts", split.hash({ fractions: { train: 0.8, test: 0.2 }, groupBy: "rank_group", seed: 3 }), {
    pairs: feats
  })
  const common = { loss: "plackett-luce", epochs: 6, dim: 16, hidden: 16, batchSize: 16, lr: 0.01 } as const
  const pl = p.node("pl", train.rewardModel(common), { pairs: parts.train })
  p.node("scored", train.score(), { model: pl, pairs: parts.test })
  const noRanks = p.node("no-ranks", transform.sql({ sql: "select * exclude (rank_a, rank_b) from tr" }), {
    tr: parts.train
  })
  p.node("pl-wins", train.rewardModel(common), { pairs: noRanks })
  p.node("pl-no-group", train.rewardModel({ ...common, epochs: 1 }), {
    pairs: p.node("no-group", transform.sql({ sql: "select * exclude (rank_group) from tr" }), { tr: parts.train })
  })
})

describe("Plackett–Luce through train.reward-model on OASST", () => {
  it("lists per rank_group, loss falls, held-out top-1 by hand; wins order = rank order; no rank_group refused", async () => {
    const workspace = mkdtempSync(join(tmpdir(), "wb-pl-"))
    const result = await runPipeline(plPipeline, { workspace, root: process.cwd() })
    const node = (n: string) => result.report.nodes.find((x) => x.name === n)!
    for (const n of ["pl", "scored", "pl-wins"]) expect(node(n).status).toBe("ran")

    // the lists the node built, against the pairs table: distinct responses per rank_group
    const trainRows = (await readParquet(result.table("parts.train").file)) as Row[]
    const groups = new Map<string, Set<string>>()
    for (const r of trainRows) {
      const g = groups.get(r["rank_group"] as string) ?? new Set<string>()
      g.add(r["message_id_a"] as string).add(r["message_id_b"] as string)
      groups.set(r["rank_group"] as string, g)
    }
    const members = [...groups.values()].reduce((n, g) => n + g.size, 0)
    const stats = node("pl").stats!
    expect(stats).toMatchObject({
      loss: "plackett-luce",
      lists: groups.size,
      list_order: "rank columns",
      lists_by_wins: 0,
      skipped_groups: 0,
      backend: "sparse"
    })
    expect(stats["mean_list_length"]).toBeCloseTo(members / groups.size, 12)
    expect(node("pl-wins").stats).toMatchObject({ list_order: "wins within the group", lists: groups.size })

    const history = (await readParquet(result.table("pl.history").file)) as Row[]
    const losses = history.map((h) => Number(h["loss"]))
    expect(losses.at(-1)!).toBeLessThan(losses[0]!)

    // held-out top-1: per test group, does the rank-0 reply get the highest score of its group's replies?
    const scored = (await readParquet(result.table("scored").file)) as Row[]
    const test = new Map<string, Map<string, { rank: number; score: number }>>()
    for (const r of scored) {
      const g = test.get(r["rank_group"] as string) ?? new Map()
      for (const side of ["a", "b"] as const)
        g.set(r[`message_id_${side}`], { rank: Number(r[`rank_${side}`]), score: Number(r[`score_${side}`]) })
      test.set(r["rank_group"] as string, g)
    }
    let top1 = 0,
      chance = 0
    for (const g of test.values()) {
      const rs = [...g.values()]
      const best = rs.reduce((m, x) => (x.rank < m.rank ? x : m))
      if (rs.every((x) => x === best || x.score < best.score)) top1++
      chance += 1 / rs.length
    }
    console.log(
      `OASST Plackett–Luce: ${groups.size} training lists (mean length ${(members / groups.size).toFixed(2)}), loss ${losses[0]!.toFixed(4)} → ${losses.at(-1)!.toFixed(4)}; ` +
        `held-out top-1 ${(top1 / test.size).toFixed(3)} on ${test.size} lists (chance ${(chance / test.size).toFixed(3)}); validation top-1 ${stats["val_top1"]}`
    )
    expect(test.size).toBeGreaterThan(20)
    expect(typeof stats["val_top1"]).toBe("number")

    // with full pairwise comparisons, wins order each group exactly as its ranks do: same lists, same weights
    const a = (await readParquet(result.table("pl").file)) as Row[]
    const b = (await readParquet(result.table("pl-wins").file)) as Row[]
    expect(b.map((r) => Buffer.from(r["data"] as Uint8Array).toString("base64"))).toEqual(
      a.map((r) => Buffer.from(r["data"] as Uint8Array).toString("base64"))
    )

    expect(node("pl-no-group").status).toBe("failed")
    expect(node("pl-no-group").error).toMatch(
      /^node "pl-no-group" \(train\.reward-model\) input pairs: no rank_group column \(the pairs have pair_id, .*\)\n {2}expected: rank_group for loss: "plackett-luce": the pairs of one ranked group share it \(load\.oasst writes it\)\n {2}fix: load ranked data with load\.oasst \(or add a rank_group column\), or use loss: "bradley-terry"$/
    )
  }, 300_000)
})
