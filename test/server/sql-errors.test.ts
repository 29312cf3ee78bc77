/**
 * A SQL cell's or a table filter's DuckDB error, in the house style: an unknown column lists the columns
 * of the tables the query names, an unknown table lists the pipeline's tables, a syntax error gives its
 * line and column with a caret. Against a real server on a quickstart workspace run by `wb run`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type RunningServer, startServer } from "../../workbench/server/server.js"
import { QID, QUICKSTART, quickstartProject } from "./workspace.js"

let server: RunningServer
const TOKEN = "e".repeat(43)

beforeAll(async () => {
  server = await startServer({ root: await quickstartProject(), token: TOKEN })
}, 120_000)
afterAll(() => server?.close())

const sqlCell = async (sql: string) => {
  const r = await fetch(`${server.origin}/api/sql`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ pipeline: QUICKSTART, sql })
  })
  return { status: r.status, body: (await r.json()) as Record<string, string> }
}
const filter = async (expr: string) => {
  const r = await fetch(
    `${server.origin}/api/pipelines/${QID}/nodes/clean/tables/removed/rows?filter=${encodeURIComponent(expr)}`,
    { headers: { authorization: `Bearer ${TOKEN}` } }
  )
  return { status: r.status, body: (await r.json()) as Record<string, string> }
}

describe("SQL errors in the house style", { timeout: 60_000 }, () => {
  it("an unknown column lists the columns of the table the query names, with a close match", async () => {
    const { status, body } = await sqlCell(`select reasn, count(*) from "clean.removed" group by 1`)
    expect(status).toBe(400)
    expect(body["where"]).toBe('SQL cell: column "reasn"')
    expect(body["found"]).toBe('no column "reasn" in "clean.removed"')
    expect(body["expected"]).toMatch(/^a column of "clean\.removed": .*"reason"/)
    expect(body["expected"]).not.toContain('"hh"') // only the table named
    expect(body["fix"]).toBe('did you mean "reason"?')
    expect(body["message"]).toContain("\n  expected: a column of")
  })

  it("an unknown table lists the pipeline's tables", async () => {
    const { status, body } = await sqlCell("select * from cleen")
    expect(status).toBe(400)
    expect(body["found"]).toBe('no table "cleen"')
    expect(body["expected"]).toContain('"clean", "clean.pairs", "clean.votes", "clean.removed"')
    expect(body["expected"]).toContain('"hh"')
    expect(body["fix"]).toContain('did you mean "clean"')
  })

  it("a syntax error says its line and column and points at it", async () => {
    const { status, body } = await sqlCell(`select *\nform "clean"`)
    expect(status).toBe(400)
    expect(body["where"]).toBe("SQL cell, line 2, column 6")
    expect(body["found"]).toBe('a syntax error at or near ""clean""\nform "clean"\n     ^')
    expect(body["fix"]).toBe("correct the query at the ^ (line 2, column 6)")
  })

  it("a table filter's unknown column lists that table's columns; its syntax error points into the filter", async () => {
    const col = await filter("reasn = 'exact'")
    expect(col.status).toBe(400)
    expect(col.body["where"]).toBe('filter: column "reasn"')
    expect(col.body["expected"]).toMatch(/^a column of "clean\.removed": .*"reason"/)
    expect(col.body["fix"]).toBe('did you mean "reason"?')
    const syntax = await filter("reason = = 'exact'")
    expect(syntax.status).toBe(400)
    expect(syntax.body["where"]).toBe("filter, line 1, column 10")
    expect(syntax.body["found"]).toContain("reason = = 'exact'\n         ^")
  })
})
