// judge.aggregate: votes → one label per pair row (majority, mean p_a), position-consistency, samples,
// rater filters, votes that follow their row (identical pairs before dedupe), and the collapsed votes.
import { describe, expect, it } from "vitest"
import { aggregate } from "../../nodes/judge/aggregate.js"
import { col, mean, type Row, runNode, runNodeError } from "./aggregate-helpers.js"

// rows 0 and 1 are the same pair p1 (as PandaLM has before dedupe); p4 has no votes
const SETUP = `
  CREATE TABLE pairs AS SELECT * FROM (VALUES
    ('p1', 'x', 'b', 'human', 0::BIGINT), ('p1', 'x', 'b', 'human', 1), ('p2', 'y', NULL, NULL, 2),
    ('p3', 'z', 'b', 'human', 3), ('p4', 'w', 'a', 'human', 4)
  ) t(pair_id, prompt, label, label_source, source_row);
  CREATE TABLE votes AS SELECT pair_id, rater, rater_kind, vote, p_a, "order", sample, meta::JSON AS meta FROM (VALUES
    ('p1', 'h1', 'human', 'a', NULL, NULL, NULL, '{"source_row": 0}'),
    ('p1', 'h2', 'human', 'a', NULL, NULL, NULL, '{"source_row": 0}'),
    ('p1', 'h3', 'human', 'b', NULL, NULL, NULL, '{"source_row": 0}'),
    ('p1', 'h1', 'human', 'B', NULL, NULL, NULL, '{"source_row": 1}'),
    ('p1', 'judge', 'ai', 'tie', NULL, NULL, NULL, '{}'),
    ('p2', 'j', 'ai', 'a', 0.9, 'ab', 0, '{}'),
    ('p2', 'j', 'ai', 'b', 0.3, 'ba', 0, '{}'),
    ('p2', 'k', 'ai', 'a', 0.8, NULL, NULL, '{}'),
    ('p3', 'j', 'ai', 'a', NULL, 'ab', 0, '{}'),
    ('p3', 'j', 'ai', 'a', NULL, 'ab', 1, '{}'),
    ('p3', 'j', 'ai', 'b', NULL, 'ab', 2, '{}'),
    ('p3', 'k', 'ai', 'garbage', NULL, NULL, NULL, '{}'),
    ('p9', 'k', 'ai', 'a', NULL, NULL, NULL, '{}')
  ) t(pair_id, rater, rater_kind, vote, p_a, "order", sample, meta);`

const run = (params: unknown = {}) => runNode(aggregate, SETUP, { pairs: "pairs", votes: "votes" }, params)
const pick = (rows: ReadonlyArray<Row>, names: ReadonlyArray<string>) =>
  rows.map((r) => Object.fromEntries(names.map((n) => [n, r[n]])))

