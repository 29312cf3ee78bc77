/**
 * The browser workbench in a real browser (Debian chromium via playwright-core) against a real
 * `wb serve` on a quickstart project: open with the token, see the cells and the DAG, run, see the
 * dedupe funnel drawn with one bar per (reason, source), edit a dedupe param and watch only what is
 * downstream re-run, query in a SQL cell and save it as a node, label three pairs and see the votes
 * land in the labels file, then run a second pipeline and see strength.filter's declared histogram with
 * one bar per non-empty bin. Expected numbers come from DuckDB and the API, not from the page.
 * A failing test leaves a screenshot in test-results/.
 */
import { mkdirSync, readFileSync, rmSync } from "node:fs"
import { join } from "node:path"
import { DuckDBInstance } from "@duckdb/node-api"
import { tableFromIPC } from "apache-arrow"
import type { Browser, Page } from "playwright-core"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { REPO } from "../e2e/cli-spawn.js"
import {
  launch,
  QUICKSTART,
  quickstartProject,
  RECORD_RUNNING,
  requireChromium,
  type Served,
  serve,
  STRENGTH,
  watch
} from "./harness.js"

let root = ""
let server: Served
let browser: Browser
let page: Page
let problems: Array<string> = []
const QID = encodeURIComponent(QUICKSTART)
const SHOTS = join(REPO, "test-results")
// WB_DOCS_SCREENSHOTS=1 also writes the README's screenshots into docs/
const DOCS = process.env["WB_DOCS_SCREENSHOTS"] === "1"

const api = async (path: string, body?: unknown) => {
  const res = await fetch(server.origin + path, {
    method: body === undefined ? "GET" : "POST",
    headers: { authorization: `Bearer ${server.token}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`)
  return res
}
/** One number from a read-only query over the artifacts (the server's SQL route, not the page). */
const scalar = async (sql: string, pipeline = QUICKSTART) => {
  const t = tableFromIPC(new Uint8Array(await (await api("/api/sql", { pipeline, sql })).arrayBuffer()))
  return Number(t.getChildAt(0)!.get(0))
}
const statuses = () =>
  page.$$eval(".cell[data-node]", (els) => els.map((e) => [e.getAttribute("data-node"), e.getAttribute("data-status")]))
const waitRunDone = async () => {
  await page.locator('#run-status[data-status="ok"]').waitFor({ timeout: 90_000 })
}
const yaml = () => readFileSync(join(root, QUICKSTART), "utf8")

beforeAll(async () => {
  requireChromium()
  root = quickstartProject()
  server = await serve(root)
  browser = await launch()
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
  await page.addInitScript(RECORD_RUNNING)
  problems = watch(page)
}, 120_000)

afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail" && page) {
    mkdirSync(SHOTS, { recursive: true })
    await page.screenshot({
      path: join(SHOTS, `ui-${ctx.task.name.replace(/\W+/g, "-").slice(0, 60)}.png`),
      fullPage: true
    })
  }
})

afterAll(async () => {
  await browser?.close()
  await server?.stop()
  if (root) rmSync(root, { recursive: true, force: true })
})

