// SIGKILL `wb run` inside a node and while it writes artifacts; the next run must finish, and no
// artifact may be corrupt or look finished when it is not.
import { DuckDBInstance } from "@duckdb/node-api"
import { spawn, spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { describe, expect, it } from "vitest"

const repo = resolve(import.meta.dirname, "../..")
const wb = join(repo, "bin/wb.js")
const pipelineFile = join(repo, "test/fixtures/pipelines/ok-kill.ts")

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Every artifact with a manifest must have all its files, readable, with the row counts it claims. */
async function checkArtifacts(workspace: string): Promise<{ complete: number; unfinished: number }> {
  const dir = join(workspace, "artifacts")
  if (!existsSync(dir)) return { complete: 0, unfinished: 0 }
  const db = await DuckDBInstance.create(":memory:")
  const con = await db.connect()
  let complete = 0, unfinished = 0
  for (const key of readdirSync(dir)) {
    const manifestFile = join(dir, key, "manifest.json")
    if (!existsSync(manifestFile)) {
      unfinished++
      continue
    }
    const manifest = JSON.parse(readFileSync(manifestFile, "utf8")) as { tables: Record<string, { file: string; rows: number }> }
    for (const t of Object.values(manifest.tables)) {
      const reader = await con.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM read_parquet('${join(dir, key, t.file)}')`)
      expect(reader.getRowObjectsJS()[0]!["n"]).toBe(t.rows)
    }
    complete++
  }
  con.closeSync()
  db.closeSync()
  return { complete, unfinished }
}

function startRun(workspace: string, env: Record<string, string>) {
  return spawn(process.execPath, [wb, "run", pipelineFile, "--workspace", workspace, "--json"], {
    cwd: repo, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"]
  })
}

describe("crash safety", () => {
  it("a run killed inside a node resumes: finished work is kept, nothing half-written looks finished", async () => {
    const workspace = mkdtempSync(join(tmpdir(), "wb-kill-"))
    const marker = join(workspace, "marker")
    const env = { KILL_MARKER: marker, KILL_WAIT: "60", KILL_ROWS: "300000", KILL_TAG: "inside" }
    const child = startRun(workspace, env)
    const exited = new Promise((r) => child.once("exit", r))
    for (let i = 0; i < 600 && !existsSync(marker); i++) await sleep(50)
    expect(existsSync(marker)).toBe(true) // "wait" started, so "big" had finished
    child.kill("SIGKILL")
    await exited
    expect(await checkArtifacts(workspace)).toEqual({ complete: 1, unfinished: 0 })

    const rerun = spawnSync(process.execPath, [wb, "run", pipelineFile, "--workspace", workspace, "--json"], {
      cwd: repo, env: { ...process.env, ...env, KILL_WAIT: "0" }, encoding: "utf8"
    })
    expect(rerun.status).toBe(0)
    const report = JSON.parse(rerun.stdout) as { nodes: Array<{ name: string; status: string; rowsOut: number }> }
    expect(report.nodes.map((n) => [n.name, n.status, n.rowsOut])).toEqual([["big", "cached", 300000], ["wait", "ran", 300000]])
    expect(await checkArtifacts(workspace)).toEqual({ complete: 2, unfinished: 0 })
  })

  it("Ctrl-C while an artifact is being written leaves no temp file and no artifact, and logs the run as abandoned or interrupted", async () => {
    const workspace = mkdtempSync(join(tmpdir(), "wb-int-"))
    const env = { KILL_MARKER: join(workspace, "marker"), KILL_WAIT: "0", KILL_ROWS: "3000000", KILL_TAG: "sigint" }
    const tmpFiles = () => {
      const dir = join(workspace, "artifacts")
      return existsSync(dir) ? readdirSync(dir).flatMap((k) => readdirSync(join(dir, k)).filter((f) => f.endsWith(".tmp"))) : []
    }
    const child = startRun(workspace, env)
    const exited = new Promise<number | null>((r) => child.once("exit", r))
    for (let i = 0; i < 1200 && tmpFiles().length === 0; i++) await sleep(25)
    expect(tmpFiles().length).toBeGreaterThan(0) // caught while writing
    child.kill("SIGINT")
    expect(await exited).toBe(130)
    expect(tmpFiles()).toEqual([])
    expect(await checkArtifacts(workspace)).toEqual({ complete: 0, unfinished: 1 })

    // a run killed outright cannot log its end: the next run marks it abandoned
    const killed = startRun(workspace, { ...env, KILL_WAIT: "60" })
    const killedExit = new Promise((r) => killed.once("exit", r))
    for (let i = 0; i < 1200 && !existsSync(env.KILL_MARKER); i++) await sleep(25)
    killed.kill("SIGKILL")
    await killedExit
    const rerun = spawnSync(process.execPath, [wb, "run", pipelineFile, "--workspace", workspace, "--json"], {
      cwd: repo, env: { ...process.env, ...env }, encoding: "utf8"
    })
    expect(rerun.status, rerun.stderr).toBe(0)
    const db = await DuckDBInstance.create(join(workspace, "meta.duckdb"), { access_mode: "READ_ONLY" })
    const con = await db.connect()
    const runs = (await con.runAndReadAll(`SELECT status FROM runs ORDER BY started`)).getRowObjectsJS().map((r) => r["status"])
    con.closeSync()
    db.closeSync()
    expect(runs).toEqual(["interrupted", "abandoned", "ok"])
  })

  it("runs killed at arbitrary moments while writing never leave a corrupt or falsely finished artifact", async () => {
    const workspace = mkdtempSync(join(tmpdir(), "wb-kill-"))
    const env = { KILL_MARKER: join(workspace, "marker"), KILL_WAIT: "0", KILL_ROWS: "2000000", KILL_TAG: "write" }
    for (const delay of [400, 900, 1500, 2200]) {
      const child = startRun(workspace, env)
      const exited = new Promise((r) => child.once("exit", r))
      await sleep(delay)
      child.kill("SIGKILL")
      await exited
      await checkArtifacts(workspace) // asserts every finished-looking artifact is whole
    }
    const rerun = spawnSync(process.execPath, [wb, "run", pipelineFile, "--workspace", workspace, "--json"], {
      cwd: repo, env: { ...process.env, ...env }, encoding: "utf8"
    })
    expect(rerun.status).toBe(0)
    const report = JSON.parse(rerun.stdout) as { nodes: Array<{ name: string; rowsOut: number }> }
    expect(report.nodes.map((n) => n.rowsOut)).toEqual([2000000, 2000000])
    const after = await checkArtifacts(workspace)
    expect(after.complete).toBe(2)
  })
})
