/**
 * The browser tests' world: a quickstart project (not run yet), a real `wb serve` started on it as a
 * child process (the printed URL parsed, as a user would copy it), and Debian's chromium driven by
 * playwright-core. No chromium means a failure that says how to install it, never a silent skip.
 */
import { existsSync, mkdirSync, cpSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { type Browser, chromium, type Page } from "playwright-core"
import { REPO, startWb, tempDir } from "../e2e/cli-spawn.js"

export const CHROMIUM = process.env["WB_CHROMIUM"] ?? "/usr/bin/chromium"
export const QUICKSTART = "pipelines/quickstart.yaml"
/** A second pipeline in the project, for a declared view with a colour per action (strength.filter). */
export const STRENGTH = "pipelines/views-strength.yaml"
const STRENGTH_YAML = `pipeline: views-strength
nodes:
  panda: { use: load.pandalm, with: { path: data/pandalm-testset, maxRejectRate: 0.01 } }
  longer: { use: judge.heuristic, in: { pairs: panda }, with: { rule: prefer-longer } }
  sim: { use: judge.simulated, in: { pairs: panda }, with: { annotators: 3, flipRate: 0.3, seed: 0 } }
  strength: { use: strength.filter, in: { pairs: panda, votes: [longer.votes, sim.votes] }, with: { flipBelow: -0.5, drop: { below: -0.2 } } }
`

export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `browser tests: no chromium at ${CHROMIUM}. Install Debian's: \`apt-get install -y chromium fonts-dejavu-core\` ` +
        "(.ci/run does), or point WB_CHROMIUM at a Chromium binary."
    )
  }
}

/** A project holding the quickstart YAML pipeline, the strength one and the shipped data (a link); nothing run. */
export function quickstartProject(): string {
  const root = tempDir("wb-ui-")
  mkdirSync(join(root, "pipelines"))
  cpSync(join(REPO, QUICKSTART), join(root, QUICKSTART))
  writeFileSync(join(root, STRENGTH), STRENGTH_YAML)
  symlinkSync(join(REPO, "data"), join(root, "data"))
  writeFileSync(join(root, "package.json"), '{ "name": "ui-test", "type": "module" }\n')
  return root
}

export interface Served {
  readonly url: string
  readonly origin: string
  readonly token: string
  /** The server's process id (node runs bin/wb.js itself: no wrapper process). */
  readonly pid: number
  readonly stop: () => Promise<void>
}

/** `wb serve <root> --port 0`, resolved once it printed its URL. */
export async function serve(root: string): Promise<Served> {
  const wb = startWb(["serve", root, "--port", "0"], { cwd: root })
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`wb serve printed no URL in 60 s: ${wb.output()}`)), 60_000)
    wb.child.stdout!.on("data", () => {
      const m = /open (http:\/\/\S+)/.exec(wb.output())
      if (m) {
        clearTimeout(timer)
        resolve(m[1]!)
      }
    })
    wb.done.then((r) => reject(new Error(`wb serve exited (${r.code}): ${r.stderr}`)))
  })
  const u = new URL(url)
  return {
    url,
    origin: u.origin,
    token: u.searchParams.get("token") ?? "",
    pid: wb.child.pid ?? 0,
    stop: async () => {
      wb.child.kill("SIGTERM")
      await wb.done
    }
  }
}

export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync"
    ]
  })
}

/** What went wrong on the page: uncaught errors, console errors, HTTP errors (each as a line). */
export function watch(page: Page): Array<string> {
  const problems: Array<string> = []
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`))
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`)
  })
  page.on("response", (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()} ${r.url()}`)
  })
  return problems
}

/** Records, in the page, every node whose cell showed "running" (live progress seen, not inferred). */
export const RECORD_RUNNING = `
  window.__running = new Set();
  new MutationObserver(() => {
    for (const el of document.querySelectorAll('.cell[data-status="running"]')) window.__running.add(el.dataset.node);
  }).observe(document, { subtree: true, attributes: true, childList: true, attributeFilter: ["data-status"] });
`
