/**
 * `wb run --sample N` (the whole pipeline on the first N records of each source, in a workspace of its
 * own) and `wb gc` (remove the artifacts no pipeline references; a dry run unless --yes), through real
 * `wb` processes on real data and real artifacts.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { FIXTURE_LIBRARY, pipelineFile, REPO, tempDir, wb } from "./cli-spawn.js"

const QUICKSTART = join(REPO, "pipelines", "quickstart.ts")

interface JsonNode {
  readonly name: string
  readonly status: string
  readonly rowsIn: number
  readonly rowsOut: number
  readonly rejected: number
  readonly removed: number
}
const nodes = (stdout: string) => (JSON.parse(stdout) as { nodes: Array<JsonNode> }).nodes
const byName = (stdout: string) => Object.fromEntries(nodes(stdout).map((n) => [n.name, n]))
const artifacts = (ws: string) => (existsSync(join(ws, "artifacts")) ? readdirSync(join(ws, "artifacts")).sort() : [])

describe("wb run --sample N", { timeout: 180_000 }, () => {
  it("runs every loader on its first 50 records in .wb/sample-50/; a later full run is unaffected", async () => {
    const ws = join(tempDir("wb-sample-"), ".wb")
    const run = (...extra: Array<string>) => wb(["run", QUICKSTART, "--workspace", ws, ...extra], { cwd: tempDir() })
    const sample = await run("--sample", "50", "--json")
    expect(sample.code, sample.stderr).toBe(0)
    const s = byName(sample.stdout)
    // 50 records each: HH gives one pair per record; PandaLM's rejects and removals still add up to 50
    expect(s["hh"]).toMatchObject({ rowsIn: 50, rowsOut: 50 })
    expect(s["panda"]!.rowsIn).toBe(50)
    expect(s["panda"]!.rowsOut + s["panda"]!.rejected + s["panda"]!.removed).toBe(50)
    expect(s["clean"]!.rowsIn).toBe(s["hh"]!.rowsOut + s["panda"]!.rowsOut)
    expect(sample.stderr).toMatch(
      /^quickstart · 4 nodes · workspace .*\/sample-50\/ · sample: the first 50 records of each source\n/
    )
    // its own workspace: nothing in the full one
    expect(artifacts(join(ws, "sample-50"))).toHaveLength(4)
    expect(artifacts(ws)).toEqual([])
    const count = await wb(
      ["sql", QUICKSTART, 'select count(*) as n from "hh"', "--format", "csv", "--workspace", ws, "--sample", "50"],
      { cwd: tempDir() }
    )
    expect(count.stdout).toBe("n\n50\n")

    const full = await run("--json")
    expect(full.code, full.stderr).toBe(0)
    const f = byName(full.stdout)
    expect(Object.values(f).map((n) => n.status)).toEqual(["ran", "ran", "ran", "ran"])
    expect(f["hh"]).toMatchObject({ rowsIn: 2312, rowsOut: 2312 })
    expect(f["panda"]!.rowsIn).toBe(999)
    // and the sample stays cached in its own place, apart from the full artifacts
    expect(nodes((await run("--sample", "50", "--json")).stdout).map((n) => n.status)).toEqual([
      "cached",
      "cached",
      "cached",
      "cached"
    ])
    expect(artifacts(join(ws, "sample-50"))).toHaveLength(4)

    const text = await run("--sample", "50")
    expect(text.stdout).toContain(`  wb show ${QUICKSTART} clean --table removed --sample 50\n`)
    expect(text.stdout).toMatch(
      /\nsample run: the first 50 records of each source, kept in .*\/sample-50\/ apart from full runs \(wb show, wb sql and wb gc read it with --sample 50\); the full data: wb run .*quickstart\.ts\n$/
    )
    const zero = await run("--sample", "0")
    expect([zero.code, zero.stderr]).toEqual([
      1,
      [
        "wb run --sample: 0",
        "  expected: how many records of each source to use: a whole number, 1 or more",
        "  fix: pass e.g. --sample 50, or leave the flag out for the full data",
        ""
      ].join("\n")
    ])
  })
})

describe("wb gc", { timeout: 180_000 }, () => {
  it("lists the artifacts no pipeline references (a dry run), then --yes deletes only those", async () => {
    const cwd = tempDir("wb-gc-")
    const ws = join(cwd, ".wb")
    const file = pipelineFile("ok-numbers.ts")
    const run = (...extra: Array<string>) => wb(["run", file, "--json", "--workspace", ws, ...extra], { cwd })
    // three versions: the file's params (current), count 20, and count 30 (the last run)
    expect((await run()).code).toBe(0)
    const current = artifacts(ws)
    expect((await run("--set", "nums.count=20")).code).toBe(0)
    const twenty = artifacts(ws).filter((k) => !current.includes(k))
    expect((await run("--set", "nums.count=30")).code).toBe(0)
    const thirty = artifacts(ws).filter((k) => !current.includes(k) && !twenty.includes(k))
    // few's params did not change: its artifact is shared, so count 20 made nums, even and by4 anew
    expect([current.length, twenty.length, thirty.length]).toEqual([4, 3, 3])

    const dry = await wb(["gc", file, "--workspace", ws], { cwd })
    expect([dry.code, dry.stderr]).toEqual([0, ""])
    const lines = dry.stdout.split("\n")
    expect(lines[0]).toBe(`wb gc · workspace .wb/ · 1 pipeline: ${file}`)
    expect(lines[1]).toMatch(
      /^ {2}keeps 7 artifacts \([\d.]+ kB\): the current and last-run artifacts of those pipelines, and what they were computed from$/
    )
    expect(lines[2]).toMatch(/^ {2}would remove 3 artifacts \([\d.]+ kB, [\d,]+ bytes\):$/)
    expect(lines[3]).toMatch(/^ {4}artifact +node +kind +created +size$/)
    const listed = lines.slice(4, 7).map((l) => l.trim().split(/\s+/))
    expect(listed.map((l) => l[0]).sort()).toEqual(twenty.sort())
    expect(listed.map((l) => l[1]).sort()).toEqual(["by4", "even", "nums"])
    expect(lines.slice(7)).toEqual([`dry run: nothing was removed; remove them with: wb gc ${file} --yes`, ""])
    expect(artifacts(ws)).toHaveLength(10)

    const yes = await wb(["gc", file, "--workspace", ws, "--yes"], { cwd })
    expect(yes.code).toBe(0)
    expect(yes.stdout).toMatch(/\nremoved 3 artifacts, [\d.]+ kB freed\n$/)
    expect(artifacts(ws).sort()).toEqual([...current, ...thirty].sort())
    // what was kept is whole: both kept versions are served from cache, the removed one runs again
    expect(nodes((await run()).stdout).map((n) => n.status)).toEqual(["cached", "cached", "cached", "cached"])
    expect(nodes((await run("--set", "nums.count=30")).stdout).map((n) => n.status)).toEqual([
      "cached",
      "cached",
      "cached",
      "cached"
    ])
    expect((await wb(["gc", file, "--workspace", ws], { cwd })).stdout).toContain("\n  nothing to remove\n")
  })

  it("scans the project's pipelines/ folder by default, and refuses when one of them does not load", async () => {
    const project = tempDir("wb-gc-project-")
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "p", type: "module" }))
    mkdirSync(join(project, "pipelines"))
    writeFileSync(join(project, "pipelines", "numbers.yaml"), readFileSync(pipelineFile("ok-numbers.yaml"), "utf8"))
    const env = FIXTURE_LIBRARY
    expect((await wb(["run", "pipelines/numbers.yaml"], { cwd: project, env })).code).toBe(0)
    const gc = await wb(["gc"], { cwd: project, env })
    expect(gc.code, gc.stderr).toBe(0)
    expect(gc.stdout.split("\n").slice(0, 1)).toEqual(["wb gc · workspace .wb/ · 1 pipeline: pipelines/numbers.yaml"])
    expect(gc.stdout).toContain("\n  nothing to remove\n")
    writeFileSync(join(project, "pipelines", "broken.yaml"), "pipeline: b\nnodes:\n  a: { use: fixture.nope }\n")
    const broken = await wb(["gc"], { cwd: project, env })
    expect(broken.code).toBe(1)
    expect(broken.stderr).toMatch(
      /^wb gc: pipeline file pipelines\/broken\.yaml: it cannot be loaded, so gc cannot tell which artifacts it references:\n {4}pipeline "b" is invalid\n/
    )
    expect(broken.stderr).toContain(
      "  fix: fix the file, or name the pipelines to keep artifacts for: wb gc pipelines/numbers.yaml\n"
    )
  })
})
