// evaluate.accuracy, evaluate.calibration and evaluate.agreement on small hand-computed tables (real
// DuckDB): strict accuracy (equal scores wrong), RewardBench section weighting, slices, seeded bootstrap
// intervals, ECE / MCE / Brier and reliability bins, Cohen's kappa against a textbook computation, and
// LLMBar's both-order statistics.
import { describe, expect, it } from "vitest"
import { evaluate } from "../../nodes/evaluate/index.js"
import { type Row, runNode, runNodeError } from "./aggregate-helpers.js"

const metric = (rows: ReadonlyArray<Row>, m: string, by = "(all)", slice = "(all)", extra: Row = {}) =>
  rows.find(
    (r) =>
      r["metric"] === m &&
      r["slice_by"] === by &&
      r["slice"] === slice &&
      Object.entries(extra).every(([k, v]) => r[k] === v)
  )

// 1 a 2>1 ✓ | 2 a 1=1 ✗ (tie counts wrong) | 3 b 0<3 ✓ | 4 b 5>1 ✗ | 5 label tie: not counted
// | 6 no score: not counted | 7 b 0<1 ✓   → 3 of 5; s1: 2/3, s2: 1/2; subset x: 1/2, y: 2/3
const PAIRS = `CREATE TABLE pairs AS SELECT * FROM (VALUES
  ('a', 2.0, 1.0, 's1', 'x'), ('a', 1.0, 1.0, 's1', 'x'), ('b', 0.0, 3.0, 's1', 'y'), ('b', 5.0, 1.0, 's2', 'y'),
  ('tie', 1.0, 0.0, 's2', 'x'), ('a', NULL, 1.0, 's2', 'x'), ('b', 0.0, 1.0, 's2', 'y')
) t(label, score_a, score_b, source, subset)`

describe("evaluate.accuracy", () => {
  it("counts a pair right only when the labelled side scores strictly higher; slices by a column", async () => {
    const { tables, stats } = await runNode(evaluate.accuracy, PAIRS, { pairs: "pairs" }, { by: "source" })
    const m = tables["metrics"]!
    expect(metric(m, "accuracy")).toMatchObject({ value: 0.6, n: 5 })
    expect(metric(m, "accuracy", "source", "s1")!["value"]).toBeCloseTo(2 / 3, 12)
    expect(metric(m, "accuracy", "source", "s2")).toMatchObject({ value: 0.5, n: 2 })
    expect(stats).toMatchObject({ pairs_in: 7, counted: 5, no_label: 1, no_score: 1 })
    for (const r of m) {
      expect(r["ci_lo"] as number).toBeLessThanOrEqual(r["value"] as number)
      expect(r["ci_hi"] as number).toBeGreaterThanOrEqual(r["value"] as number)
    }
  })

  it("weights RewardBench sections: each section's accuracy over its pairs, score = weighted mean of sections", async () => {
    const params = { sections: { X: ["x"], Y: ["y"] }, sectionWeights: { Y: 0.5 } }
    const { tables } = await runNode(evaluate.accuracy, PAIRS, { pairs: "pairs" }, params)
    const m = tables["metrics"]!
    expect(metric(m, "accuracy", "section", "X")).toMatchObject({ value: 0.5, n: 2 })
    expect(metric(m, "accuracy", "section", "Y")!["value"]).toBeCloseTo(2 / 3, 12)
    expect(metric(m, "score")!["value"]).toBeCloseTo((0.5 + 0.5 * (2 / 3)) / 1.5, 12)
  })

  it("intervals are seeded: same seed, same interval; another seed, another; close to the normal interval", async () => {
    // 400 pairs labelled a, p_a = (37·i mod 100) / 100: right when above 0.5 (0.5 itself is wrong)
    const setup = `CREATE TABLE pairs AS SELECT 'a' AS label, ((i * 37) % 100) / 100 AS p_a FROM range(400) t(i)`
    const ci = async (seed: number, resamples = 1000) => {
      const { tables } = await runNode(evaluate.accuracy, setup, { pairs: "pairs" }, { seed, resamples })
      const r = metric(tables["metrics"]!, "accuracy")!
      expect(r["value"]).toBeCloseTo(196 / 400, 12)
      return [r["ci_lo"] as number, r["ci_hi"] as number]
    }
    const first = await ci(1)
    expect(await ci(1)).toEqual(first)
    // (percentiles of k/400 values often coincide across seeds; with 99 resamples they do not all)
    const others = await Promise.all([2, 3, 4, 5].map((seed) => ci(seed, 99)))
    expect(new Set(others.map((r) => r.join())).size).toBeGreaterThan(1)
    const half = 1.96 * Math.sqrt((0.49 * 0.51) / 400)
    expect(first[0]!).toBeCloseTo(0.49 - half, 1)
    expect(first[1]!).toBeCloseTo(0.49 + half, 1)
  })

  it("refuses pairs without scores, saying what it found and what to do", async () => {
    const msg = await runNodeError(evaluate.accuracy, "CREATE TABLE pairs AS SELECT 'a' AS label", { pairs: "pairs" })
    expect(msg).toContain('node "n" (evaluate.accuracy) param from')
    expect(msg).toContain("train.score adds score_a, score_b and p_a")
  })
})

