// Early cutoff: a node's key hashes the content of the tables it reads, not its upstream's key, so an
// upstream that re-runs and writes the same bytes leaves everything below it cached. Each node counts
// the times its `run` is called, so the tests assert which nodes really ran, not only their statuses.
import { Effect, Schema } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { input, output, outputLike } from "../../workbench/core/contract.js"
import { buildGraph } from "../../workbench/core/graph.js"
import { defineNode } from "../../workbench/core/node.js"
import { pipeline } from "../../workbench/core/pipeline.js"
import { Sql } from "../../workbench/core/services.js"
import { cacheStates } from "../../workbench/io/catalog/artifacts.js"
import { readManifest } from "../../workbench/io/parquet-store.js"
import { runPipeline } from "../../workbench/run-pipeline.js"

const calls = new Map<string, number>()
const called = (node: string) => calls.set(node, (calls.get(node) ?? 0) + 1)

/** `n` rows x = 0..n-1; `note` is recorded in the key but changes no row. */
const source = defineNode({
  kind: "cutoff.source",
  version: 1,
  summary: "n rows; note ignored",
  params: Schema.Struct({ n: Schema.Int, note: Schema.String }),
  inputs: {},
  outputs: { rows: output("main", { x: "int64" }) },
  run: ({ node, params }) =>
    Effect.gen(function* () {
      called(node)
      const sql = yield* Sql
      const t = sql.tempName("source")
      yield* sql.run(`CREATE TABLE ${t} AS SELECT range AS x FROM range(${params.n})`)
      return { tables: { rows: t }, rowsIn: params.n }
    })
})

/** Rows where `cond` holds, in input order. */
const where = defineNode({
  kind: "cutoff.where",
  version: 1,
  summary: "rows where cond holds",
  params: Schema.Struct({ cond: Schema.String }),
  inputs: { rows: input({ x: "int64" }) },
  outputs: { rows: outputLike("main", "rows") },
  run: ({ node, params, inputs }) =>
    Effect.gen(function* () {
      called(node)
      const sql = yield* Sql
      const t = sql.tempName("where")
      yield* sql.run(`CREATE TABLE ${t} AS SELECT * FROM ${inputs.rows.relation} WHERE ${params.cond}`)
      return { tables: { rows: t } }
    })
})

/** x * 2. */
const double = defineNode({
  kind: "cutoff.double",
  version: 1,
  summary: "x * 2",
  params: Schema.Struct({}),
  inputs: { rows: input({ x: "int64" }) },
  outputs: { rows: outputLike("main", "rows") },
  run: ({ node, inputs }) =>
    Effect.gen(function* () {
      called(node)
      const sql = yield* Sql
      const t = sql.tempName("double")
      yield* sql.run(`CREATE TABLE ${t} AS SELECT x * 2 AS x FROM ${inputs.rows.relation}`)
      return { tables: { rows: t } }
    })
})

/** One row: whether any x is even. The same answer for most inputs, so its own downstream can stay cached. */
const anyEven = defineNode({
  kind: "cutoff.any-even",
  version: 1,
  summary: "whether any x is even",
  params: Schema.Struct({}),
  inputs: { rows: input({ x: "int64" }) },
  outputs: { flag: output("main", { even: "bool" }) },
  run: ({ node, inputs }) =>
    Effect.gen(function* () {
      called(node)
      const sql = yield* Sql
      const t = sql.tempName("flag")
      yield* sql.run(
        `CREATE TABLE ${t} AS SELECT coalesce(bool_or(x % 2 = 0), false) AS even FROM ${inputs.rows.relation}`
      )
      return { tables: { flag: t } }
    })
})

const report = defineNode({
  kind: "cutoff.report",
  version: 1,
  summary: "passes the flag on",
  params: Schema.Struct({}),
  inputs: { flag: input({ even: "bool" }) },
  outputs: { flag: outputLike("main", "flag") },
  run: ({ node, inputs }) =>
    Effect.gen(function* () {
      called(node)
      const sql = yield* Sql
      const t = sql.tempName("report")
      yield* sql.run(`CREATE TABLE ${t} AS SELECT * FROM ${inputs.flag.relation}`)
      return { tables: { flag: t } }
    })
})

