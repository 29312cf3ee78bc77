/**
 * Votes follow the row they were cast on (meta.source_row, as load.pandalm writes it, or a source_row
 * column), not only its pair_id: rows with identical texts share a pair_id but not their votes.
 */
import { Effect } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { describe, expect, it } from "vitest"
import { dedupe } from "../../nodes/dedupe/index.js"
import { load } from "../../nodes/load/index.js"
import { pipeline } from "../../workbench/core/pipeline.js"
import { Sql } from "../../workbench/core/services.js"
import { runPipeline } from "../../workbench/run-pipeline.js"
import { runWithSql } from "../support/sql.js"
import { pairsTable, runDedupeEach, type Row } from "./dedupe-helpers.js"

const H = "human"
// rows 0 and 1 have the same texts (one pair_id) and disagree; row 2 is another pair
const PAIRS = pairsTable("p", [
  ["P1", "x", "y", "a", H, "s", 0],
  ["P1", "x", "y", "b", H, "s", 1],
  ["P2", "u", "v", "a", H, "s", 2]
])
/** Three annotators per row, each vote carrying its row in meta.source_row (or a source_row column). */
const votesSql = (
  withColumn: boolean
) => `CREATE TABLE v AS SELECT p.pair_id, 'annotator' || k AS rater, 'human' AS rater_kind,
    p.label AS vote, NULL::DOUBLE AS p_a,
    ${withColumn ? "NULL::JSON AS meta, p.source_row" : "json_object('source_row', p.source_row)::JSON AS meta"}
  FROM p, range(1, 4) t(k) ORDER BY p.source_row, k;`

const rowOf = (v: Row) =>
  v["source_row"] !== undefined ? Number(v["source_row"]) : JSON.parse(String(v["meta"]))["source_row"]
const votesBy = (votes: ReadonlyArray<Row>, pairId: unknown) =>
  votes.filter((v) => v["pair_id"] === pairId).map((v) => [v["rater"], v["vote"], rowOf(v)])

describe("votes are attributed to their source row", () => {
  it.each([
    ["meta.source_row", false],
    ["a source_row column", true]
  ] as const)(
    "keep-first keeps only the picked row's votes when the texts are identical (%s)",
    async (_, withColumn) => {
      const [kf, merge, drop, both] = await runDedupeEach(
        dedupe.exact,
        [
          { normalize: "none", onConflict: "keep-first" },
          { normalize: "none", onConflict: "merge" },
          { normalize: "none", onConflict: "drop-both" },
          { normalize: "none", onConflict: "keep-both" }
        ],
        PAIRS + votesSql(withColumn),
        { pairs: "p", votes: "v" }
      )
      const id = kf!.pairs[0]!["pair_id"]
      // keep-first: row 0 stays with its label and its own three votes; row 1's votes go with it
      expect(kf!.pairs.map((x) => [x["source_row"], x["label"]])).toEqual([
        [0, "a"],
        [2, "a"]
      ])
      expect(votesBy(kf!.votes, id)).toEqual([
        ["annotator1", "a", 0],
        ["annotator2", "a", 0],
        ["annotator3", "a", 0]
      ])
      expect(kf!.stats).toMatchObject({ votes_in: 9, votes_out: 6, votes_dropped: 3, votes_moved: 0, relabelled: 0 })
      // merge: both rows' votes pool on the kept pair, one vote per rater and row (meta.source_row tells
      // them apart), and the label is re-voted: 3 a, 3 b -> tie
      expect(merge!.pairs.map((x) => [x["source_row"], x["label"]])).toEqual([
        [0, "tie"],
        [2, "a"]
      ])
      expect(votesBy(merge!.votes, id)).toEqual([
        ["annotator1", "a", 0],
        ["annotator2", "a", 0],
        ["annotator3", "a", 0],
        ["annotator1", "b", 1],
        ["annotator2", "b", 1],
        ["annotator3", "b", 1]
      ])
      expect(merge!.stats).toMatchObject({ votes_out: 9, votes_dropped: 0, relabelled: 1 })
      // drop-both: the pair and all its votes go
      expect(drop!.pairs.map((x) => x["source_row"])).toEqual([2])
      expect(drop!.votes.map(rowOf)).toEqual([2, 2, 2])
      // keep-both: both rows stay, each with its votes
      expect(both!.pairs.map((x) => [x["source_row"], x["label"]])).toEqual([
        [0, "a"],
        [1, "b"],
        [2, "a"]
      ])
      expect(both!.votes.map(rowOf)).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2])
    }
  )

  it("keep most-votes counts each row's own votes", async () => {
    const extra = `INSERT INTO v SELECT pair_id, 'annotator4', 'human', 'b', NULL, json_object('source_row', 1)::JSON FROM p WHERE source_row = 1;`
    const [r] = await runDedupeEach(
      dedupe.exact,
      [{ normalize: "none", keep: "most-votes", onConflict: "keep-first" }],
      PAIRS + votesSql(false) + extra,
      { pairs: "p", votes: "v" }
    )
    expect(r!.pairs.map((x) => [x["source_row"], x["label"]])).toEqual([
      [1, "b"],
      [2, "a"]
    ])
    expect(votesBy(r!.votes, r!.pairs[0]!["pair_id"]).map((v) => v[2])).toEqual([1, 1, 1, 1])
  })

  it("votes without a source row still go by pair_id", async () => {
    const unattributed = votesSql(false).replace("json_object('source_row', p.source_row)::JSON", "NULL::JSON")
    const [kf] = await runDedupeEach(
      dedupe.exact,
      [{ normalize: "none", onConflict: "keep-first" }],
      PAIRS + unattributed,
      { pairs: "p", votes: "v" }
    )
    expect(kf!.votes.length).toBe(9)
  })
})

