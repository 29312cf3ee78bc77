// Kill `wb run` at known points — inside a node, while an artifact file is being written, between
// artifacts — and check that the next run finishes and that no artifact is ever corrupt or looks finished
// when it is not. Every kill waits for a marker of the point it aims at (a file the node writes, or the
// writer's own temp file) and the test then asserts the state that proves the kill landed there, so a
// kill that came too early or too late fails the test instead of passing it unnoticed.
import { DuckDBInstance } from "@duckdb/node-api"
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { describe, expect, it } from "vitest"

const repo = resolve(import.meta.dirname, "../..")
const wb = join(repo, "bin/wb.js")
const pipelineFile = join(repo, "test/fixtures/pipelines/ok-kill.ts")

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

interface Manifest {
  readonly tables: Record<string, { file: string; rows: number; size?: number }>
}

const artifactsOf = (workspace: string) => join(workspace, "artifacts")
const keys = (workspace: string) => (existsSync(artifactsOf(workspace)) ? readdirSync(artifactsOf(workspace)) : [])
const tmpFiles = (workspace: string, key?: string) =>
  keys(workspace)
    .filter((k) => key === undefined || k === key)
    .flatMap((k) =>
      readdirSync(join(artifactsOf(workspace), k))
        .filter((f) => f.endsWith(".tmp"))
        .map((f) => `${k}/${f}`)
    )
const manifestOf = (workspace: string, key: string): Manifest | undefined => {
  const file = join(artifactsOf(workspace), key, "manifest.json")
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Manifest) : undefined
}

