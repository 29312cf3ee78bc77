import { DuckDBInstance } from "@duckdb/node-api"
import { Effect, Schema } from "effect"
import { mkdtempSync, existsSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { input, output, outputLike } from "../../workbench/core/contract.js"
import { DataError } from "../../workbench/core/errors.js"
import { defineNode } from "../../workbench/core/node.js"
import { pipeline } from "../../workbench/core/pipeline.js"
import { Sql } from "../../workbench/core/services.js"
import { runPipeline } from "../../workbench/run-pipeline.js"

const numbers = defineNode({
  kind: "test.numbers",
  version: 1,
  summary: "n rows",
  params: Schema.Struct({ n: Schema.Int }),
  inputs: {},
  outputs: { rows: output("main", { x: "int64" }) },
  run: ({ params }) =>
    Effect.gen(function* () {
      const sql = yield* Sql
      const t = sql.tempName("numbers")
      yield* sql.run(`CREATE TABLE ${t} AS SELECT range AS x FROM range(${params.n})`)
      return { tables: { rows: t }, rowsIn: params.n }
    })
})

const scale = defineNode({
  kind: "test.scale",
  version: 1,
  summary: "x * k",
  params: Schema.Struct({ k: Schema.Int.pipe(Schema.withDecodingDefaultKey(Effect.succeed(2))) }),
  inputs: { rows: input({ x: "int64" }, { many: true }) },
  outputs: { rows: outputLike("main", "rows") },
  run: ({ params, inputs }) =>
    Effect.gen(function* () {
      const sql = yield* Sql
      const t = sql.tempName("scale")
      yield* sql.run(`CREATE TABLE ${t} AS SELECT x * ${params.k} AS x FROM ${inputs.rows.relation}`)
      return { tables: { rows: t } }
    })
})

const fail = defineNode({
  kind: "test.fail",
  version: 1,
  summary: "always fails",
  params: Schema.Struct({}),
  inputs: { rows: input({ x: "int64" }) },
  outputs: { rows: outputLike("main", "rows") },
  run: () => Effect.fail(new DataError({ where: "test", found: "boom", expected: "no boom", fix: "none" }))
})

const build = (k: number, withFailure = false) =>
  pipeline("demo", (p) => {
    const a = p.node("a", numbers({ n: 10 }))
    const b = p.node("b", numbers({ n: 5 }))
    const both = p.node("both", scale({ k }), { rows: [a, b] })
    p.node("other", scale(), { rows: a })
    if (withFailure) {
      const f = p.node("f", fail(), { rows: a })
      p.node("after", scale(), { rows: f })
    }
    void both
  })

const statuses = (r: Awaited<ReturnType<typeof runPipeline>>) =>
  Object.fromEntries(r.report.nodes.map((n) => [n.name, n.status]))

// each test has its own workspace, so none depends on what another test cached or on their order
const freshRoot = () => mkdtempSync(join(tmpdir(), "wb-runner-"))
/** A workspace where build(3) has run once: every node of it cached. */
async function warmRoot(): Promise<string> {
  const root = freshRoot()
  expect(statuses(await runPipeline(build(3), { root, threads: 2 }))).toEqual({
    a: "ran",
    b: "ran",
    both: "ran",
    other: "ran"
  })
  return root
}

describe("runner", () => {
  it("runs, then serves everything from cache, then re-runs only what a param change touches", async () => {
    const root = freshRoot()
    const first = await runPipeline(build(3), { root, threads: 2 })
    expect(statuses(first)).toEqual({ a: "ran", b: "ran", both: "ran", other: "ran" })
    const both = first.report.nodes.find((n) => n.name === "both")!
    expect([both.rowsIn, both.rowsOut]).toEqual([15, 15])
    expect(existsSync(first.nodes["both"]!.tables["rows"]!)).toBe(true)

    const second = await runPipeline(build(3), { root, threads: 2 })
    expect(statuses(second)).toEqual({ a: "cached", b: "cached", both: "cached", other: "cached" })

    const third = await runPipeline(build(4), { root, threads: 2 })
    expect(statuses(third)).toEqual({ a: "cached", b: "cached", both: "ran", other: "cached" })
  })

  it("--only runs a node and its upstream; --from forces a node, and its downstream re-runs only if its output changed", async () => {
    const root = await warmRoot()
    const only = await runPipeline(build(7), { root, threads: 2, only: "both" })
    expect(statuses(only)).toEqual({ a: "cached", b: "cached", both: "ran", other: "skipped" })
    const from = await runPipeline(build(7), { root, threads: 2, from: "a" })
    // a wrote the same rows again: early cutoff keeps both and other cached (test/core/early-cutoff.test.ts)
    expect(statuses(from)).toEqual({ a: "ran", b: "cached", both: "cached", other: "cached" })
  })

  it("a failed node stops its downstream only, and the report says why", async () => {
    const root = await warmRoot()
    const r = await runPipeline(build(3, true), { root, threads: 2 })
    expect(statuses(r)).toEqual({
      a: "cached",
      b: "cached",
      both: "cached",
      other: "cached",
      f: "failed",
      after: "skipped"
    })
    expect(r.report.status).toBe("failed")
    const f = r.report.nodes.find((n) => n.name === "f")!
    expect(f.error).toContain("test: boom")
    expect(r.report.nodes.find((n) => n.name === "after")!.error).toBe('upstream "f" failed')
  })

  it("records runs, node executions, artifacts and lineage in .wb/meta.duckdb", async () => {
    const root = await warmRoot()
    expect(statuses(await runPipeline(build(3), { root, threads: 2 }))["both"]).toBe("cached")
    expect((await runPipeline(build(3, true), { root, threads: 2 })).report.status).toBe("failed")
    const db = await DuckDBInstance.create(join(root, ".wb", "meta.duckdb"), { access_mode: "READ_ONLY" })
    const con = await db.connect()
    const rows = async (q: string) => (await con.runAndReadAll(q)).getRowObjectsJS()
    expect(await rows(`SELECT status FROM runs ORDER BY started`)).toEqual([
      { status: "ok" },
      { status: "ok" },
      { status: "failed" }
    ])
    const both = await rows(`SELECT status, cache_hit, rows_in::INTEGER AS rows_in, rows_out::INTEGER AS rows_out
      FROM node_runs WHERE node = 'both' ORDER BY finished LIMIT 2`)
    expect(both).toEqual([
      { status: "ran", cache_hit: false, rows_in: 15, rows_out: 15 },
      { status: "cached", cache_hit: true, rows_in: 15, rows_out: 15 }
    ])
    const lineage =
      await rows(`SELECT l.input, a.node AS upstream FROM lineage l JOIN artifacts a ON a.artifact_key = l.input_key
      JOIN artifacts c ON c.artifact_key = l.artifact_key WHERE c.node = 'both' GROUP BY ALL ORDER BY upstream`)
    expect(lineage).toEqual([
      { input: "rows", upstream: "a" },
      { input: "rows", upstream: "b" }
    ])
    con.closeSync()
    db.closeSync()
  })

  it("runs independent branches side by side: waiting for inputs holds no concurrency slot", async () => {
    // listed depth first (a1, a2, b1, b2): with 2 slots taken by a1 and the waiting a2, b1 would start
    // only after a1; nodes hold a slot only while they execute
    const pause = defineNode({
      kind: "test.pause",
      version: 1,
      summary: "sleeps, then passes rows on",
      params: Schema.Struct({ ms: Schema.Int, tag: Schema.String }),
      inputs: { rows: input({ x: "int64" }, { optionalInput: true }) },
      outputs: { rows: output("main", { x: "int64" }) },
      run: ({ params }) =>
        Effect.gen(function* () {
          yield* Effect.sleep(params.ms)
          const sql = yield* Sql
          const t = sql.tempName("pause")
          yield* sql.run(`CREATE TABLE ${t} AS SELECT range AS x FROM range(3)`)
          return { tables: { rows: t }, rowsIn: 0 }
        })
    })
    const def = pipeline("branches", (p) => {
      const a1 = p.node("a1", pause({ ms: 600, tag: "a1" }))
      p.node("a2", pause({ ms: 10, tag: "a2" }), { rows: a1 })
      const b1 = p.node("b1", pause({ ms: 600, tag: "b1" }))
      p.node("b2", pause({ ms: 10, tag: "b2" }), { rows: b1 })
    })
    const order: Array<string> = []
    const r = await runPipeline(def, {
      root: mkdtempSync(join(tmpdir(), "wb-branches-")),
      concurrency: 2,
      threads: 2,
      onEvent: (e) => {
        if (e._tag === "NodeStarted") order.push(`start ${e.node}`)
        if (e._tag === "NodeFinished") order.push(`end ${e.report.name}`)
      }
    })
    expect(r.report.status).toBe("ok")
    expect(order.slice(0, 2).sort()).toEqual(["start a1", "start b1"])
    // and the bound holds: never more than 2 nodes executing at once
    let executing = 0,
      most = 0
    for (const e of order) {
      executing += e.startsWith("start") ? 1 : -1
      most = Math.max(most, executing)
    }
    expect(most).toBe(2)
  })

  it("rejects an unknown --only node with a did-you-mean", async () => {
    await expect(runPipeline(build(3), { root: freshRoot(), only: "bth" })).rejects.toMatchObject({
      _tag: "DataError",
      message: expect.stringContaining('did you mean "both"')
    })
  })
})
