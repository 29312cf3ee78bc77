// load.votes: recorded judgments in any table become votes; texts name (and load) their pairs, a
// pair_id names a pair loaded elsewhere; both-order rows fold onto one pair; bad verdicts are rejects.
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { describe, expect, it } from "vitest"
import { dedupe } from "../../nodes/dedupe/index.js"
import { load } from "../../nodes/load/index.js"
import { pipeline } from "../../workbench/core/pipeline.js"
import { runPipeline } from "../../workbench/run-pipeline.js"
import { readParquet } from "../support/sql.js"
import { type Row, runLoad, runLoadError, writeJsonl } from "./load-helpers.js"

const Q1 = "What is 2 + 2?"
const Q2 = "Name a colour."
/** Both-order judgments as MT-bench-style rows: the second row of each pair lists it the other way round. */
const ROWS = [
  {
    question: Q1,
    answer_1: "4",
    answer_2: "5",
    judge: "gpt-4",
    winner: "model_a",
    shown: "ab",
    prob: 0.9,
    why: "4 is right",
    turn: 1
  },
  {
    question: Q1,
    answer_1: "5",
    answer_2: "4",
    judge: "gpt-4",
    winner: "model_b",
    shown: "ab",
    prob: 0.2,
    why: "4 is right",
    turn: 1
  },
  { question: Q1, answer_1: "4", answer_2: "5", judge: "expert", kind: "human", winner: "A", turn: 1 },
  { question: Q2, answer_1: "red", answer_2: "blue", judge: "gpt-4", winner: "tie", shown: "ba", turn: 1 },
  { question: Q2, answer_1: "blue", answer_2: "red", judge: "gpt-4", winner: "model_a", shown: "AB", turn: 2 },
  { question: Q2, answer_1: "red", answer_2: "blue", judge: "gpt-4", winner: "garbage" },
  { question: Q2, answer_1: "red", answer_2: "blue", judge: "gpt-4", winner: "model_a", prob: 1.5 },
  { question: Q2, answer_1: "red", answer_2: "blue", judge: "gpt-4", winner: "model_a", shown: "first" }
]
const COLUMNS = {
  prompt: "question",
  response_a: "answer_1",
  response_b: "answer_2",
  rater: "judge",
  rater_kind: "kind",
  vote: "winner",
  p_a: "prob",
  order: "shown",
  rationale: "why"
}

const dir = mkdtempSync(join(tmpdir(), "wb-load-votes-"))
const file = writeJsonl(dir, "judgments.jsonl", ROWS)
const meta = (v: Row) => JSON.parse(String(v["meta"])) as Record<string, unknown>

describe("load.votes with pair texts", () => {
  it("loads each distinct pair once and folds the row listing it the other way round, flipped", async () => {
    const r = await runLoad(load.votes, { path: file, columns: COLUMNS, maxRejectRate: 0.5 })
    expect(
      r.pairs.map((p) => [
        p["prompt"],
        p["response_a"],
        p["response_b"],
        p["label"],
        p["label_source"],
        p["source_row"]
      ])
    ).toEqual([
      [Q1, "4", "5", "a", "mixed", 0],
      [Q2, "red", "blue", "tie", "ai", 3]
    ])
    expect(r.pairs[0]!["source"]).toBe("judgments")
    const [p1, p2] = [r.pairs[0]!["pair_id"], r.pairs[1]!["pair_id"]]
    expect(
      r.votes.map((v) => [v["pair_id"], v["rater"], v["rater_kind"], v["vote"], v["p_a"], v["order"], v["sample"]])
    ).toEqual([
      [p1, "gpt-4", "ai", "a", 0.9, "ab", null],
      // row 1 lists the pair as (5, 4): its "b wins" is a vote for 4 (a), p_a 1 - 0.2, and it saw 5 (the pair's b) first
      [p1, "gpt-4", "ai", "a", expect.closeTo(0.8, 12), "ba", null],
      [p1, "expert", "human", "a", null, null, null],
      [p2, "gpt-4", "ai", "tie", null, "ba", null],
      [p2, "gpt-4", "ai", "b", null, "ba", null]
    ])
    expect(meta(r.votes[1]!)).toEqual({ turn: 1, source_row: 0, record: 1, rationale: "4 is right", mirrored: true })
    expect(meta(r.votes[2]!)).toEqual({ turn: 1, source_row: 0, record: 2, mirrored: false })
    // every good record is a pair or a removed row that names its pair; the bad ones are rejects, with the raw value
    expect(r.removed.map((x) => [x["source_row"], x["reason"], x["kept_pair_id"], x["kept_source_row"]])).toEqual([
      [1, "merged-into", p1, 0],
      [2, "merged-into", p1, 0],
      [4, "merged-into", p2, 3]
    ])
    expect(r.rejects.map((x) => [x["line"], x["reason"]])).toEqual([
      [
        6,
        'winner: unknown verdict "garbage" (known: 0, 1, 2, a, b, tie, model_a, model_b, tie (bothbad); see the votes param)'
      ],
      [7, 'prob: "1.5" is not a probability in [0, 1]'],
      [8, 'shown: unknown order "first" (expected ab or ba: the response the rater saw first, a or b)']
    ])
    expect(r.out.rowsIn).toBe(8)
    expect(r.pairs.length + r.removed.length + r.rejects.length).toBe(8)
    expect(r.out.stats).toMatchObject({
      records: 8,
      pairs: 2,
      votes: 5,
      rejected: 3,
      removed: 3,
      raters: 2,
      mirrored_votes: 2,
      mode: "texts"
    })
    expect(r.tables["raters"]).toEqual([
      { rater: "gpt-4", rater_kind: "ai", attributes: "{}" },
      { rater: "expert", rater_kind: "human", attributes: "{}" }
    ])
  })

  it("keeps mirrored rows as pairs of their own with mirrored: keep", async () => {
    const r = await runLoad(load.votes, { path: file, columns: COLUMNS, mirrored: "keep", maxRejectRate: 0.5 })
    expect(r.pairs.map((p) => [p["response_a"], p["response_b"], p["source_row"]])).toEqual([
      ["4", "5", 0],
      ["5", "4", 1],
      ["red", "blue", 3],
      ["blue", "red", 4]
    ])
    expect(r.votes.map((v) => [v["vote"], v["order"]])).toEqual([
      ["a", "ab"],
      ["b", "ab"],
      ["a", null],
      ["tie", "ba"],
      ["a", "ab"]
    ])
  })

  it("fails on the bad verdicts by default, naming each", async () => {
    const e = await runLoadError(load.votes, { path: file, columns: COLUMNS })
    expect(e.message.split("\n")[0]).toBe(
      `node "n" (load.votes) file ${file}: 3 of 8 records rejected (37.5%): line 6: winner: unknown verdict "garbage" ` +
        "(known: 0, 1, 2, a, b, tie, model_a, model_b, tie (bothbad); see the votes param); " +
        'line 7: prob: "1.5" is not a probability in [0, 1]; line 8: shown: unknown order "first" ' +
        "(expected ab or ba: the response the rater saw first, a or b)"
    )
  })

  it("names a missing field with what the file has", async () => {
    const e = await runLoadError(load.votes, { path: file, columns: { ...COLUMNS, vote: "winnr" } })
    expect(e.message).toContain("param columns.vote")
    expect(e.message).toContain('the file has no field "winnr"')
    expect(e.message).toContain('did you mean "winner"?')
    const noRater = await runLoadError(load.votes, {
      path: file,
      columns: { prompt: "question", response_a: "answer_1", response_b: "answer_2", vote: "winner" }
    })
    expect(noRater.message).toContain("param rater")
  })
})