describe("browser workbench", { timeout: 180_000 }, () => {
  it("opens with the token: the quickstart's cells in topological order and its DAG", async () => {
    await page.goto(server.url)
    expect(page.url()).not.toContain("token=") // the token went into the cookie
    await page.locator('.cell[data-node="summary"]').waitFor()
    expect(await statuses()).toEqual([
      ["hh", "not-run"],
      ["panda", "not-run"],
      ["clean", "not-run"],
      ["summary", "not-run"]
    ])
    const graph = (await (await api(`/api/pipelines/${QID}/graph`)).json()) as {
      nodes: Array<{ edges: Array<string> }>
    }
    const edges = graph.nodes.reduce((n, x) => n + x.edges.length, 0)
    expect(await page.locator("svg.dag g[data-node]").count()).toBe(4)
    expect(await page.locator("svg.dag path.edge").count()).toBe(edges)
    await page.locator('svg.dag g[data-node="clean"]').click()
    await page.locator('.cell.selected[data-node="clean"]').waitFor()
    expect(await page.locator('.cell[data-node="clean"] .kind').textContent()).toBe("dedupe.pairs")
  })

  it("collapses a family (load.*) in the DAG into one box, edges merged, and expands it again", async () => {
    const boxes = page.locator("svg.dag g.dag-node")
    const edges = () => page.$$eval("svg.dag path.edge", (ps) => ps.map((p) => p.getAttribute("data-edge")).sort())
    expect(await boxes.count()).toBe(4)
    await page.locator('button.family-toggle[data-family="load"]').click()
    const family = page.locator('svg.dag g.dag-family[data-family="load"]')
    await family.waitFor()
    expect(await boxes.count()).toBe(3)
    expect(await family.getAttribute("data-members")).toBe("hh,panda")
    expect(await family.locator("text").textContent()).toBe("load.* ×2")
    // hh and panda both feed clean and summary: one edge from the box to each
    expect(await edges()).toEqual(["clean->summary", "family:load->clean", "family:load->summary"])
    await family.click()
    await page.locator('svg.dag g[data-node="hh"]').waitFor()
    expect(await boxes.count()).toBe(4)
    expect(await page.locator("svg.dag g.dag-family").count()).toBe(0)
    expect((await edges()).length).toBe(5)
  })

  it("runs it with live progress, then draws the dedupe funnel with one bar per (reason, source)", async () => {
    await page.locator("#run").click()
    await waitRunDone()
    await page.waitForFunction(() => document.querySelectorAll('.cell[data-status="cached"]').length === 4)
    expect(await page.evaluate(() => [...(window as any).__running].sort())).toEqual([
      "clean",
      "hh",
      "panda",
      "summary"
    ])
    const bars = await scalar(`select count(*) from (select distinct reason, source from "clean.removed")`)
    expect(bars).toBeGreaterThan(1)
    const funnel = page.locator('figure[data-view="funnel"] svg g[aria-label="bar"] rect')
    await funnel.first().waitFor()
    expect(await funnel.count()).toBe(bars)
    // the table preview: the first page of clean's pairs, as pairs (prompt over two responses)
    const total = await scalar(`select count(*) from "clean"`)
    await expect.poll(() => page.locator('.cell[data-node="clean"] .pager').textContent()).toBe(`1–25 of ${total}`)
    expect(await page.locator('.cell[data-node="clean"] table.rows tbody tr').count()).toBe(25)
    if (DOCS) {
      await page.screenshot({ path: join(REPO, "docs/workbench-notebook.png") })
      await page.locator('.cell[data-node="clean"]').screenshot({ path: join(REPO, "docs/workbench-node.png") })
    }
    await page.locator('.cell[data-node="clean"] input[name="as-pairs"]').check()
    expect(await page.locator('.cell[data-node="clean"] .pair .sides .side').count()).toBe(50)
  })

  it("an edited dedupe param turns clean and summary stale, and Run re-runs only those", async () => {
    const cell = page.locator('.cell[data-node="clean"]')
    await cell.locator(".params-box > summary").click()
    // a bound the form checks before sending: nothing saved
    await cell.locator("details.param-group > summary", { hasText: "near" }).click()
    await cell.locator('input[name="clean.near.numPerm"]').fill("4")
    await cell.locator('input[name="clean.near.numPerm"]').press("Enter")
    await cell.locator(".param-error", { hasText: "below the minimum 8" }).waitFor()
    expect(yaml()).not.toContain("numPerm")

    // keep pairs with an empty side: clean's output changes, so summary (early cutoff aside) must re-run
    await cell.locator("details.param-group > summary", { hasText: "degenerate" }).click()
    await cell.locator('input[name="clean.degenerate.emptySide"]').uncheck()
    await page.waitForFunction(
      () => document.querySelector('.cell[data-node="clean"]')?.getAttribute("data-status") === "stale"
    )
    expect(await statuses()).toEqual([
      ["hh", "cached"],
      ["panda", "cached"],
      ["clean", "stale"],
      ["summary", "stale"]
    ])
    expect(yaml()).toMatch(/degenerate:\s*\n?\s*\{?\s*emptySide: false/)
    expect(yaml()).toContain("# The YAML twin of quickstart.ts") // rewritten in place, comments kept

    await page.evaluate(() => (window as any).__running.clear())
    await page.locator("#run").click()
    await waitRunDone()
    await page.waitForFunction(() => document.querySelectorAll('.cell[data-status="cached"]').length === 4)
    // the run log lists what started; a node too quick to be drawn running still shows there
    const started = await page.$$eval('#run-log li[data-tag="started"]', (els) =>
      els.map((e) => e.getAttribute("data-node"))
    )
    expect(started.sort()).toEqual(["clean", "summary"])
    expect(
      await page.evaluate(() => (window as any).__running.has("hh") || (window as any).__running.has("panda"))
    ).toBe(false)
    const last = await page.$$eval(".cell[data-node]", (els) =>
      els.map((e) => [e.getAttribute("data-node"), e.getAttribute("data-last")])
    )
    expect(last).toEqual([
      ["hh", "cached"],
      ["panda", "cached"],
      ["clean", "ran"],
      ["summary", "ran"]
    ])
    const rows = await scalar(`select count(*) from "clean"`)
    expect(await cell.locator(".rowcount").textContent()).toBe(`3,305 → ${rows.toLocaleString("en-US")}`)
  })

  it("a SQL cell: the result as a table and a chart, then saved as a node that runs", async () => {
    const reasons = await scalar(`select count(distinct reason) from "clean.removed"`)
    const sql = page.locator("#sql-cell")
    await sql
      .locator("textarea")
      .fill(`select reason, count(*) as n from "clean.removed" group by reason order by n desc`)
    await sql.locator("#sql-run").click()
    await sql.locator(`#sql-rows[data-rows="${reasons}"]`).waitFor()
    expect(await sql.locator("tbody tr").count()).toBe(reasons)
    expect(await sql.locator('.quick-chart svg g[aria-label="bar"] rect').count()).toBe(reasons)

    await sql.locator('input[name="name"]').fill("by_reason")
    await sql.locator("#sql-save").click()
    await page.locator('.cell[data-node="by_reason"]').waitFor()
    expect(yaml()).toMatch(/by_reason:[\s\S]*transform\.sql[\s\S]*removed: clean\.removed/)
    expect(await page.locator("svg.dag g[data-node]").count()).toBe(5)

    await page.locator("#run").click()
    await waitRunDone()
    const done = page.locator('.cell[data-node="by_reason"][data-status="cached"]')
    await done.waitFor()
    expect(await done.getAttribute("data-last")).toBe("ran")
    expect(await done.locator(".rowcount").textContent()).toContain(`→ ${reasons}`)
  })

  it("labels three pairs with keys 1 / 2 / 3; the votes land in the labels file; undo takes one back", async () => {
    await page.locator("#nav-label").click()
    await page.locator('input[name="user"]').fill("ada")
    await page.locator('input[name="user"]').press("Enter")
    const progress = page.locator("#label-progress")
    await progress.waitFor()
    const total = await scalar(`select count(*) from "clean"`)
    expect(await progress.getAttribute("data-total")).toBe(String(total))
    expect(await progress.getAttribute("data-labeled")).toBe("0")
    if (DOCS) await page.screenshot({ path: join(REPO, "docs/workbench-labeling.png") })

    const shown: Array<string> = []
    for (const [i, key] of (["1", "2", "3"] as const).entries()) {
      const pair = await page.locator(".label-pair").getAttribute("data-pair")
      shown.push(pair!)
      await page.keyboard.press(key)
      await page.locator(`#label-progress[data-labeled="${i + 1}"]`).waitFor()
      expect(await page.locator(".label-pair").getAttribute("data-pair")).not.toBe(pair)
    }
    const votes = await readVotes()
    expect(votes.map((v) => v.pair_id)).toEqual(shown)
    expect(votes.map((v) => v.rater)).toEqual(["ada", "ada", "ada"])
    // key 1 = the first response shown, which is side a when the order was "ab"
    expect(votes[0]!.vote).toBe(votes[0]!.order === "ab" ? "a" : "b")
    expect(votes[1]!.vote).toBe(votes[1]!.order === "ab" ? "b" : "a")
    expect(votes[2]!.vote).toBe("tie")

    await page.keyboard.press("u")
    await page.locator('#label-progress[data-labeled="2"]').waitFor()
    expect((await readVotes()).map((v) => v.pair_id)).toEqual(shown.slice(0, 2))
    expect(problems).toEqual([])
  })

  it("another pipeline's strength view: one bar per non-empty (bin, action) of the strength report", async () => {
    await page.locator("#nav-notebook").click()
    await page.locator("#pipeline").selectOption(STRENGTH)
    await page.locator('.cell[data-node="strength"]').waitFor()
    await page.locator("#run").click()
    await page.locator('.cell[data-node="strength"][data-status="cached"]').waitFor({ timeout: 90_000 })
    const bins = await scalar(
      `select count(*) from "strength.strength_report" where bin is not null and pairs > 0`,
      STRENGTH
    )
    const actions = await scalar(
      `select count(distinct action) from "strength.strength_report" where pairs > 0`,
      STRENGTH
    )
    expect(actions).toBeGreaterThan(1) // the colours say something: not every pair was kept
    const bars = page.locator('figure[data-view="strength"] svg g[aria-label="rect"] rect')
    await bars.first().waitFor()
    expect(await bars.count()).toBe(bins)
    expect(problems).toEqual([])
  })
})

async function readVotes(): Promise<Array<Record<string, string>>> {
  const db = await DuckDBInstance.create(":memory:")
  const con = await db.connect()
  try {
    const file = join(root, ".wb", "labels", "votes.parquet").replaceAll("'", "''")
    const r = await con.runAndReadAll(
      `select pair_id, rater, vote, "order" from read_parquet('${file}')` // written in vote order
    )
    return r.getRowObjectsJS() as Array<Record<string, string>>
  } finally {
    con.closeSync()
    db.closeSync()
  }
}
