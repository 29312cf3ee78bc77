// transform.sql: the SELECT's output columns are worked out by DuckDB before anything runs (the infer
// phase over empty stand-ins of the upstream contracts), so `wb validate` names a misspelt column and the
// nodes after a transform are checked against its real columns; only reading SQL over the inputs runs.
import { Effect } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { load } from "../../nodes/load/index.js"
import { checkSelectTree, parseTree } from "../../nodes/lib/select-check.js"
import { transform } from "../../nodes/transform/index.js"
import { buildGraph } from "../../workbench/core/graph.js"
import { inferSchemas } from "../../workbench/core/infer.js"
import { pipeline, type PipelineDefinition } from "../../workbench/core/pipeline.js"
import { Sql } from "../../workbench/core/services.js"
import { SchemaProbeLive } from "../../workbench/io/schema-probe.js"
import { runPipeline } from "../../workbench/run-pipeline.js"
import { pipelineFile, REPO, wb } from "../e2e/cli-spawn.js"
import { readParquet, runWithSql } from "../support/sql.js"

const HH = "data/hh-rlhf-harmless-base/test.jsonl.gz"
const workspace = () => join(mkdtempSync(join(tmpdir(), "wb-transform-")), ".wb")

/** What `wb validate` does in-process: build the graph, then the infer phase on a real probe. */
const validate = (def: PipelineDefinition) =>
  Effect.runPromise(
    buildGraph(def, new Map(), { services: "any" }).pipe(Effect.flatMap(inferSchemas), Effect.provide(SchemaProbeLive))
  )

describe("wb validate checks SQL nodes against the upstream columns (e2e)", () => {
  it("names a misspelt column of a transform, a filter's condition and a split's param, listing what exists", async () => {
    const r = await wb(["validate", pipelineFile("transform-typo.ts")], { cwd: REPO })
    expect(r.code).toBe(1)
    const columns =
      "pair_id (utf8), prompt (utf8), response_a (utf8), response_b (utf8), label (utf8), label_source (utf8), " +
      "source (utf8), source_row (int64), prompt_format (utf8)"
    for (const line of [
      'pipeline "broken-transform" is invalid',
      '  node "short" (transform.sql) param sql: column promt does not exist (DuckDB: Binder Error: Referenced column "promt" not found in FROM clause!)',
      `    expected: a column of its inputs: pairs: ${columns}`,
      '    fix: did you mean "prompt"? correct the SQL, or produce the column upstream',
      '  node "kept" (filter.sql) param where: column respons_a does not exist',
      '    fix: did you mean "response_a" or "response_b"? correct the expression, or produce the column upstream',
      '  node "parts" (split.hash) param stratify: column lable does not exist in its input pairs',
      `    expected: a column of pairs: ${columns}`,
      '    fix: did you mean "label"? name an existing column, or produce lable upstream'
    ])
      expect(r.stderr).toContain(line)
    expect(r.stdout + r.stderr).not.toMatch(/^\s+at /m)
  })

  it("checks the nodes after a transform against the columns its SELECT gives", async () => {
    const r = await wb(["validate", pipelineFile("transform-downstream.ts")], { cwd: REPO })
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(
      '  node "clean" (dedupe.exact) needs columns response_a (utf8), response_b (utf8) on input "pairs"'
    )
    expect(r.stderr).toContain(
      '    its input comes from "ids" (transform.sql), whose rows table has: pair_id (utf8), prompt (utf8), a_wins (bool)'
    )
  })

  it("accepts a valid YAML pipeline of transform.sql, filter.sql and split.hash", async () => {
    const r = await wb(["validate", pipelineFile("transform-ok.yaml")], { cwd: REPO })
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect(r.stdout).toBe("pipeline transform-ok is valid · 4 nodes\n")
  })
})

