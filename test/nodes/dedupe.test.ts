/** The dedupe wrapper with real DuckDB: tiny inline tables in, every output table compared whole. */
import { Effect, Schema } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { dedupe } from "../../nodes/dedupe/index.js"
import { pairsOutput, votesOutput } from "../../nodes/lib/pair-tables.js"
import { defineNode } from "../../workbench/core/node.js"
import { pipeline } from "../../workbench/core/pipeline.js"
import { Sql } from "../../workbench/core/services.js"
import { runPipeline } from "../../workbench/run-pipeline.js"
import { pairsTable, runDedupe, runDedupeError, votesTable } from "./dedupe-helpers.js"

const H = "human"
const SETUP =
  pairsTable("p", [
    ["p", "x", "y", "a", H, "s", 0], // kept; absorbs 1 (exact) and 2 (mirrored)
    ["p", "x", "y", "a", H, "s", 1],
    ["p", "y", "x", "b", H, "s", 2],
    ["q", "z", "Z ", "a", H, "s", 3], // identical after normalize: case
    ["q", "z", " ", "a", H, "s", 4], // empty side
    ["r", "u", "v", "a", H, "s", 5], // mirrored group whose labels disagree
    ["r", "v", "u", "a", H, "s", 6],
    ["t", "m", "n", "b", H, "s", 7] // kept, untouched
  ]) +
  votesTable("v", "p", [
    ["p", "x", "y", "h1", "human", "a", 0.9],
    ["p", "y", "x", "j1", "ai", "a", 0.3], // on the mirrored twin: becomes b, p_a 0.7
    ["p", "y", "x", "j2", "ai", "a", 0.2],
    ["r", "u", "v", "h2", "human", "a", null], // its pair is dropped (conflict): vote dropped
    ["t", "m", "n", "h3", "human", "b", null]
  ])

