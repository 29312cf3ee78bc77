// strength.filter: the ensemble's mean margin oriented towards each label, flips of strongly negative
// pairs, drops by threshold or bottom fraction, label-smoothing weights, margins, the histogram, and
// rows in = kept + dropped.
import { describe, expect, it } from "vitest"
import { filter } from "../../nodes/strength/index.js"
import { col, mean, runNode, runNodeError, varPop } from "./aggregate-helpers.js"

// margins: s1 (a) 0.8, 0.6 | s2 (b) 2*0.9-1, +1 | s3 (a) +1, -1 | s4 tie | s5 no votes | s6 (b) -1
const SETUP = `
  CREATE TABLE pairs AS SELECT * FROM (VALUES
    ('s1', 'a', 0::BIGINT), ('s2', 'b', 1), ('s3', 'a', 2), ('s4', 'tie', 3), ('s5', 'a', 4), ('s6', 'b', 5)
  ) t(pair_id, label, source_row);
  CREATE TABLE votes AS SELECT * FROM (VALUES
    ('s1', 'r1', 'a', NULL, 0.8), ('s1', 'r2', 'a', NULL, 0.6),
    ('s2', 'r1', 'a', 0.9, NULL), ('s2', 'r2', 'a', NULL, NULL),
    ('s3', 'r1', 'a', NULL, NULL), ('s3', 'r2', 'b', NULL, NULL),
    ('s4', 'r1', 'a', NULL, NULL), ('s6', 'r1', 'b', NULL, NULL), ('zz', 'r1', 'a', NULL, NULL)
  ) t(pair_id, rater, vote, p_a, margin);`

const STRENGTH = { s1: 0.7, s2: -0.9, s3: 0, s6: 1 }
const run = (params: unknown = {}) => runNode(filter, SETUP, { pairs: "pairs", votes: "votes" }, params)

describe("strength.filter", () => {
  it("strength is the mean margin (margin, else 2·p_a − 1, else ±1) oriented towards the label", async () => {
    const { tables, stats } = await run()
    const pairs = tables["pairs"]!
    expect(col(pairs, "pair_id")).toEqual(["s1", "s2", "s3", "s4", "s5", "s6"])
    const s = col(pairs, "strength") as Array<number | null>
    expect(s[0]).toBeCloseTo(STRENGTH.s1, 12)
    expect(s[1]).toBeCloseTo(STRENGTH.s2, 12)
    expect([s[2], s[3], s[4], s[5]]).toEqual([0, null, null, 1])
    expect(pairs[0]!["strength_std"]).toBeCloseTo(Math.sqrt(varPop([0.8, 0.6])), 12)
    expect(col(pairs, "strength_action")).toEqual(["kept", "kept", "kept", "no-label", "no-votes", "kept"])
    // label smoothing 0.1: weight 1 − 0.1·(1 − s)/2, no strength as 0; margin max(s, 0)
    const w = (x: number) => 1 - (0.1 * (1 - x)) / 2
    expect(col(pairs, "label_weight").map((x) => Number((x as number).toFixed(12)))).toEqual(
      [w(0.7), w(-0.9), w(0), w(0), w(0), w(1)].map((x) => Number(x.toFixed(12)))
    )
    expect((col(pairs, "margin") as Array<number>).map((x) => Number(x.toFixed(12)))).toEqual([0.7, 0, 0, 0, 0, 1])
    expect(tables["dropped"]).toEqual([])
    expect(stats).toMatchObject({ rows_in: 6, kept: 6, dropped: 0, flipped: 0, no_votes: 1, no_label: 1, negative: 1 })
    expect(stats["strength_mean"]).toBeCloseTo(mean(Object.values(STRENGTH)), 12)
    expect(stats).toMatchObject({ votes_in: 9, votes_unmatched: 1 })
  })

  it("flips strongly negative pairs, then drops those below the threshold (after the flip)", async () => {
    const { tables, stats } = await run({ flipBelow: -0.5, drop: { below: 0.1 } })
    const pairs = tables["pairs"]!
    expect(col(pairs, "pair_id")).toEqual(["s1", "s2", "s4", "s5", "s6"])
    const s2 = pairs[1]!
    expect(s2).toMatchObject({ label: "a", flipped: true, strength_action: "flipped" })
    expect(s2["strength"]).toBeCloseTo(0.9, 12)
    expect(s2["margin"]).toBeCloseTo(0.9, 12)
    expect(tables["dropped"]!.map((r) => [r["pair_id"], r["label"], r["strength_action"], r["reason"]])).toEqual([
      ["s3", "a", "dropped", "strength below 0.1"]
    ])
    expect(stats).toMatchObject({ rows_in: 6, kept: 5, dropped: 1, flipped: 1 })
    expect((stats["kept"] as number) + (stats["dropped"] as number)).toBe(stats["rows_in"])
  })

  it("drops the weakest fraction of the rows that have a strength", async () => {
    const { tables } = await run({ drop: { fraction: 0.5 } })
    // 4 rows have a strength: the 2 weakest (s2 −0.9, s3 0) go
    expect(col(tables["dropped"]!, "pair_id")).toEqual(["s2", "s3"])
    expect(col(tables["dropped"]!, "reason")).toEqual([
      "strength in the bottom 0.5 of the pairs",
      "strength in the bottom 0.5 of the pairs"
    ])
    expect(col(tables["pairs"]!, "pair_id")).toEqual(["s1", "s4", "s5", "s6"])
  })

  it("strength_report: the histogram before the flip, by action, every bin, then the rows without strength", async () => {
    const report = (await run({ flipBelow: -0.5, drop: { below: 0.1 }, bins: 4 })).tables["strength_report"]!
    const nonzero = report.filter((r) => (r["pairs"] as number) > 0)
    expect(nonzero.map((r) => [r["action"], r["bin"], r["bin_lo"], r["bin_hi"], r["pairs"]])).toEqual([
      ["kept", 3, 0.5, 1, 2], // s1 0.7, s6 1 (the top edge goes in the last bin)
      ["flipped", 0, -1, -0.5, 1], // s2 at −0.9
      ["dropped", 2, 0, 0.5, 1], // s3 at 0
      ["no-votes", null, null, null, 1],
      ["no-label", null, null, null, 1]
    ])
    expect(report).toHaveLength(3 * 4 + 2)
    expect(report.reduce((n, r) => n + (r["pairs"] as number), 0)).toBe(6)
  })

  it("refuses pairs without a label", async () => {
    const message = await runNodeError(filter, `${SETUP} CREATE TABLE bare AS SELECT pair_id FROM pairs;`, {
      pairs: "bare",
      votes: "votes"
    })
    expect(message).toContain("the pairs have no label column")
    expect(message).toContain("fix: label the pairs first")
  })
})
