/**
 * Two real `wb serve` processes on one workspace: the second is refused with a message that names the
 * first's PID and the labels file (not DuckDB's lock text), and a lease handed out before a restart is
 * still honoured after it, so a restarted server never gives one pair to two tabs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startWb } from "../e2e/cli-spawn.js"
import { type Served, serve } from "../browser/harness.js"
import { QID, quickstartProject } from "./workspace.js"

let root = ""
let first: Served | undefined
let second: Served | undefined

beforeAll(async () => {
  root = await quickstartProject()
}, 120_000)
afterAll(async () => {
  await first?.stop()
  await second?.stop()
})

const call = async (s: Served, path: string, body?: unknown) => {
  const r = await fetch(s.origin + path, {
    method: body === undefined ? "GET" : "POST",
    headers: { authorization: `Bearer ${s.token}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  return { status: r.status, body: (await r.json()) as Record<string, any> }
}
const next = (s: Served, tab: string) => call(s, `/api/pipelines/${QID}/label/next?node=clean&user=ann&tab=${tab}`)

describe("wb serve on one workspace, twice and across a restart", { timeout: 180_000 }, () => {
  it("a second wb serve is refused, naming the first one's PID and the labels file", async () => {
    first = await serve(root)
    const other = await startWb(["serve", root, "--port", "0"], { cwd: root }).done
    expect(other.code).toBe(1)
    expect(other.stderr).toContain(
      `wb serve: the labels store ${root}/.wb/labels.duckdb: it is locked by another process (PID ${first.pid})`
    )
    expect(other.stderr).toContain("expected: one wb serve per workspace")
    expect(other.stderr).toContain(`fix: open the URL the running wb serve printed, or stop it (kill ${first.pid})`)
    expect(other.stderr).not.toMatch(/IO Error|\n\s+at /) // neither DuckDB's text nor a stack
    // the first one still answers
    expect((await call(first, "/api/pipelines")).status).toBe(200)
  })

  it("a lease survives a restart: the pair leased to tab 1 is not given to tab 2, nor voted by another tab", async () => {
    const leased = await next(first!, "1")
    expect(leased.status).toBe(200)
    await first!.stop()
    first = undefined
    second = await serve(root)
    const other = await next(second, "2")
    expect(other.status).toBe(200)
    expect(other.body["pair_id"]).not.toBe(leased.body["pair_id"])
    const stolen = await call(second, `/api/pipelines/${QID}/label`, {
      node: "clean",
      user: "bob",
      tab: "9",
      pair_id: leased.body["pair_id"],
      vote: "a",
      order: "ab"
    })
    expect([stolen.status, stolen.body["error"]]).toEqual([409, "leased"])
    // the tab that holds it can still vote on it
    const vote = await call(second, `/api/pipelines/${QID}/label`, {
      node: "clean",
      user: "ann",
      tab: "1",
      pair_id: leased.body["pair_id"],
      vote: "b",
      order: leased.body["order"]
    })
    expect(vote.body).toEqual({ ok: true, pair_id: leased.body["pair_id"] })
  })
})
