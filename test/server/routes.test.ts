/** Each `wb serve` route against a real quickstart workspace (YAML pipeline run once by `wb run`). */
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { tableFromIPC } from "apache-arrow"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type RunningServer, startServer } from "../../workbench/server/server.js"
import { DuckDBInstance } from "@duckdb/node-api"
import { QID, QUICKSTART, quickstartProject } from "./workspace.js"

let server: RunningServer
let root = ""
const TOKEN = "k".repeat(43)

beforeAll(async () => {
  root = await quickstartProject()
  server = await startServer({ root, token: TOKEN })
}, 120_000)
afterAll(() => server?.close())

const call = (path: string, init: { method?: string; body?: unknown } = {}) =>
  fetch(server.origin + path, {
    method: init.method ?? "GET",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) })
  })
const json = async (path: string, init?: { method?: string; body?: unknown }) => {
  const r = await call(path, init)
  return { status: r.status, body: (await r.json()) as any }
}
const arrow = async (path: string) => {
  const r = await call(path)
  expect(r.headers.get("content-type")).toBe("application/vnd.apache.arrow.stream")
  return { res: r, table: tableFromIPC(new Uint8Array(await r.arrayBuffer())) }
}
const P = `/api/pipelines/${QID}`

describe("wb serve routes", { timeout: 120_000 }, () => {
  it("graph: the quickstart's 4 nodes in run order, cached, with rows, params schema and inputs", async () => {
    const { status, body } = await json(`${P}/graph`)
    expect(status).toBe(200)
    expect(body.nodes.map((n: any) => [n.name, n.kind, n.status])).toEqual([
      ["hh", "load.hh-rlhf", "cached"],
      ["panda", "load.pandalm", "cached"],
      ["clean", "dedupe.pairs", "cached"],
      ["summary", "report.summary", "cached"]
    ])
    const clean = body.nodes[2]
    expect([clean.rowsIn, clean.rowsOut, clean.edges]).toEqual([3305, 3145, ["hh", "panda"]])
    expect(clean.inputs.pairs).toEqual(["hh.pairs", "panda.pairs"])
    expect(clean.params.normalize).toBe("none")
    expect(clean.paramsSchema.properties.normalize).toBeDefined()
  })

  it("rows: keyset pages cover the table exactly once, in sort order, with filters and counts", async () => {
    const seen: Array<number> = []
    let after = ""
    let last = ""
    for (let i = 0; i < 100; i++) {
      const { res, table } = await arrow(`${P}/nodes/clean/tables/pairs/rows?limit=1000&sort=pair_id${after}`)
      expect(res.headers.get("x-wb-total")).toBe("3145")
      const ids = table.getChild("pair_id")!.toArray() as Array<string>
      for (const id of ids) {
        expect(id >= last).toBe(true)
        last = id
      }
      seen.push(...Array.from(table.getChild("__row")!.toArray() as Float64Array))
      const next = res.headers.get("x-wb-next")
      if (next === null) break
      after = `&after=${next}`
    }
    expect(seen.length).toBe(3145)
    expect(new Set(seen).size).toBe(3145)
    const { res, table } = await arrow(
      `${P}/nodes/clean/tables/main/rows?filter=${encodeURIComponent("source = 'pandalm'")}&limit=10`
    )
    expect(res.headers.get("x-wb-total")).toBe("837")
    expect(new Set(table.getChild("source")!.toArray())).toEqual(new Set(["pandalm"]))
    const bad = await json(`${P}/nodes/clean/tables/pairs/rows?sort=nope`)
    expect([bad.status, bad.body.found]).toEqual([400, 'no column "nope"'])
  })

  it("summary: per-column stats and a column's top values; a numeric histogram", async () => {
    const { body } = await json(`${P}/nodes/clean/tables/removed/summary?column=reason`)
    expect(body.rows).toBeGreaterThan(0)
    expect(body.columns.map((c: any) => c.name)).toContain("reason")
    const top = Object.fromEntries(body.column.top.map((t: any) => [t.value, t.n]))
    expect(Object.values(top).reduce((a: number, b: any) => a + b, 0)).toBe(body.rows)
    const hist = await json(`${P}/nodes/hh/tables/pairs/summary?column=source_row&bins=10`)
    expect(hist.body.column.histogram.length).toBe(10)
    expect(hist.body.column.histogram.reduce((a: number, h: any) => a + h.n, 0)).toBe(2312)
  })

  it("views: dedupe's funnel, binned in DuckDB, matches the removed table", async () => {
    const { res, table } = await arrow(`${P}/nodes/clean/views/funnel`)
    expect(res.headers.get("x-wb-view-kind")).toBe("bar")
    expect(table.schema.fields.map((f) => f.name)).toEqual(["x", "color", "y"])
    expect(Array.from(table.getChild("y")!.toArray() as Float64Array).reduce((a, b) => a + b, 0)).toBe(160)
    const missing = await json(`${P}/nodes/clean/views/nope`)
    expect(missing.status).toBe(404)
  })

  it("sql: a query over node tables comes back as Arrow", async () => {
    const r = await call("/api/sql", {
      method: "POST",
      body: { pipeline: QUICKSTART, sql: 'select reason, count(*) as n from "clean.removed" group by 1 order by 1' }
    })
    expect(r.status).toBe(200)
    const t = tableFromIPC(new Uint8Array(await r.arrayBuffer()))
    expect(t.schema.fields.map((f) => f.name)).toEqual(["reason", "n"])
    expect(Array.from(t.getChild("n")!.toArray() as Float64Array).reduce((a, b) => a + b, 0)).toBe(160)
  })

  it("labeling: two tabs never share a pair; votes land in the store and the Parquet snapshot; undo", async () => {
    const a = await json(`${P}/label/next?node=clean&user=ann&tab=1`)
    const b = await json(`${P}/label/next?node=clean&user=ann&tab=2`)
    expect(a.status).toBe(200)
    expect(a.body.pair_id).not.toBe(b.body.pair_id)
    expect(["ab", "ba"]).toContain(a.body.order)
    const vote = await json(`${P}/label`, {
      method: "POST",
      body: { node: "clean", user: "ann", tab: "1", pair_id: a.body.pair_id, vote: "a", order: a.body.order }
    })
    expect(vote.body).toEqual({ ok: true, pair_id: a.body.pair_id })
    const stolen = await json(`${P}/label`, {
      method: "POST",
      body: { node: "clean", user: "bob", pair_id: b.body.pair_id, vote: "b", order: "ab" }
    })
    expect(stolen.status).toBe(409)
    const snapshot = join(root, ".wb", "labels", "votes.parquet")
    expect(existsSync(snapshot)).toBe(true)
    const db = await DuckDBInstance.create(":memory:")
    const con = await db.connect()
    const rows = (
      await con.runAndReadAll(`select pair_id, rater, rater_kind, vote, "order" from '${snapshot}'`)
    ).getRowObjectsJS()
    con.closeSync()
    db.closeSync()
    expect(rows).toEqual([
      { pair_id: a.body.pair_id, rater: "ann", rater_kind: "human", vote: "a", order: a.body.order }
    ])
    const again = await json(`${P}/label/next?node=clean&user=ann&tab=1`)
    expect(again.body.pair_id).not.toBe(a.body.pair_id)
    expect(again.body.progress.labeled).toBe(1)
    const undo = await json(`${P}/label/undo`, { method: "POST", body: { node: "clean", user: "ann" } })
    expect(undo.body).toEqual({ ok: true, undone: a.body.pair_id })
  })

  it("params: a YAML edit is checked, written in place with comments kept, and makes clean stale", async () => {
    const bad = await json(`${P}/params`, {
      method: "POST",
      body: { node: "clean", param: "normalize", value: "loud" }
    })
    expect(bad.status).toBe(422)
    const file = join(root, QUICKSTART)
    const ok = await json(`${P}/params`, {
      method: "POST",
      body: { node: "clean", param: "normalize", value: "whitespace" }
    })
    expect(ok.body).toEqual({ saved: QUICKSTART, persisted: "yaml", notCached: ["clean", "summary"] })
    const text = readFileSync(file, "utf8")
    expect(text).toContain("# The YAML twin of quickstart.ts")
    expect(text).toContain("normalize: whitespace")
    const graph = await json(`${P}/graph`)
    expect(graph.body.nodes[2].status).toBe("stale")
  })

  it("run + events: a browser run streams its events; clean re-runs, the rest stays cached", async () => {
    const ctl = new AbortController()
    const res = await fetch(`${server.origin}/api/events?replay=0`, {
      headers: { authorization: `Bearer ${TOKEN}` },
      signal: ctl.signal
    })
    const reader = res.body!.getReader()
    const started = await json(`${P}/run`, { method: "POST", body: {} })
    expect(started.status).toBe(202)
    let text = ""
    while (!text.includes('"_tag":"RunFinished"')) {
      const { value, done } = await reader.read()
      if (done) break
      text += new TextDecoder().decode(value)
    }
    ctl.abort()
    const events = text
      .split("\n")
      .filter((l) => l.startsWith("data: "))
      .map((l) => JSON.parse(l.slice(6)))
    expect(events[0]._tag).toBe("RunStarted")
    const finished = events.at(-1).report.nodes.map((n: any) => [n.name, n.status])
    expect(finished).toEqual([
      ["hh", "cached"],
      ["panda", "cached"],
      ["clean", "ran"],
      ["summary", "cached"]
    ])
  })

  it("sql-node: a SQL cell saved as a transform.sql node in the YAML pipeline", async () => {
    const r = await json(`${P}/sql-node`, {
      method: "POST",
      body: { name: "short", sql: "select * from pairs where length(prompt) < 200", inputs: { pairs: "clean" } }
    })
    expect(r.status).toBe(201)
    const graph = await json(`${P}/graph`)
    expect(graph.body.nodes.map((n: any) => n.name)).toContain("short")
    const dup = await json(`${P}/sql-node`, { method: "POST", body: { name: "short", sql: "select 1", inputs: {} } })
    expect(dup.status).toBe(409)
  })
})
