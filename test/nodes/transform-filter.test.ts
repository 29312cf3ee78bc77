// filter.sql: rows where the condition is true are kept in input order, the others go to `removed` with
// the condition (and whether it gave false or NULL) as reason; votes follow the row they were cast on.
import { Effect, Schema } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { filter } from "../../nodes/filter/index.js"
import { load } from "../../nodes/load/index.js"
import type { InputTable } from "../../workbench/core/node.js"
import { pipeline } from "../../workbench/core/pipeline.js"
import { Sql } from "../../workbench/core/services.js"
import { runPipeline } from "../../workbench/run-pipeline.js"
import { inputTable, readParquet, runWithSql } from "../support/sql.js"

type Row = Record<string, unknown>

// (named src_*: the node shows its inputs to the condition as views named pairs and votes)
// pairs: p1 twice (same texts, rows 0 and 1, as PandaLM has), p2 (prompt 'drop'), p3, p4 (prompt NULL)
const SETUP = `
  CREATE TABLE src_pairs AS SELECT * FROM (VALUES
    ('p1', 'same', 'x', 'y', 'a', 0::BIGINT), ('p1', 'same', 'x', 'y', 'b', 1), ('p2', 'drop', 'x', 'y', 'a', 2),
    ('p3', 'keep', 'x', 'y', 'b', 3), ('p4', NULL, 'x', 'y', 'a', 4)
  ) t(pair_id, prompt, response_a, response_b, label, source_row);
  CREATE TABLE src_votes AS SELECT pair_id, rater, 'human' AS rater_kind, vote, NULL::DOUBLE AS p_a, meta::JSON AS meta FROM (VALUES
    ('p1', 'h1', 'a', '{"source_row": 0}'), ('p1', 'h2', 'b', '{"source_row": 1}'), ('p1', 'judge', 'a', NULL),
    ('p2', 'h1', 'a', '{"source_row": 2}'), ('p9', 'h1', 'b', NULL), ('p3', 'h3', 'b', '{"source_row": 3}'),
    ('p4', 'h1', 'a', '{"source_row": 4}')
  ) t(pair_id, rater, vote, meta);`

/** Run filter.sql on the inline tables and read back every output. */
const runFilter = (params: typeof filter.sql.definition.params.Encoded, withVotes = true) =>
  runWithSql(
    Effect.gen(function* () {
      const sql = yield* Sql
      yield* sql.run(SETUP)
      const inputs: { pairs: InputTable; votes?: InputTable } = { pairs: yield* inputTable(sql, "src_pairs") }
      if (withVotes) inputs.votes = yield* inputTable(sql, "src_votes")
      const decoded = Schema.decodeUnknownSync(filter.sql.definition.params)(params)
      const out = yield* filter.sql.definition.run({
        node: "f",
        kind: "filter.sql",
        params: decoded,
        inputs: inputs as never
      })
      const read = (t: "pairs" | "votes" | "removed") => sql.rows<Row>(`SELECT * FROM ${out.tables[t]}`)
      return {
        stats: out.stats,
        pairs: yield* read("pairs"),
        votes: yield* read("votes"),
        removed: yield* read("removed")
      }
    })
  )

const runFilterError = (where: string) =>
  runWithSql(
    Effect.gen(function* () {
      const sql = yield* Sql
      yield* sql.run(SETUP)
      const inputs = { pairs: yield* inputTable(sql, "src_pairs"), votes: yield* inputTable(sql, "src_votes") }
      const e = yield* Effect.flip(
        filter.sql.definition.run({ node: "f", kind: "filter.sql", params: { where }, inputs })
      )
      return e.message
    })
  )

