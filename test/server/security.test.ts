/** `wb serve`'s fences: token, Host/Origin, traversal on every path-taking route, the SQL sandbox, runaway queries. */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type RunningServer, startServer } from "../../workbench/server/server.js"
import { QID, QUICKSTART, quickstartProject, raw } from "./workspace.js"

let server: RunningServer
const TOKEN = "t".repeat(43)
const auth = { authorization: `Bearer ${TOKEN}` }

beforeAll(async () => {
  server = await startServer({ root: await quickstartProject(), token: TOKEN })
}, 120_000)
afterAll(() => server?.close())

/** The 12 traversal forms of the browser-workbench guide §3, and a few more. */
const TRAVERSALS = [
  "../etc/passwd",
  "..%2fetc%2fpasswd",
  "%2e%2e/etc/passwd",
  "%2E%2E/etc/passwd",
  "%2e%2e%2fetc%2fpasswd",
  "..%5cetc%5cpasswd",
  "..%2f..%2f..%2f..%2fetc%2fpasswd",
  "%00",
  "%252e%252e%252fetc",
  "%c0%ae%c0%ae/etc/passwd",
  "..\\..\\etc\\passwd",
  "%e0%80%ae%e0%80%ae/etc",
  "....//....//etc/passwd"
]

describe("wb serve: who may call", { timeout: 60_000 }, () => {
  it("no token or a wrong one: 401; the right bearer: 200", async () => {
    expect((await raw(server.port, "/api/pipelines")).status).toBe(401)
    expect((await raw(server.port, "/api/pipelines", { headers: { authorization: "Bearer nope" } })).status).toBe(401)
    expect(
      (await raw(server.port, "/api/pipelines", { headers: { cookie: `wb_token_${server.port}=nope` } })).status
    ).toBe(401)
    expect((await raw(server.port, "/nonexistent")).status).toBe(401)
    expect((await raw(server.port, "/api/pipelines", { headers: auth })).status).toBe(200)
  })

  it("?token= sets an HttpOnly SameSite=Strict cookie named by port and redirects; the cookie then works", async () => {
    const login = await raw(server.port, `/?token=${TOKEN}`)
    expect(login.status).toBe(302)
    expect(login.headers.location).toBe("/")
    const cookie = String(login.headers["set-cookie"])
    expect(cookie).toBe(`wb_token_${server.port}=${TOKEN}; HttpOnly; SameSite=Strict; Path=/`)
    const ok = await raw(server.port, "/api/pipelines", { headers: { cookie: cookie.split(";")[0]! } })
    expect(ok.status).toBe(200)
    expect(JSON.parse(ok.body.toString()).pipelines).toEqual([{ id: QUICKSTART, format: "yaml" }])
  })

  it("a foreign Host or Origin, or a cross-site fetch: 403, even with the token", async () => {
    const host = await raw(server.port, "/api/pipelines", { headers: { ...auth, host: `evil.example:${server.port}` } })
    expect([host.status, host.body.toString()]).toEqual([
      403,
      `forbidden: Host "evil.example:${server.port}" is not this server`
    ])
    const origin = await raw(server.port, "/api/pipelines", { headers: { ...auth, origin: "http://evil.example" } })
    expect(origin.status).toBe(403)
    const other = await raw(server.port, "/api/pipelines", {
      headers: { ...auth, origin: `http://127.0.0.1:${server.port + 1}` }
    })
    expect(other.status).toBe(403)
    const site = await raw(server.port, "/api/pipelines", { headers: { ...auth, "sec-fetch-site": "cross-site" } })
    expect(site.status).toBe(403)
    const same = await raw(server.port, "/api/pipelines", {
      headers: { ...auth, origin: `http://127.0.0.1:${server.port}` }
    })
    expect(same.status).toBe(200)
  })
})

describe("wb serve: traversal is a 404 on every path-taking route", { timeout: 120_000 }, () => {
  const routes = (t: string) => [
    `/${t}`,
    `/assets/${t}`,
    `/api/pipelines/${t}/graph`,
    `/api/pipelines/${QID}%2f..%2f..%2fpackage.json/graph`,
    `/api/pipelines/${QID}/nodes/${t}/tables/main/rows`,
    `/api/pipelines/${QID}/nodes/clean/tables/${t}/rows`,
    `/api/pipelines/${QID}/nodes/clean/tables/${t}/summary`,
    `/api/pipelines/${QID}/nodes/clean/views/${t}`,
    `/api/pipelines/${QID}/nodes/${t}/views/funnel`
  ]
  it.each(TRAVERSALS)("%s", async (t) => {
    for (const path of routes(t)) {
      const res = await raw(server.port, path, { headers: auth })
      expect([path, res.status]).toEqual([path, 404])
      expect(res.body.toString()).not.toContain("root:")
    }
  })
})

describe("wb serve: SQL is read-only and time-limited", { timeout: 120_000 }, () => {
  const sql = (query: string, extra: Record<string, unknown> = {}) =>
    raw(server.port, "/api/sql", {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ pipeline: QUICKSTART, sql: query, ...extra })
    })

  it.each([
    ["COPY clean TO '/tmp/x.csv'", /a COPY statement; the sandbox is read-only/],
    ["ATTACH '/tmp/x.duckdb' AS x", /an ATTACH statement; the sandbox is read-only/],
    ["INSTALL httpfs", /an INSTALL statement; the sandbox is read-only/],
    ["select * from read_text('/etc/passwd')", /table function read_text\(\) is not allowed/],
    ["select 1; drop table clean", /2 statements/]
  ])("%s is refused with a clear message", async (query, message) => {
    const res = await sql(query)
    expect([res.status, res.body.toString()]).toEqual([400, expect.any(String)])
    const body = JSON.parse(res.body.toString())
    expect(body.error).toBe("refused")
    expect(body.message).toMatch(message)
  })

  it("a filter expression goes through the same allowlist", async () => {
    const filter = encodeURIComponent("1=1) union all select * from read_text('/etc/passwd') --")
    const res = await raw(server.port, `/api/pipelines/${QID}/nodes/clean/tables/main/rows?filter=${filter}`, {
      headers: auth
    })
    expect(res.status).toBe(400)
    expect(JSON.parse(res.body.toString()).found).toBe("table function read_text() is not allowed")
  })

  it("a runaway query is stopped at its limit, and the server keeps answering meanwhile", async () => {
    const started = performance.now()
    const runaway = sql("select count(*) from range(1000000000000) a, range(1000000) b", { timeout: 1 })
    const meanwhile = await raw(server.port, "/api/pipelines", { headers: auth })
    expect(meanwhile.status).toBe(200)
    const res = await runaway
    expect(res.status).toBe(408)
    expect(JSON.parse(res.body.toString()).found).toBe("the query ran past its time limit of 1 s and was stopped")
    expect(performance.now() - started).toBeLessThan(15_000)
    expect((await sql("select count(*) as n from clean")).status).toBe(200)
  })
})