describe("evaluate.calibration", () => {
  // confidence: .9 (right), .8 (wrong), .8 (right), .6 (wrong); 2 bins over [.5, 1]
  const setup = `CREATE TABLE pairs AS SELECT * FROM (VALUES ('a', 0.9), ('b', 0.8), ('b', 0.2), ('a', 0.4), ('tie', 0.3)) t(label, p_a)`
  it("ECE, MCE and Brier over confidence bins, and every bin of the reliability diagram", async () => {
    const { tables, stats } = await runNode(evaluate.calibration, setup, { pairs: "pairs" }, { bins: 2 })
    const m = tables["metrics"]!
    expect(metric(m, "ece")!["value"]).toBeCloseTo(0.25 * 0.6 + 0.75 * (2.5 / 3 - 2 / 3), 12)
    expect(metric(m, "mce")!["value"]).toBeCloseTo(0.6, 12)
    expect(metric(m, "brier")!["value"]).toBeCloseTo((0.01 + 0.64 + 0.04 + 0.36) / 4, 12)
    expect(stats).toMatchObject({ counted: 4 })
    const bins = tables["bins"]!.map((b) => [b["bin"], b["bin_lo"], b["bin_hi"], b["n"]])
    expect(bins).toEqual([
      [0, 0.5, 0.75, 1],
      [1, 0.75, 1, 3]
    ])
    expect(tables["bins"]![1]!["observed"]).toBeCloseTo(2 / 3, 12)
  })
  it("mode p_a bins P(a) against how often a is the label", async () => {
    const { tables } = await runNode(evaluate.calibration, setup, { pairs: "pairs" }, { bins: 2, mode: "p_a" })
    // bin [0, .5): .2 (b: 0), .4 (a: 1) → mean .3, observed .5; bin [.5, 1]: .9 (1), .8 (0) → .85, .5
    expect(metric(tables["metrics"]!, "ece")!["value"]).toBeCloseTo(0.5 * 0.2 + 0.5 * 0.35, 12)
  })
})

/** Cohen's kappa, textbook, for the check: (po − pe) / (1 − pe). */
function kappa(x: ReadonlyArray<string>, y: ReadonlyArray<string>): number {
  const n = x.length
  const po = x.filter((v, i) => v === y[i]).length / n
  const share = (xs: ReadonlyArray<string>, l: string) => xs.filter((v) => v === l).length / n
  const pe = ["a", "b", "tie"].reduce((s, l) => s + share(x, l) * share(y, l), 0)
  return (po - pe) / (1 - pe)
}

