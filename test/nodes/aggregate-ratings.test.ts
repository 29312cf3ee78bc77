// judge.aggregate over ratings: aspect weights (UltraFeedback's mean, one aspect, a weighted mix), a tie
// within epsilon, and the reward-ensemble rules mean / worst-case / uncertainty (Coste et al.), with the
// expected values computed here from the raw scores.
import { describe, expect, it } from "vitest"
import { aggregate } from "../../nodes/judge/aggregate.js"
import { mean, runNode, varPop } from "./aggregate-helpers.js"

// UltraFeedback-like 1-5 ratings of one rater on pair u1; u2: equal means, u3: side b unrated
const ASPECTS = `
  CREATE TABLE pairs AS SELECT * FROM (VALUES ('u1', NULL), ('u2', NULL), ('u3', 'a')) t(pair_id, label);
  CREATE TABLE ratings AS SELECT pair_id, side, 'gpt-4' AS rater, 'ai' AS rater_kind, aspect, score::DOUBLE AS score,
      1.0::DOUBLE AS scale_min, 5.0::DOUBLE AS scale_max FROM (VALUES
    ('u1', 'a', 'helpfulness', 5), ('u1', 'a', 'honesty', 3), ('u1', 'a', 'overall', 1),
    ('u1', 'b', 'helpfulness', 4), ('u1', 'b', 'honesty', 5), ('u1', 'b', 'overall', 5),
    ('u2', 'a', 'helpfulness', 4), ('u2', 'a', 'honesty', 2),
    ('u2', 'b', 'helpfulness', 3), ('u2', 'b', 'honesty', 3),
    ('u3', 'a', 'helpfulness', 4)
  ) t(pair_id, side, aspect, score);`

const scaled = (x: number) => (x - 1) / 4
const rate = (params: unknown) =>
  runNode(aggregate, ASPECTS, { pairs: "pairs", ratings: "ratings" }, params).then((r) => r.tables["pairs"]!)

describe("judge.aggregate over ratings", () => {
  it("mean of the aspects but overall (UltraFeedback), scaled to 0-1; equal means are a tie", async () => {
    const pairs = await rate({})
    // u1: a (1 + 0.5)/2 = 0.75 vs b (0.75 + 1)/2 = 0.875 -> b
    expect(pairs.map((p) => p["label"])).toEqual(["b", "tie", "a"]) // u3 has no b score: label kept
    expect(pairs[0]!["margin_mean"]).toBeCloseTo(mean([scaled(5), scaled(3)]) - mean([scaled(4), scaled(5)]), 12)
    expect(pairs.map((p) => p["n_votes"])).toEqual([1, 1, 0])
  })

  it("one aspect, or a weighted combination", async () => {
    expect((await rate({ aspects: { helpfulness: 1 } })).map((p) => p["label"])).toEqual(["a", "a", "a"])
    expect((await rate({ aspects: { overall: 1 } }))[0]!["label"]).toBe("b")
    // helpfulness weighs 3: u1 a (3*1 + 0.5)/4 = 0.875 vs b (3*0.75 + 1)/4 = 0.8125 -> a
    const weighted = await rate({ aspects: { helpfulness: 3, honesty: 1 } })
    expect(weighted[0]!["label"]).toBe("a")
    expect(weighted[0]!["margin_mean"]).toBeCloseTo((3 * 1 + 0.5) / 4 - (3 * 0.75 + 1) / 4, 12)
  })

  it("epsilon: a margin within it is a tie; normalize false keeps raw scores", async () => {
    expect((await rate({ epsilon: 0.13 }))[0]!["label"]).toBe("tie") // |0.75 - 0.875| = 0.125
    const raw = await rate({ normalize: false })
    expect(raw[0]!["margin_mean"]).toBeCloseTo(4 - 4.5, 12)
  })
})

// three reward models score pair r1; they disagree, so the ensemble rules differ
const SCORES = { a: [0.9, 0.6, 0.05], b: [0.1, 0.5, 0.4] }
const ENSEMBLE = `
  CREATE TABLE pairs AS SELECT 'r1' AS pair_id;
  CREATE TABLE ratings AS SELECT 'r1' AS pair_id, side, rater, 'overall' AS aspect, score FROM (VALUES
    ${["a", "b"].flatMap((s) => SCORES[s as "a" | "b"].map((x, i) => `('${s}', 'rm${i}', ${x}::DOUBLE)`)).join(", ")}
  ) t(side, rater, score);`
const ensemble = (params: unknown) =>
  runNode(aggregate, ENSEMBLE, { pairs: "pairs", ratings: "ratings" }, params).then((r) => r.tables["pairs"]![0]!)

describe("judge.aggregate reward-ensemble rules", () => {
  it("mean: the mean score of each side", async () => {
    const row = await ensemble({ rule: "mean" })
    expect(row["label_margin"]).toBeCloseTo(mean(SCORES.a) - mean(SCORES.b), 12)
    expect(row["label"]).toBe("a")
    expect(row["agreement"]).toBeCloseTo(2 / 3, 12) // rm2 voted b
  })

  it("worst-case: each side's minimum (a calls the pair only when every model leans that way)", async () => {
    const row = await ensemble({ rule: "worst-case" })
    expect(row["label_margin"]).toBeCloseTo(Math.min(...SCORES.a) - Math.min(...SCORES.b), 12)
    expect(row["label"]).toBe("b")
  })

  it("uncertainty: mean − λ·variance per side; a large λ turns the label", async () => {
    const u = (xs: ReadonlyArray<number>, l: number) => mean(xs) - l * varPop(xs)
    const one = await ensemble({ rule: "uncertainty", lambda: 1 })
    expect(one["label_margin"]).toBeCloseTo(u(SCORES.a, 1) - u(SCORES.b, 1), 12)
    expect(one["label"]).toBe("a")
    const three = await ensemble({ rule: "uncertainty", lambda: 3 })
    expect(three["label_margin"]).toBeCloseTo(u(SCORES.a, 3) - u(SCORES.b, 3), 12)
    expect(three["label"]).toBe("b")
    const zero = await ensemble({ rule: "uncertainty", lambda: 0 })
    expect(zero["label_margin"]).toBeCloseTo(mean(SCORES.a) - mean(SCORES.b), 12)
  })

  it("majority over the models' votes, and margin std over their margins", async () => {
    const row = await ensemble({})
    expect(row["label"]).toBe("a")
    const margins = SCORES.a.map((x, i) => x - SCORES.b[i]!)
    expect(row["margin_std"]).toBeCloseTo(Math.sqrt(varPop(margins)), 12)
    expect(row["label_source"]).toBeNull() // the ratings carry no rater_kind
  })
})