describe("judge.aggregate over votes", () => {
  it("majority per pair row: a vote counts for the row it names, else for every row of its pair_id", async () => {
    const { tables, stats } = await run()
    const pairs = tables["pairs"]!
    expect(col(pairs, "source_row")).toEqual([0, 1, 2, 3, 4]) // input order, every row
    expect(pick(pairs, ["label", "label_source", "n_votes", "agreement", "n_inconsistent"])).toEqual([
      // row 0: h1 a, h2 a, h3 b, judge tie (names no row) -> a with 2 of 4
      { label: "a", label_source: "mixed", n_votes: 4, agreement: 0.5, n_inconsistent: 0 },
      // row 1: h1 'B' (case ignored), judge tie -> one each: a tie
      { label: "tie", label_source: "mixed", n_votes: 2, agreement: 0.5, n_inconsistent: 0 },
      // row 2: j saw both orders and changed its verdict (a then b): a tie; k a -> one a, one tie
      { label: "tie", label_source: "ai", n_votes: 2, agreement: 0.5, n_inconsistent: 1 },
      // row 3: j's three samples a, a, b -> a; k's 'garbage' is not counted
      { label: "a", label_source: "ai", n_votes: 1, agreement: 1, n_inconsistent: 0 },
      // row 4: no votes: label and source kept
      { label: "a", label_source: "human", n_votes: 0, agreement: null, n_inconsistent: 0 }
    ])
    // margins: row 2 has j as a tie (0) and k 2*0.8-1; row 0: 1, 1, -1, 0
    expect(pairs[2]!["margin_mean"]).toBeCloseTo(mean([0, 0.6]), 12)
    expect(pairs[0]!["margin_mean"]).toBeCloseTo(mean([1, 1, -1, 0]), 12)
    expect(pairs[0]!["margin_std"]).toBeCloseTo(Math.sqrt(mean([1, 1, 1, 0]) - 0.25 ** 2), 12)
    expect(pairs[0]!["label_margin"]).toBeCloseTo((2 - 1) / 4, 12)
    expect(stats).toMatchObject({
      pairs: 5,
      votes_in: 13,
      votes_unmatched: 1, // p9
      votes_filtered: 0,
      votes_unusable: 1, // garbage
      relabelled: 4, // rows 0 (b → a), 1 (b → tie), 2 (NULL → tie), 3 (b → a)
      inconsistent: 1,
      label_a: 3,
      label_tie: 2
    })
  })

  it("collapses each rater's samples and orders into one vote per pair row, with its row in meta", async () => {
    const votes = (await run()).tables["votes"]!
    const j2 = votes.find((v) => v["pair_id"] === "p2" && v["rater"] === "j")!
    expect(j2).toMatchObject({ vote: "tie", p_a: 0.5, margin: 0, position_consistent: false })
    expect(JSON.parse(j2["meta"] as string)).toEqual({ source_row: 2, judgments: 2, orders: "ab,ba", from: "votes" })
    const j3 = votes.find((v) => v["pair_id"] === "p3" && v["rater"] === "j")!
    expect(j3["vote"]).toBe("a")
    expect(j3["p_a"]).toBeCloseTo(2 / 3, 12) // mean of the samples' 1, 1, 0
    expect(j3["position_consistent"]).toBeNull() // one order only
    // the pair-level judge vote counts for both p1 rows: one collapsed vote each
    expect(votes.filter((v) => v["rater"] === "judge").map((v) => JSON.parse(v["meta"] as string).source_row)).toEqual([
      0, 1
    ])
    expect(votes).toHaveLength(4 + 2 + 2 + 1)
  })

  it("inconsistent: keep-first takes the 'ab' verdict, drop leaves the rater out", async () => {
    const first = (await run({ inconsistent: "keep-first" })).tables["pairs"]![2]!
    expect(first).toMatchObject({ label: "a", n_votes: 2, agreement: 1 })
    const dropped = await run({ inconsistent: "drop" })
    expect(dropped.tables["pairs"]![2]).toMatchObject({ label: "a", n_votes: 1, n_inconsistent: 0 })
    expect(dropped.tables["votes"]!.some((v) => v["pair_id"] === "p2" && v["rater"] === "j")).toBe(false)
    expect(dropped.stats["inconsistent"]).toBe(1)
  })

  it("mean-p labels by the mean p_a with hard votes as 1 / 0 / 0.5, a tie within epsilon", async () => {
    const pairs = (await run({ rule: "mean-p" })).tables["pairs"]!
    // row 2: j inconsistent -> 0.5, k 0.8: mean 0.65 -> a
    expect(pairs[2]).toMatchObject({ label: "a" })
    expect(pairs[2]!["p_a_mean"]).toBeCloseTo(0.65, 12)
    expect(pairs[2]!["label_margin"]).toBeCloseTo(0.3, 12)
    const wide = (await run({ rule: "mean-p", epsilon: 0.31 })).tables["pairs"]!
    expect(wide[2]!["label"]).toBe("tie")
  })

  it("filters by rater kind and rater; rows left without votes keep or lose their label", async () => {
    const ai = await run({ raterKinds: ["ai"] })
    expect(pick(ai.tables["pairs"]!, ["label", "label_source", "n_votes"])).toEqual([
      { label: "tie", label_source: "ai", n_votes: 1 },
      { label: "tie", label_source: "ai", n_votes: 1 },
      { label: "tie", label_source: "ai", n_votes: 2 },
      { label: "a", label_source: "ai", n_votes: 1 },
      { label: "a", label_source: "human", n_votes: 0 }
    ])
    expect(ai.stats["votes_filtered"]).toBe(4)
    const k = await run({ raters: ["k"], unvoted: "null", minVotes: 1 })
    expect(col(k.tables["pairs"]!, "label")).toEqual([null, null, "a", null, null])
    expect(col(k.tables["pairs"]!, "label_source")).toEqual([null, null, "ai", null, null])
  })

  it("refuses a run with neither votes nor ratings, and raterKinds on votes without rater_kind", async () => {
    const none = await runNodeError(aggregate, SETUP, { pairs: "pairs" })
    expect(none).toContain("neither votes nor ratings are connected")
    expect(none).toContain("fix: connect votes")
    const bare = await runNodeError(
      aggregate,
      `${SETUP} CREATE TABLE bare AS SELECT pair_id, rater, vote FROM votes;`,
      { pairs: "pairs", votes: "bare" },
      { raterKinds: ["ai"] }
    )
    expect(bare).toContain("param raterKinds")
    expect(bare).toContain("no rater_kind column")
  })
})