/** Every artifact with a manifest must have all its files, of the recorded size, readable, with the rows it claims. */
async function checkArtifacts(workspace: string): Promise<{ complete: number; unfinished: number }> {
  const db = await DuckDBInstance.create(":memory:")
  const con = await db.connect()
  let complete = 0
  let unfinished = 0
  for (const key of keys(workspace)) {
    const manifest = manifestOf(workspace, key)
    if (manifest === undefined) {
      unfinished++
      continue
    }
    for (const t of Object.values(manifest.tables)) {
      const file = join(artifactsOf(workspace), key, t.file)
      if (t.size !== undefined) expect(statSync(file).size, file).toBe(t.size)
      const reader = await con.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM read_parquet('${file}')`)
      expect(reader.getRowObjectsJS()[0]!["n"]).toBe(t.rows)
    }
    complete++
  }
  con.closeSync()
  db.closeSync()
  return { complete, unfinished }
}

interface Run {
  readonly child: ChildProcess
  readonly exited: Promise<number | null>
  readonly stderr: () => string
}

/** Start `wb run ok-kill.ts`; the marker files of earlier runs are removed first, so each wait sees this run's. */
function startRun(workspace: string, env: Record<string, string>): Run {
  for (const f of readdirSync(workspace)) if (f.startsWith("marker.")) rmSync(join(workspace, f))
  const child = spawn(process.execPath, [wb, "run", pipelineFile, "--workspace", workspace, "--json"], {
    cwd: repo,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let stderr = ""
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d))
  child.stdout!.resume()
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)))
  return { child, exited, stderr: () => stderr }
}

/** Poll until `reached()` (every 5 ms); fails, naming the point, when the run exits first or after 60 s. */
async function waitFor(run: Run, point: string, reached: () => boolean): Promise<void> {
  let done = false
  void run.exited.then(() => (done = true))
  for (const start = Date.now(); !reached(); await sleep(5)) {
    if (done) throw new Error(`wb run exited before reaching ${point}:\n${run.stderr()}`)
    if (Date.now() - start > 60_000) throw new Error(`wb run did not reach ${point} within 60 s:\n${run.stderr()}`)
  }
}

async function killAt(run: Run, signal: NodeJS.Signals, point: string, reached: () => boolean): Promise<number | null> {
  await waitFor(run, point, reached)
  run.child.kill(signal)
  return run.exited
}

function rerun(workspace: string, env: Record<string, string>) {
  const r = spawnSync(process.execPath, [wb, "run", pipelineFile, "--workspace", workspace, "--json"], {
    cwd: repo,
    env: { ...process.env, ...env },
    encoding: "utf8"
  })
  expect(r.status, r.stderr).toBe(0)
  return JSON.parse(r.stdout) as { nodes: Array<{ name: string; status: string; rowsOut: number }> }
}

const setup = (prefix: string, rows: number, wait: number, tag: string) => {
  const workspace = mkdtempSync(join(tmpdir(), prefix))
  const marker = join(workspace, "marker")
  const env = { KILL_MARKER: marker, KILL_WAIT: String(wait), KILL_ROWS: String(rows), KILL_TAG: tag }
  return { workspace, env, reached: (point: string) => () => existsSync(`${marker}.${point}`) }
}

describe("crash safety", () => {
  it("a run killed inside a node resumes: finished work is kept, nothing half-written looks finished", async () => {
    const { workspace, env, reached } = setup("wb-kill-", 300_000, 60, "inside")
    await killAt(startRun(workspace, env), "SIGKILL", "node wait", reached("wait-started"))
    // "wait" had started, so "big" had been published; "wait" had written nothing
    expect(await checkArtifacts(workspace)).toEqual({ complete: 1, unfinished: 0 })

    const report = rerun(workspace, { ...env, KILL_WAIT: "0" })
    expect(report.nodes.map((n) => [n.name, n.status, n.rowsOut])).toEqual([
      ["big", "cached", 300000],
      ["wait", "ran", 300000]
    ])
    expect(await checkArtifacts(workspace)).toEqual({ complete: 2, unfinished: 0 })
  })

  it("Ctrl-C while an artifact is being written leaves no temp file and no artifact, and logs the run as abandoned or interrupted", async () => {
    const { workspace, env, reached } = setup("wb-int-", 2_000_000, 0, "sigint")
    const interrupted = startRun(workspace, env)
    await waitFor(interrupted, "node big", reached("big-started"))
    const code = await killAt(
      interrupted,
      "SIGINT",
      "the first artifact's temp file",
      () => tmpFiles(workspace).length > 0
    )
    expect(code).toBe(130)
    expect(tmpFiles(workspace)).toEqual([])
    expect(await checkArtifacts(workspace)).toEqual({ complete: 0, unfinished: 1 })

    // a run killed outright cannot log its end: the next run marks it abandoned
    await killAt(startRun(workspace, { ...env, KILL_WAIT: "60" }), "SIGKILL", "node wait", reached("wait-started"))
    rerun(workspace, env)
    const db = await DuckDBInstance.create(join(workspace, "meta.duckdb"), { access_mode: "READ_ONLY" })
    const con = await db.connect()
    const runs = (await con.runAndReadAll(`SELECT status FROM runs ORDER BY started`))
      .getRowObjectsJS()
      .map((r) => r["status"])
    con.closeSync()
    db.closeSync()
    expect(runs).toEqual(["interrupted", "abandoned", "ok"])
  })

  it("runs killed at each point of publishing never leave a corrupt or falsely finished artifact", async () => {
    const rows = 2_000_000
    const { workspace, env, reached } = setup("wb-kill-points-", rows, 0, "write")

    // 1. inside the first node, before anything is written
    await killAt(startRun(workspace, env), "SIGKILL", "node big", reached("big-started"))
    expect(await checkArtifacts(workspace)).toEqual({ complete: 0, unfinished: 0 })

    // 2. while the first artifact's Parquet file is being written: the temp file outlives SIGKILL
    await killAt(startRun(workspace, env), "SIGKILL", "big's temp file", () => tmpFiles(workspace).length > 0)
    expect(tmpFiles(workspace)).toHaveLength(1)
    expect(await checkArtifacts(workspace)).toEqual({ complete: 0, unfinished: 1 })
    const bigKey = keys(workspace)[0]!

    // 3. between artifacts: the first is published, the second node has started
    await killAt(startRun(workspace, env), "SIGKILL", "node wait", reached("wait-started"))
    expect(await checkArtifacts(workspace)).toEqual({ complete: 1, unfinished: 0 })
    expect(manifestOf(workspace, bigKey)).toBeDefined()
    expect(tmpFiles(workspace, bigKey)).toEqual([]) // publishing big again removed the killed write's leftovers

    // 4. while the second artifact is being written (big is served from cache now)
    const waitWriting = () => tmpFiles(workspace).some((f) => !f.startsWith(`${bigKey}/`))
    await killAt(startRun(workspace, env), "SIGKILL", "wait's temp file", waitWriting)
    expect(waitWriting()).toBe(true)
    expect(await checkArtifacts(workspace)).toEqual({ complete: 1, unfinished: 1 })

    const report = rerun(workspace, env)
    expect(report.nodes.map((n) => [n.name, n.status, n.rowsOut])).toEqual([
      ["big", "cached", rows],
      ["wait", "ran", rows]
    ])
    expect(await checkArtifacts(workspace)).toEqual({ complete: 2, unfinished: 0 })
    expect(tmpFiles(workspace)).toEqual([])
  })
})