describe("transform.sql output schema", () => {
  it("is the SELECT's columns and types before the run, and the run's table has exactly them", async () => {
    const sql =
      "select pair_id, prompt, length(prompt) as prompt_chars, label = 'a' as a_wins, 1.5 as w from pairs where label = 'a' order by pair_id"
    const def = pipeline("t", (p) => {
      const hh = p.node("hh", load.hhRlhf({ path: HH }))
      p.node("t", transform.sql({ sql: `${sql};  ` }), { pairs: hh })
    })
    const { graph, notes } = await validate(def)
    expect(notes).toEqual([])
    const inferred = graph.nodes.find((n) => n.name === "t")!.outputs["rows"]!
    expect(inferred).toEqual({
      open: false,
      columns: [
        { name: "pair_id", type: "utf8" },
        { name: "prompt", type: "utf8" },
        { name: "prompt_chars", type: "int64" },
        { name: "a_wins", type: "bool" },
        { name: "w", type: "float64" }
      ]
    })
    const result = await runPipeline(def, { workspace: workspace(), threads: 2 })
    expect(result.report.status).toBe("ok")
    const rows = await readParquet(result.nodes["t"]!.tables["rows"]!)
    // the pairs with label a, as the loader's own table counts them (about half of HH's 2,312: sides are drawn)
    const loaded = await readParquet(result.nodes["hh"]!.tables["pairs"]!)
    const labelA = loaded.filter((r) => r["label"] === "a").length
    expect(labelA).toBeGreaterThan(1000)
    expect(labelA).toBeLessThan(1312)
    expect(rows.length).toBe(labelA)
    expect(Object.keys(rows[0]!)).toEqual(["pair_id", "prompt", "prompt_chars", "a_wins", "w"])
    expect(rows.every((r) => r["a_wins"] === true && r["w"] === 1.5 && Number.isInteger(r["prompt_chars"]))).toBe(true)
    const ids = rows.map((r) => r["pair_id"] as string)
    expect(ids).toEqual([...ids].sort())
    expect(result.report.nodes[1]).toMatchObject({
      kind: "transform.sql",
      rowsIn: 2312,
      rowsOut: labelA,
      stats: { rows_in_pairs: 2312, rows_out: labelA }
    })
  })

  it("reads several inputs by their names (a join), each unioned from its tables", async () => {
    const def = pipeline("t2", (p) => {
      const a = p.node("a", load.trl({ path: "test/fixtures/data/trl-explicit.jsonl" }))
      const b = p.node("b", load.trl({ path: "test/fixtures/data/trl-implicit.jsonl" }))
      p.node(
        "j",
        transform.sql({
          sql: "select l.source, count(*) as n, count(r.pair_id) as also_right from lefts l left join rights r using (pair_id) group by all"
        }),
        { lefts: [a, b], rights: a }
      )
    })
    const result = await runPipeline(def, { workspace: workspace(), threads: 2 })
    expect(result.report.status).toBe("ok")
    const rows = await readParquet(result.nodes["j"]!.tables["rows"]!)
    // 4 + 3 rows on the left; the 4 of a match themselves, and the implicit "The sky is blue." splits into
    // the same prompt and responses as a's first pair, so it has the same pair_id
    expect(rows).toEqual([{ source: "trl", n: 7, also_right: 5 }])
    expect(result.report.nodes.find((n) => n.name === "j")).toMatchObject({
      rowsIn: 7,
      rowsOut: 1,
      stats: { rows_in_lefts: 7, rows_in_rights: 4 }
    })
  })

  it("over an input whose upstream passes columns through: a note at validate, checked for real when it runs", async () => {
    const def = (sql: string) =>
      pipeline("open", (p) => {
        const trl = p.node("trl", load.trl({ path: "test/fixtures/data/trl-explicit.jsonl" }))
        p.node("m", transform.sql({ sql }), { pairs: trl })
      })
    const good = await validate(def("select prompt, score_chosen - score_rejected as margin from pairs"))
    expect(good.notes.map((n) => n.text)).toEqual([
      "column score_chosen is not among the columns pairs is known to have; its upstream may pass more columns through, so it is checked when the node runs"
    ])
    const ran = await runPipeline(def("select prompt, score_chosen - score_rejected as margin from pairs"), {
      workspace: workspace(),
      threads: 2
    })
    expect((await readParquet(ran.nodes["m"]!.tables["rows"]!)).map((r) => r["margin"])).toEqual([6.5, 9, 8, 6.5])

    const bad = await runPipeline(def("select prompt, score_chosn from pairs"), { workspace: workspace(), threads: 2 })
    const m = bad.report.nodes.find((n) => n.name === "m")!
    expect(m.status).toBe("failed")
    expect(m.error).toContain('node "m" (transform.sql) param sql: column score_chosn does not exist')
    expect(m.error).toContain("score_chosen (float64), score_rejected (float64)")
    expect(m.error).toContain('fix: did you mean "score_chosen"? correct the SQL, or produce the column upstream')
  })

  it("refuses a SELECT that gives one column name twice (a table would rename it without a word)", async () => {
    const def = pipeline("dup", (p) => {
      const hh = p.node("hh", load.hhRlhf({ path: HH }))
      p.node("t", transform.sql({ sql: "select a.prompt, b.* from pairs a join pairs b using (pair_id)" }), {
        pairs: hh
      })
    })
    const error = await validate(def).then(
      () => undefined,
      (e: unknown) => e
    )
    expect((error as Error).message).toContain(
      'node "t" (transform.sql) param sql: the SELECT gives column prompt more than once (names are compared without case)\n' +
        "    expected: one output column per name: tables are stored and read by column name\n" +
        "    fix: alias one of them, e.g. `b.prompt as prompt_2`, or list the columns instead of `*`"
    )
  })

  it("a failed check stops the run before any node starts", async () => {
    const def = pipeline("stop", (p) => {
      const hh = p.node("hh", load.hhRlhf({ path: HH }))
      p.node("t", transform.sql({ sql: "select nope from pairs" }), { pairs: hh })
    })
    const error = await runPipeline(def, { workspace: workspace(), threads: 2 }).then(
      () => undefined,
      (e: unknown) => e
    )
    expect(error).toMatchObject({ _tag: "PipelineInvalidError" })
    expect((error as Error).message).toContain('node "t" (transform.sql) param sql: column nope does not exist')
  })
})