/** src → keep → double → flag → report, and side ← src. */
const build = (o: { note?: string; cond?: string } = {}) =>
  pipeline("cutoff", (p) => {
    const src = p.node("src", source({ n: 20, note: o.note ?? "first" }))
    const keep = p.node("keep", where({ cond: o.cond ?? "x >= 0" }), { rows: src })
    const doubled = p.node("double", double(), { rows: keep })
    const flag = p.node("flag", anyEven(), { rows: doubled })
    p.node("report", report(), { flag })
    p.node("side", where({ cond: "x < 10" }), { rows: src })
  })

const NODES = ["src", "keep", "double", "flag", "report", "side"] as const

/** Run, and return each node's status and which nodes' `run` was called. */
async function run(
  root: string,
  def: ReturnType<typeof build>,
  options: { from?: string; force?: boolean; only?: string } = {}
) {
  calls.clear()
  const r = await runPipeline(def, { root, threads: 2, ...options })
  expect(r.report.status).toBe("ok")
  return {
    statuses: Object.fromEntries(r.report.nodes.map((n) => [n.name, n.status])),
    ran: NODES.filter((n) => calls.has(n)),
    keys: Object.fromEntries(r.report.nodes.map((n) => [n.name, n.key]))
  }
}

const all = (status: string) => Object.fromEntries(NODES.map((n) => [n, status]))
const freshRoot = () => mkdtempSync(join(tmpdir(), "wb-cutoff-"))

/** `wb ls`'s states, as tags (with the upstream nodes a waiting node names). */
const states = (root: string, def: ReturnType<typeof build>) => {
  const graph = Effect.runSync(buildGraph(def, new Map(), { services: "any" }))
  return Object.fromEntries(
    cacheStates(graph, root, join(root, ".wb")).map((s) => [
      s.node.name,
      s.state._tag === "Upstream" ? `Upstream(${s.state.upstream.join(",")})` : s.state._tag
    ])
  )
}

