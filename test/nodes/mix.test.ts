// mix.route: the four strategies' routing order and final labels, the human queue, the budget, and the
// agreement report checked against an independent count over the fixture's raw votes.
import { createHash } from "node:crypto"
import { describe, expect, it } from "vitest"
import { route } from "../../nodes/mix/index.js"
import { col, type Row, runNode, runNodeError } from "./aggregate-helpers.js"
import { cohensKappa, humanLabel, majority, PAIRS, SETUP, VOTES } from "./mix-fixture.js"

const run = (params: unknown) => runNode(route, SETUP, { pairs: "pairs", human: "votes", ai: "votes" }, params)
const byId = (rows: ReadonlyArray<Row>) => Object.fromEntries(rows.map((r) => [r["pair_id"], r]))

describe("mix.route strategies", () => {
  it("route-by-uncertainty: inconsistent, then no AI label, then low agreement, then low |strength|", async () => {
    const { tables, stats } = await run({ strategy: "route-by-uncertainty", budget: { pairs: 3 } })
    const pairs = byId(tables["pairs"]!)
    // m3 inconsistent; m5 no AI label; m4 and m2 agreement 0.5 (|strength| 0.05 < 0.1); m6, m1 agreement 1
    expect(["m3", "m5", "m4", "m2", "m6", "m1"].map((id) => pairs[id]!["route_rank"])).toEqual([1, 2, 3, 4, 5, 6])
    expect(col(tables["pairs"]!, "pair_id")).toEqual(["m1", "m2", "m3", "m4", "m5", "m6"]) // input order kept
    expect(
      Object.fromEntries(tables["pairs"]!.map((p) => [p["pair_id"], [p["label"], p["label_source"], p["routed"]]]))
    ).toEqual({
      m1: ["a", "ai", false],
      m2: ["b", "ai", false],
      m3: ["a", "ai", true], // routed, but no human has labelled it yet: in the queue
      m4: ["tie", "human", true],
      m5: ["b", "human", true],
      m6: ["b", "ai", false]
    })
    expect(tables["human_queue"]!.map((q) => [q["queue_rank"], q["pair_id"], q["label_ai"], q["route_rank"]])).toEqual([
      [1, "m3", "a", 1]
    ])
    expect(tables["human_queue"]![0]).toMatchObject({ prompt: "prompt m3", response_a: "one", source_row: 2 })
    expect(pairs["m2"]!["ai_agreement"]).toBe(0.5)
    expect(pairs["m2"]!["label_human"]).toBe("a")
    expect(stats).toMatchObject({ pairs: 6, budget: 3, routed: 3, from_human: 2, from_ai: 4, queue: 1, with_human: 4 })
  })

  it("the budget as a fraction rounds down; prefer-human routes every pair", async () => {
    expect((await run({ budget: { fraction: 0.6 } })).stats["budget"]).toBe(3) // 3.6
    const { tables, stats } = await run({ strategy: "prefer-human" })
    const pairs = byId(tables["pairs"]!)
    for (const p of PAIRS) {
      const human = humanLabel(p.id)
      expect([p.id, pairs[p.id]!["label"], pairs[p.id]!["label_source"]]).toEqual([
        p.id,
        human ?? p.ai,
        human === null ? "ai" : "human"
      ])
    }
    expect(col(tables["human_queue"]!, "pair_id")).toEqual(["m3", "m6"])
    expect(stats).toMatchObject({ budget: 6, routed: 6, from_human: 4 })
  })

  it("fixed-ratio: a seeded hash of seed, pair_id and source_row picks the k pairs", async () => {
    const hash = (seed: number, id: string, row: number) =>
      Number.parseInt(createHash("md5").update(`${seed}\x1f${id}\x1f${row}`).digest("hex").slice(0, 12), 16) / 2 ** 48
    for (const seed of [0, 7]) {
      const { tables } = await run({ strategy: "fixed-ratio", budget: { pairs: 2 }, seed })
      const expected = PAIRS.map((p, i) => ({ id: p.id, h: hash(seed, p.id, i) })).sort((x, y) => x.h - y.h)
      const pairs = byId(tables["pairs"]!)
      expect(expected.map((e) => pairs[e.id]!["route_rank"])).toEqual([1, 2, 3, 4, 5, 6])
      expect(expected.map((e) => pairs[e.id]!["route_score"] as number)).toEqual(expected.map((e) => e.h))
      expect(tables["pairs"]!.filter((p) => p["routed"]).length).toBe(2)
    }
  })

  it("route-by-features refuses to fit on too few pairs with both labels, naming the count", async () => {
    const message = await runNodeError(
      route,
      SETUP,
      { pairs: "pairs", human: "votes", ai: "votes" },
      { strategy: "route-by-features" }
    )
    expect(message).toContain("param strategy")
    expect(message).toContain("3 have both")
    expect(message).toContain("at least minFit = 20")
  })

  it("route-by-features: ranks by the fitted gain; gain_model lists each feature bin that holds pairs", async () => {
    const { tables, stats } = await run({ strategy: "route-by-features", minFit: 3, bins: 2, budget: { pairs: 2 } })
    const ranked = [...tables["pairs"]!].sort((x, y) => (x["route_rank"] as number) - (y["route_rank"] as number))
    const scores = ranked.map((r) => r["route_score"] as number)
    expect(scores).toEqual([...scores].sort((x, y) => y - x)) // highest predicted gain first
    const model = tables["gain_model"]!
    expect(model[0]).toMatchObject({ feature: "(intercept)", pairs: 6, fit_pairs: 3 })
    expect(model[0]!["mean_gain"]).toBeCloseTo(1 / 3, 12) // m2's AI label is wrong, m1's and m4's are right
    expect(new Set(model.slice(1).map((m) => m["feature"]))).toEqual(
      new Set(["length_diff", "prompt_length", "overlap", "disagreement"])
    )
    expect(stats).toMatchObject({ fit_pairs: 3, routed: 2 })
  })
})