describe("transform.sql runs only reading SQL over its inputs", () => {
  const inputs = ["pairs", "votes"]
  const check = (text: string) =>
    runWithSql(
      Effect.gen(function* () {
        return checkSelectTree(yield* parseTree(yield* Sql, text), inputs, "select * from pairs")
      })
    )
  const refused: Array<[string, string]> = [
    ["create table x as select 1", "a statement that is not a SELECT"],
    ["copy pairs to '/tmp/x.csv'", "a statement that is not a SELECT"],
    ["attach '/tmp/other.duckdb' as o", "a statement that is not a SELECT"],
    ["set threads = 1", "a statement that is not a SELECT"],
    ["select 1; drop table pairs", "a statement that is not a SELECT"],
    ["select 1; select 2", "2 statements"],
    ["select * from read_csv('/etc/passwd')", "table function read_csv() is not allowed"],
    ["select * from pairs, read_parquet('x.parquet')", "table function read_parquet() is not allowed"],
    ["select * from glob('*')", "table function glob() is not allowed"],
    ["select * from query_table('wb_x')", "table function query_table() is not allowed"],
    ["select * from main.pairs", "table main.pairs is not an input of this node"],
    ["select * from pair", 'table pair is not an input of this node; did you mean "pairs"?'],
    ["select * from (with t as (select 1) select * from t), t", "table t is not an input of this node"],
    ["select (select count(*) from wb_other_table) from pairs", "table wb_other_table is not an input of this node"],
    ["selec * from pairs", "a syntax error"]
  ]
  for (const [text, found] of refused) {
    it(`refuses: ${text}`, async () => {
      const r = await check(text)
      expect(r._tag).toBe("Refused")
      expect(r._tag === "Refused" ? r.found : "").toContain(found)
    })
  }
  const allowed: Array<[string, boolean]> = [
    ["select prompt from pairs", false],
    ["select * from PAIRS join Votes using (pair_id)", true],
    ["with t as (select * exclude (prompt) from pairs) select count(*) from t", true],
    ["with recursive r(n) as (select 1 union all select n + 1 from r where n < 3) select * from r", true],
    ["select unnest([1, 2]) as x, g.* from generate_series(1, 3) g", true],
    ["from pairs select prompt", false]
  ]
  for (const [text, star] of allowed) {
    it(`allows: ${text}`, async () => {
      expect(await check(text)).toMatchObject({ _tag: "Ok", star })
    })
  }
})