describe("early cutoff", () => {
  it("an upstream param change that leaves its output identical re-runs that node only", async () => {
    const root = freshRoot()
    const first = await run(root, build())
    expect(first.statuses).toEqual(all("ran"))
    expect(first.ran).toEqual([...NODES])

    const noted = await run(root, build({ note: "second" }))
    expect(noted.statuses).toEqual({ ...all("cached"), src: "ran" })
    expect(noted.ran).toEqual(["src"])
    // src has a new key (its params changed); below it every key is the one of the first run
    expect(noted.keys["src"]).not.toBe(first.keys["src"])
    expect({ ...noted.keys, src: "" }).toEqual({ ...first.keys, src: "" })

    // a filter whose new condition keeps the same rows: it runs, nothing below it does
    const same = await run(root, build({ note: "second", cond: "x > -1" }))
    expect(same.statuses).toEqual({ ...all("cached"), keep: "ran" })
    expect(same.ran).toEqual(["keep"])
  })

  it("a changed output re-runs the downstream, which cuts off again where its own output is unchanged", async () => {
    const root = freshRoot()
    await run(root, build())
    const fewer = await run(root, build({ cond: "x > 5" }))
    // keep and double write fewer rows; flag reads different rows but writes the same answer (true), so report stays cached
    expect(fewer.statuses).toEqual({
      src: "cached",
      keep: "ran",
      double: "ran",
      flag: "ran",
      report: "cached",
      side: "cached"
    })
    expect(fewer.ran).toEqual(["keep", "double", "flag"])
    // back to the first condition: every artifact of the first run still matches
    const back = await run(root, build())
    expect(back.statuses).toEqual(all("cached"))
  })

  it("--from re-runs its node; identical output leaves the downstream cached; --force re-runs all", async () => {
    const root = freshRoot()
    await run(root, build())
    const from = await run(root, build(), { from: "src" })
    expect(from.statuses).toEqual({ ...all("cached"), src: "ran" })
    expect(from.ran).toEqual(["src"])
    const middle = await run(root, build(), { from: "double" })
    expect(middle.ran).toEqual(["double"])
    const force = await run(root, build(), { force: true })
    expect(force.ran).toEqual([...NODES])
    // --only with a changed upstream: the selection runs, and cutoff still holds inside it
    const only = await run(root, build({ note: "other" }), { only: "double" })
    expect(only.statuses).toEqual({
      src: "ran",
      keep: "cached",
      double: "cached",
      flag: "skipped",
      report: "skipped",
      side: "skipped"
    })
  })

  it("the manifest records each input's artifact key (lineage) and content hash (the key's part)", async () => {
    const root = freshRoot()
    const first = await run(root, build())
    const dir = join(root, ".wb")
    const src1 = readManifest(dir, first.keys["src"]!)!
    const keep = readManifest(dir, first.keys["keep"]!)!
    expect(keep.inputs).toEqual({ rows: [{ key: src1.key, table: "rows", hash: src1.tables["rows"]!.hash }] })
    expect(src1.tables["rows"]!.hash).toMatch(/^sha256:[0-9a-f]{64}$/)

    const noted = await run(root, build({ note: "second" }))
    const src2 = readManifest(dir, noted.keys["src"]!)!
    // the two src artifacts are byte-identical Parquet files under different keys
    expect(src2.key).not.toBe(src1.key)
    expect(src2.tables["rows"]!.hash).toBe(src1.tables["rows"]!.hash)
    // keep stayed cached: its artifact still names the src artifact it was computed from
    expect(readManifest(dir, noted.keys["keep"]!)!.inputs["rows"]![0]!.key).toBe(src1.key)
  })

  it("two nodes with one key (same kind and params over identical tables) share one artifact, computed once", async () => {
    const root = freshRoot()
    const twins = pipeline("twins", (p) => {
      const src = p.node("src", source({ n: 20, note: "x" }))
      const keep = p.node("keep", where({ cond: "x >= 0" }), { rows: src }) // all rows: the same bytes as src
      p.node("a", double(), { rows: src })
      p.node("b", double(), { rows: keep })
    })
    const notes: Array<string> = []
    calls.clear()
    const r = await runPipeline(twins, {
      root,
      threads: 2,
      concurrency: 4,
      onEvent: (e) => void (e._tag === "NodeNote" && notes.push(`${e.node}: ${e.text}`))
    })
    const status = Object.fromEntries(r.report.nodes.map((n) => [n.name, n.status]))
    expect([status["a"], status["b"]].sort()).toEqual(["cached", "ran"])
    expect((calls.get("a") ?? 0) + (calls.get("b") ?? 0)).toBe(1)
    const [first, second] = status["a"] === "ran" ? ["a", "b"] : ["b", "a"]
    expect(notes).toContain(`${second}: same kind, params and input content as "${first}": served from its artifact`)
    expect(r.report.nodes.find((n) => n.name === "a")!.key).toBe(r.report.nodes.find((n) => n.name === "b")!.key)
    // --force runs the first; the second is served the artifact the first just wrote
    calls.clear()
    const forced = await runPipeline(twins, { root, threads: 2, force: true })
    expect(forced.report.status).toBe("ok")
    expect((calls.get("a") ?? 0) + (calls.get("b") ?? 0)).toBe(1)
  })

  it("wb ls states: a node below an upstream that must run first waits; after the run, cutoff shows as cached", async () => {
    const root = freshRoot()
    expect(states(root, build())).toEqual(all("NotRun"))
    await run(root, build())
    expect(states(root, build())).toEqual(all("Cached"))

    const noted = build({ note: "second" })
    // src's params changed: it is stale, and every key below it waits on what src will write
    expect(states(root, noted)).toEqual({
      src: "Stale",
      keep: "Upstream(src)",
      double: "Upstream(keep)",
      flag: "Upstream(double)",
      report: "Upstream(flag)",
      side: "Upstream(src)"
    })
    await run(root, noted, { only: "src" })
    // only src ran, and it wrote the same rows: every other node is cached without running
    expect(states(root, noted)).toEqual(all("Cached"))

    const fewer = build({ note: "second", cond: "x > 5" })
    expect(states(root, fewer)).toMatchObject({
      src: "Cached",
      keep: "Stale",
      double: "Upstream(keep)",
      side: "Cached"
    })
    await run(root, fewer, { only: "keep" })
    // keep's new rows are known now: double has no artifact for them (stale); flag waits on double
    expect(states(root, fewer)).toEqual({
      src: "Cached",
      keep: "Cached",
      double: "Stale",
      flag: "Upstream(double)",
      report: "Upstream(flag)",
      side: "Cached"
    })
  })
})
