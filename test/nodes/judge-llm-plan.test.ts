/** The LLM judges' pure core: which requests a pair needs, and how its votes fold into one judgment. */
import { describe, expect, it } from "vitest"
import {
  type CastVote,
  costOf,
  foldJudgments,
  majority,
  ordersOf,
  pAOf,
  planJobs,
  sideOf,
  voteOf
} from "../../nodes/judge/llm-plan.js"

const v = (
  pair_id: string,
  order: "ab" | "ba",
  sample: number,
  vote: "a" | "b" | "tie",
  p_a: number | null = null
): CastVote => ({
  pair_id,
  order,
  sample,
  vote,
  p_a
})

describe("planJobs", () => {
  it("both orders x samples (x aspects), pair by pair", () => {
    expect(
      planJobs(["x", "y"], { orders: "both", seed: 0, samples: 2 }, null).map((j) => `${j.pair}${j.order}${j.sample}`)
    ).toEqual(["0ab0", "0ab1", "0ba0", "0ba1", "1ab0", "1ab1", "1ba0", "1ba1"])
    expect(
      planJobs(["x"], { orders: "ab", seed: 0, samples: 1 }, ["h", "t"]).map((j) => `${j.order}${j.aspect}`)
    ).toEqual(["abh", "abt"])
  })

  it("random-seeded: one order per pair, the same for the same seed, about half each way", () => {
    const ids = Array.from({ length: 400 }, (_, i) => `pair-${i}`)
    const draw = (seed: number) => ids.map((id) => ordersOf(id, "random-seeded", seed)[0])
    expect(draw(7)).toEqual(draw(7))
    expect(draw(7)).not.toEqual(draw(8))
    const ab = draw(7).filter((o) => o === "ab").length
    expect(ab).toBeGreaterThan(160)
    expect(ab).toBeLessThan(240)
  })
})

describe("orientation", () => {
  it("a verdict on the displayed outputs is a vote on the pair", () => {
    expect([
      voteOf("first", "ab"),
      voteOf("second", "ab"),
      voteOf("first", "ba"),
      voteOf("second", "ba"),
      voteOf("tie", "ba")
    ]).toEqual(["a", "b", "b", "a", "tie"])
    expect([pAOf(0.8, "ab"), pAOf(0.8, "ba"), pAOf(null, "ba")]).toEqual([0.8, 0.19999999999999996, null])
    expect([sideOf(1, "ab"), sideOf(2, "ab"), sideOf(1, "ba"), sideOf(2, "ba")]).toEqual(["a", "b", "b", "a"])
  })
})

describe("foldJudgments", () => {
  it("majority per order over samples; consistent orders give their vote, confidence the share agreeing", () => {
    const votes = [
      v("x", "ab", 0, "a", 0.9),
      v("x", "ab", 1, "a", 0.7),
      v("x", "ab", 2, "b", 0.4),
      v("x", "ba", 0, "a", 0.8)
    ]
    expect(foldJudgments(votes, "tie")).toEqual([
      { pair_id: "x", vote: "a", p_a: 0.7, position_consistent: true, n: 4, confidence: 0.75 }
    ])
  })

  it("inconsistent orders: tie (confidence 0), drop, or keep-first (the a-first majority)", () => {
    const votes = [v("y", "ba", 0, "b"), v("y", "ab", 0, "a")]
    expect(foldJudgments(votes, "tie")).toEqual([
      { pair_id: "y", vote: "tie", p_a: null, position_consistent: false, n: 2, confidence: 0 }
    ])
    expect(foldJudgments(votes, "drop")).toEqual([])
    expect(foldJudgments(votes, "keep-first")[0]).toMatchObject({
      vote: "a",
      position_consistent: false,
      confidence: 0.5
    })
  })

  it("one order only (by param or because the other failed): position_consistent null", () => {
    expect(foldJudgments([v("z", "ba", 0, "b")], "tie")).toEqual([
      { pair_id: "z", vote: "b", p_a: null, position_consistent: null, n: 1, confidence: 1 }
    ])
  })

  it("majority: a tie when the top counts are equal", () => {
    expect([majority(["a", "b"]), majority(["a", "a", "b"]), majority([]), majority(["tie", "a", "tie"])]).toEqual([
      "tie",
      "a",
      "tie",
      "tie"
    ])
  })
})

describe("costOf", () => {
  it("prices per 1M tokens", () => {
    expect(costOf({ prompt: 1_500_000, completion: 20_000 }, { prompt: 0.5, completion: 1.5 })).toBeCloseTo(0.78, 12)
  })
})
