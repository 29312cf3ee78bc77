/**
 * Artifact integrity end to end, with real `wb` processes on the quickstart (real data, real DuckDB,
 * real Parquet): a damaged artifact is reported, never read, and recomputed to the same rows; a full
 * disk during `--force` leaves the good artifacts as they were.
 */
import { DuckDBInstance } from "@duckdb/node-api"
import { spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  utimesSync,
  writeFileSync
} from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import type { Manifest } from "../../workbench/core/report.js"
import { formatBytes } from "../../workbench/io/disk-space.js"
import { pipelineFile, REPO, startWb, tempDir, wb } from "./cli-spawn.js"

const QUICKSTART = "pipelines/quickstart.ts"

interface JsonReport {
  status: string
  nodes: Array<{ name: string; status: string; error?: string }>
}

/** `wb <args> --workspace ws` from the repository (the quickstart's data paths are relative to it). */
const wbIn = (ws: string, args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  wb([...args, "--workspace", ws], { cwd: REPO, env })

async function runJson(ws: string, extra: ReadonlyArray<string> = [], env: Record<string, string> = {}) {
  const r = await wbIn(ws, ["run", QUICKSTART, "--json", ...extra], env)
  const report = JSON.parse(r.stdout) as JsonReport
  return { ...r, report, statuses: Object.fromEntries(report.nodes.map((n) => [n.name, n.status])) }
}

function artifactOf(ws: string, node: string): { dir: string; manifest: Manifest } {
  for (const key of readdirSync(join(ws, "artifacts"))) {
    const dir = join(ws, "artifacts", key)
    const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as Manifest
    if (manifest.node === node) return { dir, manifest }
  }
  throw new Error(`no artifact of ${node} in ${ws}`)
}

const pairsFile = (ws: string) => {
  const { dir, manifest } = artifactOf(ws, "hh")
  return { file: join(dir, manifest.tables["pairs"]!.file), key: manifest.key, size: manifest.tables["pairs"]!.size! }
}

async function pairRows(ws: string): Promise<string> {
  const db = await DuckDBInstance.create(":memory:")
  const con = await db.connect()
  const reader = await con.runAndReadAll(`SELECT * FROM read_parquet('${pairsFile(ws).file}') ORDER BY pair_id`)
  const rows = JSON.stringify(reader.getRowObjectsJson())
  con.closeSync()
  db.closeSync()
  return rows
}

/** Every file of every artifact, by content: to assert that nothing changed. */
const snapshot = (ws: string) =>
  Object.fromEntries(
    readdirSync(join(ws, "artifacts")).flatMap((key) =>
      readdirSync(join(ws, "artifacts", key)).map((f) => {
        const path = join(ws, "artifacts", key, f)
        return [`${key}/${f}`, createHash("sha256").update(readFileSync(path)).digest("hex")]
      })
    )
  )

const flipMiddleBit = (file: string) => {
  const bytes = readFileSync(file)
  bytes[Math.floor(bytes.length / 2)]! ^= 0x01
  writeFileSync(file, bytes)
}

const ALL_CACHED = { hh: "cached", panda: "cached", clean: "cached", summary: "cached" }
const HH_RECOMPUTED = { hh: "ran", panda: "cached", clean: "cached", summary: "cached" }

describe("artifact integrity (real wb processes)", { timeout: 180_000 }, () => {
  it("a pairs.parquet truncated to half is reported, never read (wb show, wb sql refuse it), and recomputed to the same rows", async () => {
    const ws = join(tempDir("wb-integrity-"), ".wb")
    expect((await runJson(ws)).code).toBe(0)
    const original = await pairRows(ws)
    const { file, key, size } = pairsFile(ws)
    truncateSync(file, Math.floor(size / 2))
    const problem = `pairs.parquet: found ${Math.floor(size / 2).toLocaleString("en-US")} bytes, the manifest recorded ${size.toLocaleString("en-US")} bytes`

    const show = await wbIn(ws, ["show", QUICKSTART, "hh"])
    expect(show.code).toBe(1)
    expect(show.stderr).toContain(
      `node "hh" (load.hh-rlhf): artifact ${key} in ${ws}: the artifact is damaged, so it is not read: ${problem}`
    )
    expect(show.stderr).toContain(`fix: recompute it: wb run ${QUICKSTART} --only hh`)
    expect(show.stdout).toBe("")
    const sql = await wbIn(ws, ["sql", QUICKSTART, `select count(*) from "hh"`])
    expect(sql.code).toBe(1)
    expect(sql.stderr).toContain(
      `wb sql: table "hh": the artifact of node "hh" is damaged, so it is not read: artifact ${key}: ${problem}`
    )
    const ls = await wbIn(ws, ["ls", QUICKSTART])
    expect(ls.stdout).toMatch(
      new RegExp(
        `^ {2}hh +load\\.hh-rlhf +damaged · ${problem.replace(/[.]/g, "\\.")}; the next wb run recomputes it$`,
        "m"
      )
    )

    const rerun = await runJson(ws)
    expect(rerun.code).toBe(0)
    expect(rerun.statuses).toEqual(HH_RECOMPUTED)
    // the progress view (stderr with --json) names the node, the file, what was found and recorded
    expect(rerun.stderr).toContain(`hh       load.hh-rlhf    running`)
    expect(rerun.stderr).toContain(`its cached artifact ${key} is damaged (${problem}); not read, recomputing`)
    expect(rerun.stderr).toMatch(
      new RegExp(
        `✓ hh +load\\.hh-rlhf +2,312 → 2,312 .*\\(recomputed: its cached artifact ${key} is damaged \\(pairs\\.parquet: found`
      )
    )
    expect(await pairRows(ws)).toBe(original)
    expect((await runJson(ws)).statuses).toEqual(ALL_CACHED)
  })

  it("one flipped bit in the middle of pairs.parquet is reported by its content hash and recomputed; --verify finds it even with the mtime put back", async () => {
    const ws = join(tempDir("wb-integrity-"), ".wb")
    expect((await runJson(ws)).code).toBe(0)
    const original = await pairRows(ws)
    const first = pairsFile(ws)
    flipMiddleBit(first.file)
    const rerun = await runJson(ws)
    expect(rerun.statuses).toEqual(HH_RECOMPUTED)
    expect(rerun.stderr).toMatch(
      new RegExp(
        `its cached artifact ${first.key} is damaged \\(pairs\\.parquet: found content hash sha256:[0-9a-f]{16}…, ` +
          `the manifest recorded sha256:[0-9a-f]{16}…\\); not read, recomputing`
      )
    )
    expect(await pairRows(ws)).toBe(original)

    // bit rot: the content changes, the size and mtime do not. A plain run checks sizes only (and says
    // cached); --verify hashes every file. A whole-second mtime can be put back exactly.
    const { file } = pairsFile(ws)
    const when = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000)
    utimesSync(file, when, when)
    expect((await runJson(ws)).statuses).toEqual(ALL_CACHED) // hashed once (intact), new mtime recorded
    flipMiddleBit(file)
    utimesSync(file, when, when)
    expect((await runJson(ws)).statuses).toEqual(ALL_CACHED)
    const verified = await runJson(ws, ["--verify"])
    expect(verified.statuses).toEqual(HH_RECOMPUTED)
    expect(verified.stderr).toMatch(
      /is damaged \(pairs\.[0-9a-f.]*parquet: found content hash sha256:[0-9a-f]{16}…, the manifest recorded/
    )
    expect(await pairRows(ws)).toBe(original)
  })

  it("a full disk during --force after a good run (simulated) leaves every artifact as it was: wb show works, wb run says cached", async () => {
    const ws = join(tempDir("wb-integrity-"), ".wb")
    expect((await runJson(ws)).code).toBe(0)
    const before = snapshot(ws)
    const hh = artifactOf(ws, "hh")
    const hhSize = Object.values(hh.manifest.tables).reduce((s, t) => s + t.size!, 0)

    const forced = await runJson(ws, ["--force"], { WB_FAULT_PUBLISH: "enospc" })
    expect(forced.code).toBe(1)
    expect(forced.statuses).toEqual({ hh: "failed", panda: "failed", clean: "skipped", summary: "skipped" })
    const error = forced.report.nodes.find((n) => n.name === "hh")!.error!
    expect(error).toContain(
      `node "hh" (load.hh-rlhf), writing table pairs of its artifact: no space left on the disk holding ${hh.dir}`
    )
    expect(error).toContain(
      `expected: about ${formatBytes(hhSize)} free for the new artifact (the size of the one it replaces)`
    )
    expect(error).toContain(
      "fix: free space on that disk, or run with --workspace on a disk with room. The previous artifact of this node was kept as it was"
    )
    expect(snapshot(ws)).toEqual(before)

    const show = await wbIn(ws, ["show", QUICKSTART, "hh", "--limit", "1"])
    expect(show.code).toBe(0)
    expect(show.stdout).toMatch(/^hh\.pairs · 2,312 rows · showing 1/)
    expect((await runJson(ws)).statuses).toEqual(ALL_CACHED)
  })

  it("a --force killed while writing the new version leaves the old one served from cache; the next publish clears the leftovers", async () => {
    const ws = tempDir("wb-integrity-kill-")
    const env = { KILL_MARKER: join(ws, "marker"), KILL_ROWS: "600000", KILL_WAIT: "0", KILL_TAG: "force" }
    const file = pipelineFile("ok-kill.ts")
    const run = (extra: ReadonlyArray<string> = []) => wbIn(ws, ["run", file, "--json", ...extra], env)
    expect((await run()).code).toBe(0)
    const big = artifactOf(ws, "big")
    const before = snapshot(ws)
    const temps = () => readdirSync(big.dir).filter((f) => f.endsWith(".tmp"))

    const forced = startWb(["run", file, "--force", "--workspace", ws], { cwd: REPO, env })
    const start = Date.now()
    while (temps().length === 0 && Date.now() - start < 60_000) await new Promise((r) => setTimeout(r, 5))
    expect(temps()).toHaveLength(1) // caught while the new version of big's table was being written
    forced.child.kill("SIGKILL")
    await forced.done
    // the old manifest and files are untouched; only the killed write's temp file is new
    expect(Object.fromEntries(Object.entries(snapshot(ws)).filter(([k]) => !k.endsWith(".tmp")))).toEqual(before)
    const again = await run()
    expect(JSON.parse(again.stdout).nodes.map((n: { status: string }) => n.status)).toEqual(["cached", "cached"])
    expect((await run(["--force"])).code).toBe(0)
    const after = artifactOf(ws, "big")
    expect(readdirSync(big.dir).sort()).toEqual(
      ["manifest.json", ...Object.values(after.manifest.tables).map((t) => t.file)].sort()
    )
  })

  // a real full disk: a small tmpfs mounted on the artifacts directory (needs permission to mount; CI containers often lack it)
  const canMount = (() => {
    const probe = tempDir("wb-mount-probe-")
    const ok = spawnSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", probe]).status === 0
    if (ok) spawnSync("umount", [probe])
    return ok
  })()
  it.skipIf(!canMount)(
    "a real full disk (small tmpfs) during --force: the failing node's artifact stays as it was, the message names the tmpfs",
    async () => {
      const ws = join(tempDir("wb-integrity-"), ".wb")
      const artifacts = join(ws, "artifacts")
      mkdirSync(artifacts, { recursive: true })
      expect(spawnSync("mount", ["-t", "tmpfs", "-o", "size=8m", "tmpfs", artifacts]).status).toBe(0)
      try {
        expect((await runJson(ws)).code).toBe(0)
        // shrink the disk to what the artifacts use plus 256 KiB: hh's 719 KB pairs file no longer fits twice
        const used = Number(
          spawnSync("df", ["-k", "--output=used", artifacts], { encoding: "utf8" }).stdout.trim().split("\n").at(-1)
        )
        expect(spawnSync("mount", ["-o", `remount,size=${used + 256}k`, artifacts]).status).toBe(0)
        const hh = artifactOf(ws, "hh")
        const before = Object.fromEntries(Object.entries(snapshot(ws)).filter(([k]) => k.startsWith(hh.manifest.key)))

        const forced = await runJson(ws, ["--force"])
        expect(forced.code).toBe(1)
        expect(forced.statuses["hh"]).toBe("failed")
        const error = forced.report.nodes.find((n) => n.name === "hh")!.error!
        expect(error).toContain(`no space left on the disk holding ${hh.dir} (tmpfs mounted at ${artifacts})`)
        expect(error).toMatch(/expected: about 7\d\d KB free for the new artifact/)
        expect(Object.fromEntries(Object.entries(snapshot(ws)).filter(([k]) => k.startsWith(hh.manifest.key)))).toEqual(
          before
        )
        expect(readdirSync(hh.dir).filter((f) => f.endsWith(".tmp"))).toEqual([])

        expect((await wbIn(ws, ["show", QUICKSTART, "hh", "--limit", "1"])).code).toBe(0)
        expect((await runJson(ws)).statuses).toEqual(ALL_CACHED)
        expect(statSync(join(hh.dir, "manifest.json")).isFile()).toBe(true)
      } finally {
        spawnSync("umount", [artifacts])
        rmSync(ws, { recursive: true, force: true })
      }
    }
  )
})