// labels a b a b; b is longer in p1, p2, a in p3, equal in p4. J asked in both orders, K once.
const VOTES = `
  CREATE TABLE pairs AS SELECT * FROM (VALUES ('p1', 'a', 'x', 'xx'), ('p2', 'b', 'x', 'xx'), ('p3', 'a', 'xx', 'x'), ('p4', 'b', 'x', 'y')
  ) t(pair_id, label, response_a, response_b);
  CREATE TABLE votes AS SELECT * FROM (VALUES
    ('p1', 'J', 'a', 'ab'), ('p1', 'J', 'a', 'ba'), ('p2', 'J', 'a', 'ab'), ('p2', 'J', 'b', 'ba'),
    ('p3', 'J', 'b', 'ab'), ('p3', 'J', 'b', 'ba'), ('p4', 'J', 'b', 'ab'), ('p4', 'J', 'b', 'ba'),
    ('p1', 'K', 'a', NULL), ('p2', 'K', 'b', NULL), ('p3', 'K', 'a', NULL), ('p4', 'K', 'a', NULL)
  ) t(pair_id, rater, vote, "order")`

describe("evaluate.agreement", () => {
  it("accuracy, kappa (= a textbook computation), biases and LLMBar's order statistics against the label", async () => {
    const { tables, stats } = await runNode(evaluate.agreement, VOTES, { votes: "votes", pairs: "pairs" })
    const m = tables["metrics"]!
    const J = (name: string) => metric(m, name, "(all)", "(all)", { rater: "J" })!["value"]
    // J's verdicts (majority per row): a, tie, b, b
    expect(J("accuracy")).toBe(0.5)
    expect(J("kappa")).toBeCloseTo(kappa(["a", "tie", "b", "b"], ["a", "b", "a", "b"]), 12)
    expect(J("kappa")).toBeCloseTo(0.2, 12)
    expect([
      J("agree_ab"),
      J("agree_ba"),
      J("agree_both"),
      J("order_inconsistent"),
      J("order_inconsistent_rate")
    ]).toEqual([0.5, 0.75, 0.5, 1, 0.25])
    expect(J("p_prefer_first")).toBe(5 / 8)
    expect(J("p_prefer_longer")).toBeCloseTo(1 / 6, 12)
    const K = (name: string) => metric(m, name, "(all)", "(all)", { rater: "K" })?.["value"]
    expect(K("accuracy")).toBe(0.75)
    expect(K("kappa")).toBeCloseTo(kappa(["a", "b", "a", "a"], ["a", "b", "a", "b"]), 12)
    expect(K("agree_ab")).toBeUndefined() // no orders: no order statistics
    expect(stats).toMatchObject({ raters: 2, rows: 8 })
    const cells = tables["confusion"]!.filter((r) => r["rater"] === "J" && (r["n"] as number) > 0)
    expect(cells.map((r) => [r["against_vote"], r["rater_vote"], r["n"]])).toEqual([
      ["a", "a", 1],
      ["a", "b", 1],
      ["b", "b", 1],
      ["b", "tie", 1]
    ])
  })

  it("compares a rater with another rater, and slices by a pair column", async () => {
    const { tables } = await runNode(
      evaluate.agreement,
      VOTES,
      { votes: "votes", pairs: "pairs" },
      { against: "J", by: "label", resamples: 0 }
    )
    const m = tables["metrics"]!
    expect(metric(m, "accuracy", "(all)", "(all)", { rater: "K", against: "J" })!["value"]).toBe(0.25)
    expect(metric(m, "accuracy", "label", "a", { rater: "K" })!["value"]).toBe(0.5)
    expect(m.some((r) => r["rater"] === "J")).toBe(false)
  })

  it("names the missing slice column and lists what exists", async () => {
    const msg = await runNodeError(evaluate.agreement, VOTES, { votes: "votes", pairs: "pairs" }, { by: "sourec" })
    expect(msg).toContain("column sourec is in none of the inputs")
    expect(msg).toContain("a column of pairs (pair_id, label, response_a, response_b)")
  })
})