describe("both-order votes on mirrored twins", () => {
  it("flip their order with their vote: the twin's a, shown first, is the kept pair's b", async () => {
    // row 1 is row 0 with the responses swapped; a judge saw each in both orders
    const pairs = pairsTable("p", [
      ["Q", "x", "y", "a", "ai", "s", 0],
      ["Q", "y", "x", "b", "ai", "s", 1]
    ])
    const votes = `CREATE TABLE v AS SELECT p.pair_id, 'judge' AS rater, 'ai' AS rater_kind, t.vote, t.p_a, t."order",
        NULL::BIGINT AS sample, json_object('source_row', p.source_row)::JSON AS meta
      FROM p JOIN (VALUES (0, 'a', 0.8, 'ab'), (0, 'a', 0.6, 'ba'), (1, 'b', 0.3, 'ab'), (1, 'a', 0.55, 'ba')) t(r, vote, p_a, "order")
        ON t.r = p.source_row ORDER BY p.source_row;`
    const [r] = await runDedupeEach(dedupe.mirrored, [{ normalize: "none" }], pairs + votes, { pairs: "p", votes: "v" })
    expect(r!.pairs.map((x) => x["source_row"])).toEqual([0])
    expect(r!.votes.map((v) => [v["vote"], v["p_a"], v["order"]])).toEqual([
      ["a", 0.8, "ab"],
      ["a", 0.6, "ba"],
      ["a", expect.closeTo(0.7, 12), "ba"],
      ["b", expect.closeTo(0.45, 12), "ab"]
    ])
  })
})

describe("on the PandaLM test set, as load.pandalm writes its votes", () => {
  it("with the quickstart's settings, each kept pair holds the votes of its own row and of the twins merged into it", async () => {
    // (the shipped test set has no exact group whose labels disagree, so keep-first never applies there)
    const root = mkdtempSync(join(tmpdir(), "wb-dedupe-votes-"))
    const def = pipeline("votes", (p) => {
      const panda = p.node("panda", load.pandalm({ path: resolve("data/pandalm-testset"), maxRejectRate: 0.01 }))
      p.node("clean", dedupe.pairs({ normalize: "none" }), { pairs: panda, votes: panda.votes })
    })
    const res = await runPipeline(def, { root, workspace: join(root, ".wb"), threads: 2 })
    expect(res.report.status).toBe("ok")
    const t = res.nodes["clean"]!.tables
    const read = (table: string) =>
      runWithSql(
        Effect.gen(function* () {
          return yield* (yield* Sql).rows<Row>(`SELECT * FROM read_parquet('${t[table]}')`)
        })
      )
    const [pairs, votes, removed] = [await read("pairs"), await read("votes"), await read("removed")]
    expect(pairs.length + removed.length).toBe(993)
    const allowed = new Map<unknown, Set<number>>(pairs.map((x) => [x["pair_id"], new Set([Number(x["source_row"])])]))
    for (const x of removed) {
      if (String(x["reason"]).endsWith("-duplicate") && x["kept_pair_id"] !== null)
        allowed.get(x["kept_pair_id"])!.add(Number(x["source_row"]))
    }
    expect(votes.filter((v) => !allowed.get(v["pair_id"])?.has(rowOf(v)))).toEqual([])
    // every vote of a kept or merged row is there: 5 per row (3 annotators, 2 judges)
    expect(votes.length).toBe(5 * [...allowed.values()].reduce((s, x) => s + x.size, 0))
    // a merged pair holds one vote per rater and row: (pair_id, rater) repeats, meta.source_row differs
    const seen = new Set<string>()
    for (const v of votes) {
      const k = `${String(v["pair_id"])}|${String(v["rater"])}|${rowOf(v)}`
      expect(seen.has(k), k).toBe(false)
      seen.add(k)
    }
    expect(new Set(votes.map((v) => `${String(v["pair_id"])}|${String(v["rater"])}`)).size).toBeLessThan(votes.length)
  })
})