describe("filter.sql", () => {
  it("keeps rows where the condition is true, removes the false and NULL ones with the condition as reason", async () => {
    const r = await runFilter({ where: "source_row <> 1 and prompt <> 'drop'" })
    expect(r.pairs.map((p) => p["source_row"])).toEqual([0, 3])
    expect(r.removed.map((p) => [p["source_row"], p["reason"]])).toEqual([
      [1, "where source_row <> 1 and prompt <> 'drop': false"],
      [2, "where source_row <> 1 and prompt <> 'drop': false"],
      [4, "where source_row <> 1 and prompt <> 'drop': null"]
    ])
    expect(Object.keys(r.removed[0]!)).toEqual([
      "pair_id",
      "prompt",
      "response_a",
      "response_b",
      "label",
      "source_row",
      "reason"
    ])
    expect(Object.keys(r.pairs[0]!)).toEqual(["pair_id", "prompt", "response_a", "response_b", "label", "source_row"])
    expect(r.stats).toMatchObject({ rows_in: 5, rows_out: 2, removed: 3, removed_null: 1 })
    expect(r.pairs.length + r.removed.length).toBe(5)
  })

  it("votes follow the row they were cast on; a vote naming no row follows its pair_id; others stay", async () => {
    const r = await runFilter({ where: "source_row <> 1 and prompt <> 'drop'" })
    // p1 row 0 stays (h1 kept), row 1 goes (h2 dropped), judge names no row: p1 still has a row (kept);
    // p2 and p4 go with their rows; p9 is not in the input: the filter removed nothing of it
    expect(r.votes.map((v) => `${v["pair_id"]}:${v["rater"]}`)).toEqual(["p1:h1", "p1:judge", "p9:h1", "p3:h3"])
    expect(r.stats).toMatchObject({ votes_in: 7, votes_out: 4, votes_dropped: 3 })
  })

  it("a vote naming no row is dropped when every row of its pair_id goes", async () => {
    const r = await runFilter({ where: "pair_id <> 'p1'" })
    expect(r.votes.map((v) => `${v["pair_id"]}:${v["rater"]}`)).toEqual(["p2:h1", "p9:h1", "p3:h3", "p4:h1"])
  })

  it("writes the reason param on removed rows; the condition may read the votes input", async () => {
    const r = await runFilter({
      where: "pair_id in (select pair_id from votes where rater = 'h1')",
      reason: "no h1 vote"
    })
    expect(r.pairs.map((p) => p["source_row"])).toEqual([0, 1, 2, 4])
    expect(r.removed.map((p) => [p["pair_id"], p["reason"]])).toEqual([["p3", "no h1 vote"]])
  })

  it("without votes: an empty votes table with the vote columns", async () => {
    const r = await runFilter({ where: "true" }, false)
    expect(r.pairs.length).toBe(5)
    expect(r.votes).toEqual([])
    expect(r.removed).toEqual([])
  })

  it("refuses what is not one condition over its inputs, saying what and how to fix it", async () => {
    expect(await runFilterError("length(prompt)")).toBe(
      'node "f" (filter.sql) param where: an expression of type int64, not a condition\n' +
        "  expected: a boolean expression (true keeps the row)\n" +
        "  fix: compare the value, e.g. length(prompt) < 2000, or label is not null"
    )
    expect(await runFilterError("count(*) > 1")).toContain(
      "DuckDB cannot run it: Binder Error: WHERE clause cannot contain aggregates!"
    )
    expect(await runFilterError("lenght(prompt) > 1")).toContain('fix: did you mean "length"? correct the expression')
    expect(await runFilterError("true) union all select * from pairs where (true")).toContain("a syntax error")
    expect(await runFilterError("true) as k, (false")).toContain("text that is not one expression")
    expect(await runFilterError("exists (select 1 from read_csv('/etc/passwd'))")).toContain(
      "table function read_csv() is not allowed"
    )
    expect(await runFilterError("promt is null")).toContain(
      'param where: column promt does not exist (DuckDB: Binder Error: Referenced column "promt" not found in FROM clause!)'
    )
  })
})

describe("filter.sql in a pipeline with PandaLM's votes", () => {
  it("keeps exactly the votes cast on kept rows (rows share pair_ids: votes name their row)", async () => {
    const def = pipeline("f", (p) => {
      const panda = p.node("panda", load.pandalm({ path: "data/pandalm-testset", maxRejectRate: 0.01 }))
      p.node("f", filter.sql({ where: "label = 'a'" }), { pairs: panda, votes: panda.votes })
    })
    const result = await runPipeline(def, {
      workspace: join(mkdtempSync(join(tmpdir(), "wb-filter-")), ".wb"),
      threads: 2
    })
    expect(result.report.status).toBe("ok")
    const read = (node: string, table: string) => readParquet(result.nodes[node]!.tables[table]!)
    const [pairs, votes, kept, keptVotes, removed] = await Promise.all([
      read("panda", "pairs"),
      read("panda", "votes"),
      read("f", "pairs"),
      read("f", "votes"),
      read("f", "removed")
    ])
    expect(kept.length + removed.length).toBe(pairs.length)
    expect(kept.every((p) => p["label"] === "a")).toBe(true)
    expect(
      removed.every(
        (p) => p["label"] !== "a" && p["reason"] === `where label = 'a': ${p["label"] === null ? "null" : "false"}`
      )
    ).toBe(true)
    // the row a vote was cast on: its pair_id and meta.source_row, as load.pandalm writes them
    const rowKept = new Map(pairs.map((p) => [`${p["pair_id"]}#${p["source_row"]}`, p["label"] === "a"]))
    const rowOf = (v: Row) => `${v["pair_id"]}#${(JSON.parse(String(v["meta"])) as { source_row: number }).source_row}`
    expect(votes.every((v) => rowKept.has(rowOf(v)))).toBe(true)
    const expected = votes.filter((v) => rowKept.get(rowOf(v)))
    expect(keptVotes.map(rowOf)).toEqual(expected.map(rowOf))
    expect(keptVotes.length).toBeGreaterThan(0)
    expect(keptVotes.length).toBeLessThan(votes.length)
    const f = result.report.nodes.find((n) => n.name === "f")!
    expect(f).toMatchObject({ rowsIn: pairs.length, rowsOut: kept.length, removed: removed.length })
    expect(f.stats).toMatchObject({ votes_in: votes.length, votes_out: keptVotes.length })
  })
})
