/**
 * Live training curves in a real browser: a project whose pipeline trains a reward model for a few
 * seconds (load.pandalm → featurize.hash → train.reward-model), run from the notebook against a real
 * `wb serve`. While the train cell is running, its live loss curve (Plot, from the SSE NodeMetrics
 * events) is seen to gain points — recorded in the page by a MutationObserver, so no poll can miss
 * it — and a validation series joins it; after the run the declared history views take over, one dot
 * per (epoch, train/validation). A failing test leaves a screenshot in test-results/.
 */
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import type { Browser, Page } from "playwright-core"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { REPO, tempDir } from "../e2e/cli-spawn.js"
import { launch, requireChromium, type Served, serve, watch } from "./harness.js"

const EPOCHS = 12
const YAML = `pipeline: live-train
nodes:
  panda: { use: load.pandalm, with: { path: data/pandalm-testset, maxRejectRate: 0.01 } }
  feats: { use: featurize.hash, in: { pairs: panda } }
  # small batches over many epochs: a few seconds of training, long enough to watch
  rm: { use: train.reward-model, in: { pairs: feats }, with: { epochs: ${EPOCHS}, dim: 32, hidden: 32, batchSize: 8, patience: 0 } }
`

/** Every change of the rm cell's live loss curve: its line points (path vertices), lines, and whether the cell ran. */
const RECORD_CURVE = `
  window.__curve = [];
  new MutationObserver(() => {
    const cell = document.querySelector('.cell[data-node="rm"]');
    const paths = cell ? [...cell.querySelectorAll('figure.live-curve[data-series="loss"] svg g[aria-label="line"] path')] : [];
    if (paths.length === 0) return;
    const points = paths.reduce((n, p) => n + ((p.getAttribute("d") || "").match(/[ML]/g) || []).length, 0);
    const running = cell.dataset.status === "running";
    const last = window.__curve[window.__curve.length - 1];
    if (!last || last.points !== points || last.running !== running) window.__curve.push({ points, lines: paths.length, running });
  }).observe(document, { subtree: true, childList: true, attributes: true });
`

let root = ""
let server: Served
let browser: Browser
let page: Page
let problems: Array<string> = []
const SHOTS = join(REPO, "test-results")

beforeAll(async () => {
  requireChromium()
  root = tempDir("wb-ui-live-")
  mkdirSync(join(root, "pipelines"))
  writeFileSync(join(root, "pipelines", "live-train.yaml"), YAML)
  symlinkSync(join(REPO, "data"), join(root, "data"))
  writeFileSync(join(root, "package.json"), '{ "name": "ui-live-test", "type": "module" }\n')
  server = await serve(root)
  browser = await launch()
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
  await page.addInitScript(RECORD_CURVE)
  problems = watch(page)
}, 120_000)

afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail" && page) {
    mkdirSync(SHOTS, { recursive: true })
    await page.screenshot({ path: join(SHOTS, "ui-live-curves.png"), fullPage: true })
  }
})

afterAll(async () => {
  await browser?.close()
  await server?.stop()
  if (root) rmSync(root, { recursive: true, force: true })
})

describe("live training curves", { timeout: 180_000 }, () => {
  it("grow in the running train cell from the event stream, then give way to the history views", async () => {
    await page.goto(server.url)
    await page.locator('.cell[data-node="rm"]').waitFor()
    await page.locator("#run").click()
    // the curve appears while the node runs (the SVG is Plot's, drawn from NodeMetrics events)
    await page
      .locator(
        '.cell[data-node="rm"][data-status="running"] figure.live-curve[data-series="loss"] g[aria-label="line"] path'
      )
      .first()
      .waitFor({ timeout: 90_000 })
    await page.locator('#run-status[data-status="ok"]').waitFor({ timeout: 120_000 })

    const curve = (await page.evaluate(() => (window as any).__curve)) as Array<{
      points: number
      lines: number
      running: boolean
    }>
    const whileRunning = curve.filter((c) => c.running)
    expect(whileRunning.length, JSON.stringify(curve)).toBeGreaterThanOrEqual(2)
    // points were added before the run finished: the same curve, redrawn with more of them
    const counts = whileRunning.map((c) => c.points)
    expect(Math.max(...counts)).toBeGreaterThan(Math.min(...counts))
    for (let i = 1; i < counts.length; i++) expect(counts[i]!).toBeGreaterThanOrEqual(counts[i - 1]!)
    // the first epoch's validation loss joins the training loss in the same chart
    expect(Math.max(...whileRunning.map((c) => c.lines))).toBe(2)

    // after the run: the declared history views (one dot per epoch and train/validation), no live curves
    const cell = page.locator('.cell[data-node="rm"][data-status="cached"]')
    await cell.waitFor()
    const dots = cell.locator('figure[data-view="loss"] svg g[aria-label="dot"] circle')
    await dots.first().waitFor()
    expect(await dots.count()).toBe(2 * EPOCHS)
    expect(await cell.locator("figure.live-curve").count()).toBe(0)
    expect(problems).toEqual([])
  })
})