describe("dedupe.pairs on a tiny table", () => {
  it("writes every output table", async () => {
    const r = await runDedupe(dedupe.pairs, { normalize: "case" }, SETUP, { pairs: "p", votes: "v" })
    const pick = (rows: ReadonlyArray<Record<string, unknown>>, cols: Array<string>) =>
      rows.map((x) => cols.map((c) => x[c]))
    expect(pick(r.pairs, ["prompt", "response_a", "response_b", "label", "label_source", "source_row"])).toEqual([
      ["p", "x", "y", "a", "human", 0], // a human label is re-voted by the human votes only (h1: a); j1, j2 are AI
      ["t", "m", "n", "b", "human", 7]
    ])
    const id = (i: number) =>
      r.removed.find((x) => x["source_row"] === i)?.["pair_id"] ??
      r.pairs.find((x) => x["source_row"] === i)!["pair_id"]
    expect(pick(r.removed, ["source_row", "reason", "kept_pair_id", "kept_source_row"])).toEqual([
      [1, "exact-duplicate", id(0), 0],
      [2, "mirrored-duplicate", id(0), 0],
      [3, "identical-sides", null, null],
      [4, "empty-side", null, null],
      [5, "mirrored-conflict", null, null],
      [6, "mirrored-conflict", null, null]
    ])
    expect(r.votes).toEqual([
      { pair_id: id(0), rater: "h1", rater_kind: "human", vote: "a", p_a: 0.9, meta: null },
      { pair_id: id(0), rater: "j1", rater_kind: "ai", vote: "b", p_a: expect.closeTo(0.7, 12), meta: null },
      { pair_id: id(0), rater: "j2", rater_kind: "ai", vote: "b", p_a: expect.closeTo(0.8, 12), meta: null },
      { pair_id: id(7), rater: "h3", rater_kind: "human", vote: "b", p_a: null, meta: null }
    ])
    expect(r.conflicts).toEqual([
      {
        check: "mirrored",
        group_pair_id: id(5),
        pair_id: id(5),
        source: "s",
        source_row: 5,
        label: "a",
        flipped: false,
        outcome: "removed",
        prompt: "r",
        response_a: "u",
        response_b: "v"
      },
      {
        check: "mirrored",
        group_pair_id: id(5),
        pair_id: id(6),
        source: "s",
        source_row: 6,
        label: "a",
        flipped: true,
        outcome: "removed",
        prompt: "r",
        response_a: "v",
        response_b: "u"
      }
    ])
    expect(r.report).toEqual([
      { check: "exact", groups: 1, rows_found_in_input: 2, rows_removed: 1 },
      { check: "mirrored", groups: 2, rows_found_in_input: 5, rows_removed: 3 },
      { check: "empty-side", groups: 1, rows_found_in_input: 1, rows_removed: 1 },
      { check: "identical-sides", groups: 1, rows_found_in_input: 1, rows_removed: 1 }
    ])
    expect(r.stats).toEqual({
      rows_in: 8,
      rows_out: 2,
      removed: 6,
      exact_groups: 1,
      exact_removed: 1,
      exact_conflicts: 0,
      mirrored_groups: 2,
      mirrored_removed: 3,
      mirrored_conflicts: 1,
      empty_side: 1,
      identical: 1,
      votes_in: 5,
      votes_out: 4,
      votes_moved: 2,
      votes_flipped: 2,
      votes_dropped: 1,
      relabelled: 0
    })
    expect(r.pairs.length + r.removed.length).toBe(r.rowsIn)
  })

  it("keep-both keeps a conflicting mirrored group; normalize none keeps 'Z ' apart from 'z'", async () => {
    const r = await runDedupe(dedupe.pairs, { normalize: "none", mirrored: { onConflict: "keep-both" } }, SETUP, {
      pairs: "p",
      votes: "v"
    })
    expect(r.pairs.map((x) => x["source_row"])).toEqual([0, 3, 5, 6, 7])
    expect(r.removed.map((x) => [x["source_row"], x["reason"]])).toEqual([
      [1, "exact-duplicate"],
      [2, "mirrored-duplicate"],
      [4, "empty-side"]
    ])
    expect(r.conflicts.map((x) => x["outcome"])).toEqual(["kept", "kept"])
  })

  it("dedupe.exact alone, keeping the longest row, with no votes connected", async () => {
    const setup = pairsTable("p", [
      ["p", "x", "y", "a", H, "s", 0],
      ["p", "x  ", " y", "b", H, "s", 1], // same after whitespace normalisation, longer, label disagrees
      ["p", "y", "x", "b", H, "s", 2]
    ])
    const r = await runDedupe(dedupe.exact, { keep: "longest" }, setup, { pairs: "p" })
    expect(r.pairs.map((x) => [x["source_row"], x["label"]])).toEqual([
      [1, "b"],
      [2, "b"]
    ])
    expect(r.removed.map((x) => [x["source_row"], x["reason"], x["kept_source_row"]])).toEqual([
      [0, "exact-duplicate", 1]
    ])
    expect(r.conflicts.map((x) => [x["check"], x["source_row"], x["outcome"]])).toEqual([
      ["exact", 0, "removed"],
      ["exact", 1, "kept"]
    ])
    expect(r.votes).toEqual([])
    expect(r.report.map((x) => x["check"])).toEqual(["exact"])
  })

  it("keep most-votes counts the votes on each row's pair and moves them all to the kept one", async () => {
    const setup =
      pairsTable("p", [
        ["p", "x", "y", "a", H, "s", 0],
        ["p", "x ", "y", "b", H, "s", 1]
      ]) +
      votesTable("v", "p", [
        ["p", "x", "y", "h1", "human", "a", null],
        ["p", "x ", "y", "h2", "human", "b", null],
        ["p", "x ", "y", "h3", "human", "b", null]
      ])
    const r = await runDedupe(dedupe.exact, { keep: "most-votes" }, setup, { pairs: "p", votes: "v" })
    expect(r.pairs.map((x) => [x["source_row"], x["label"]])).toEqual([[1, "b"]])
    expect(r.votes.map((x) => [x["rater"], x["pair_id"] === r.pairs[0]!["pair_id"], x["vote"]])).toEqual([
      ["h1", true, "a"],
      ["h2", true, "b"],
      ["h3", true, "b"]
    ])
    expect(r.stats).toMatchObject({ exact_conflicts: 1, votes_moved: 1, relabelled: 0 })
  })

  it("'first' is by (source, source_row) even when the union's rows come in another order", async () => {
    const setup =
      pairsTable("p1", [["p", "x", "y", "a", H, "zz", 0]]) +
      pairsTable("p2", [
        ["p", "x", "y", "a", H, "aa", 9],
        ["p", "x", "y", "a", H, "aa", 3]
      ])
    const r = await runDedupe(dedupe.exact, {}, setup, {
      pairs: "(SELECT * FROM p1 UNION ALL BY NAME SELECT * FROM p2)"
    })
    expect(r.pairs.map((x) => [x["source"], x["source_row"]])).toEqual([["aa", 3]])
  })

  it("fails with a readable message when bands x rows exceed numPerm", async () => {
    const e = await runDedupeError(dedupe.nearDuplicates, { numPerm: 64, bands: 20, rows: 5 }, SETUP, { pairs: "p" })
    expect(e.tag).toBe("DataError")
    expect(e.message).toBe(
      `node "dd" params near.bands and near.rows: 20 bands x 5 rows = 100 signature values\n` +
        `  expected: at most numPerm = 64\n` +
        `  fix: lower bands or rows, raise numPerm, or leave bands and rows out to derive them from the threshold`
    )
  })
})