describe("load.votes with pair_id only, in a pipeline beside the loader of its pairs", () => {
  it("adds its votes to PandaLM's, each record a 'vote-only' removed row (rows in = out + rejected + removed)", async () => {
    const panda = await runLoad(load.pandalm, { path: "data/pandalm-testset", maxRejectRate: 0.01 })
    const ids = panda.pairs.slice(0, 3).map((p) => String(p["pair_id"]))
    const csv = join(dir, "by-id.csv")
    writeFileSync(csv, `pair_id,verdict,p_a\n${ids[0]},2,0.25\n${ids[1]},Tie,\n${ids[2]},1,0.75\n`)
    const root = mkdtempSync(join(tmpdir(), "wb-load-votes-run-"))
    const def = pipeline("votes-by-id", (p) => {
      const pairs = p.node("panda", load.pandalm({ path: resolve("data/pandalm-testset"), maxRejectRate: 0.01 }))
      const mine = p.node(
        "mine",
        load.votes({
          path: csv,
          columns: { vote: "verdict" },
          rater: "my-judge",
          votes: { "1": "a", "2": "b", tie: "tie" }
        })
      )
      p.node("clean", dedupe.pairs({ normalize: "none" }), { pairs, votes: [pairs.votes, mine.votes] })
    })
    const res = await runPipeline(def, { root, workspace: join(root, ".wb"), threads: 2 })
    expect(res.report.nodes.map((n) => [n.name, n.status])).toEqual([
      ["panda", "ran"],
      ["mine", "ran"],
      ["clean", "ran"]
    ])
    const mine = res.report.nodes.find((n) => n.name === "mine")!
    expect([mine.rowsIn, mine.rowsOut]).toEqual([3, 0])
    const t = res.nodes["mine"]!.tables
    const votes = await readParquet(t["votes"]!)
    expect(votes.map((v) => [v["pair_id"], v["rater"], v["rater_kind"], v["vote"], v["p_a"]])).toEqual([
      [ids[0], "my-judge", "ai", "b", 0.25],
      [ids[1], "my-judge", "ai", "tie", null],
      [ids[2], "my-judge", "ai", "a", 0.75]
    ])
    const removed = await readParquet(t["removed"]!)
    expect(removed.map((x) => [x["pair_id"], x["reason"], x["kept_pair_id"], x["prompt"]])).toEqual(
      ids.map((id) => [id, "vote-only", id, null])
    )
    expect(await readParquet(t["pairs"]!)).toEqual([])
    // dedupe unions both votes tables by name: PandaLM's 4,965 and these 3 (order, sample typed alike)
    const cleaned = await readParquet(res.nodes["clean"]!.tables["votes"]!)
    expect(cleaned.filter((v) => v["rater"] === "my-judge").length).toBe(3)
    expect(Object.keys(cleaned[0]!)).toEqual([
      "pair_id",
      "rater",
      "rater_kind",
      "vote",
      "p_a",
      "order",
      "sample",
      "meta"
    ])
  })
})