describe("mix.route agreement report", () => {
  it("matches an independent count: confusion, accuracy, Cohen's kappa, length and position bias", async () => {
    const { tables } = await run({})
    const report = byId(tables["agreement"]!.map((r) => ({ ...r, pair_id: r["rater"] })))
    expect(tables["agreement"]!.map((r) => r["rater"])).toEqual(["r1", "r2", "(ai label)", "(human label)"])
    const lengths = Object.fromEntries(PAIRS.map((p) => [p.id, [p.a.length, p.b.length]]))
    for (const rater of ["r1", "r2"]) {
      const votes = VOTES.filter((v) => v.rater === rater)
      const verdict = (id: string) => majority(votes.filter((v) => v.id === id).map((v) => v.vote))
      const labelled = PAIRS.filter((p) => humanLabel(p.id) !== null)
      const voted = labelled.filter((p) => verdict(p.id) !== null)
      const agree = voted.filter((p) => verdict(p.id) === humanLabel(p.id)).length
      const decisive = votes.filter((v) => v.vote === "a" || v.vote === "b")
      const differ = decisive.filter((v) => lengths[v.id]![0] !== lengths[v.id]![1])
      const longer = differ.filter((v) => (v.vote === "a") === lengths[v.id]![0]! > lengths[v.id]![1]!).length
      const first = decisive.filter((v) => v.vote === (v.order === "ba" ? "b" : "a")).length
      const row = report[rater]!
      expect(row).toMatchObject({ rater_kind: "ai", pairs: labelled.length, voted: voted.length, agree })
      expect(row["accuracy"]).toBeCloseTo(agree / labelled.length, 12)
      expect(row["accuracy_voted"]).toBeCloseTo(agree / voted.length, 12)
      const kappa = cohensKappa(
        voted.map((p) => humanLabel(p.id)!),
        voted.map((p) => verdict(p.id)!)
      )
      expect(row["kappa"]).toBeCloseTo(kappa, 12)
      expect(row["decisive"]).toBe(decisive.length)
      expect(row["p_prefer_longer"]).toBeCloseTo(longer / differ.length, 12)
      expect(row["p_prefer_first"]).toBeCloseTo(first / decisive.length, 12)
    }
    expect(report["r1"]!["kappa"]).toBeCloseTo(0.5, 12) // by hand: po 2/3, pe 1/3
    expect(report["(ai label)"]).toMatchObject({ pairs: 4, voted: 3, agree: 2 }) // m5 has no AI label
    expect(report["(human label)"]).toMatchObject({ pairs: 4, accuracy: null, kappa: null })
    const r1 = tables["confusion"]!.filter((c) => c["rater"] === "r1")
    expect(r1).toHaveLength(12)
    expect(r1.filter((c) => (c["pairs"] as number) > 0).map((c) => [c["human"], c["ai"], c["pairs"]])).toEqual([
      ["a", "a", 1],
      ["a", "b", 1],
      ["b", "none", 1],
      ["tie", "tie", 1]
    ])
  })
})