/** A source node for the pipeline test: pairs from inline rows. */
const inlinePairs = defineNode({
  kind: "test.inline-pairs",
  version: 1,
  summary: "pairs from inline rows",
  params: Schema.Struct({ rows: Schema.Array(Schema.Array(Schema.Union([Schema.String, Schema.Number]))) }),
  inputs: {},
  outputs: { pairs: pairsOutput(), votes: votesOutput() },
  run: ({ params }) =>
    Effect.gen(function* () {
      const sql = yield* Sql
      const t = sql.tempName("inline"),
        v = sql.tempName("inline_votes")
      yield* sql.run(pairsTable(t, params.rows))
      yield* sql.run(`CREATE TABLE ${v} AS SELECT pair_id, 'r' || source_row AS rater, 'human' AS rater_kind, label AS vote,
      NULL::DOUBLE AS p_a, NULL::VARCHAR AS "order", NULL::BIGINT AS sample, NULL::JSON AS meta FROM ${t}`)
      return { tables: { pairs: t, votes: v }, rowsIn: params.rows.length }
    })
})

describe("dedupe.pairs in a pipeline", () => {
  it("unions several inputs, passes the runner's output contract checks and balances its rows", async () => {
    const root = mkdtempSync(join(tmpdir(), "wb-dedupe-"))
    const [p1, p2] = ["What is the capital of France?", "what is the capital of france"] // near-duplicate prompts
    const def = pipeline("dd", (p) => {
      const a = p.node(
        "a",
        inlinePairs({
          rows: [
            [p1, "x", "y", "a", H, "a", 0],
            [p2, "m", "n", "a", H, "a", 1]
          ]
        })
      )
      const b = p.node(
        "b",
        inlinePairs({
          rows: [
            [p1, "y", "x", "b", H, "b", 0],
            [p2, "m", "n", "a", H, "b", 1]
          ]
        })
      )
      p.node("clean", dedupe.pairs({ near: { enabled: true, on: "prompt" } }), {
        pairs: [a, b],
        votes: [a.votes, b.votes]
      })
    })
    const res = await runPipeline(def, { root, workspace: join(root, ".wb"), threads: 2 })
    const clean = res.nodes["clean"]!.report
    expect(res.report.status).toBe("ok")
    // rows in counts pairs only (not the 4 votes), so in = out + removed
    expect([clean.rowsIn, clean.rowsOut, clean.removed]).toEqual([4, 1, 3])
    expect(clean.stats).toMatchObject({
      exact_removed: 1,
      mirrored_removed: 1,
      near_removed: 1,
      votes_in: 4,
      votes_out: 2,
      votes_flipped: 1
    })
  })
})
