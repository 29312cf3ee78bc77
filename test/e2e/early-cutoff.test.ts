// Early cutoff through `wb run` and `wb ls`, with the library's nodes on the shipped HH-RLHF data: a
// filter whose new condition keeps the same rows re-runs alone, `--from` a loader that writes the same
// rows re-runs the loader alone, and a condition that removes rows re-runs everything below it.
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { REPO, tempDir, wb } from "./cli-spawn.js"

const HH = join(REPO, "data", "hh-rlhf-harmless-base", "test.jsonl.gz")

/** hh → short (filter.sql `where`) → clean (dedupe.pairs) → summary, written as YAML in `dir`. */
function writePipeline(dir: string, where: string): string {
  const file = join(dir, "cutoff.yaml")
  writeFileSync(
    file,
    [
      "pipeline: cutoff",
      "nodes:",
      `  hh: { use: load.hh-rlhf, with: { path: ${JSON.stringify(HH)} } }`,
      `  short: { use: filter.sql, in: { pairs: hh, votes: hh.votes }, with: { where: ${JSON.stringify(where)} } }`,
      "  clean: { use: dedupe.pairs, in: { pairs: short, votes: short.votes }, with: { normalize: none } }",
      "  summary: { use: report.summary, in: { pairs: clean, loaded: hh, removed: clean.removed } }",
      ""
    ].join("\n")
  )
  return file
}

const run = async (dir: string, file: string, ...flags: Array<string>) => {
  const r = await wb(["run", file, "--json", ...flags], { cwd: dir })
  expect(r.code, r.stderr).toBe(0)
  const report = JSON.parse(r.stdout) as { nodes: Array<{ name: string; status: string }> }
  return Object.fromEntries(report.nodes.map((n) => [n.name, n.status]))
}

/** `wb ls`: node name → its cache column. */
const ls = async (dir: string, file: string) => {
  const r = await wb(["ls", file], { cwd: dir })
  expect(r.code, r.stderr).toBe(0)
  return Object.fromEntries(
    r.stdout
      .split("\n")
      .slice(2)
      .filter((l) => l.trim() !== "")
      .map((l) => {
        const name = l.trim().split(/ +/)[0]!
        return [name, l.slice(l.search(/(cached|stale|not run|damaged)/))]
      })
  )
}

describe("early cutoff end to end", { timeout: 120_000 }, () => {
  it("re-runs only the nodes whose inputs' content changed; wb ls says which wait on an upstream", async () => {
    const dir = tempDir("wb-cutoff-")
    let file = writePipeline(dir, "prompt is not null")
    expect(await run(dir, file)).toEqual({ hh: "ran", short: "ran", clean: "ran", summary: "ran" })

    // the loader keeps no NULL prompt, so `true` keeps the same rows: only the filter re-runs
    file = writePipeline(dir, "true")
    const before = await ls(dir, file)
    expect(before["hh"]).toMatch(/^cached · 2,312 rows/)
    expect(before["short"]).toMatch(/^stale · params or inputs changed since its last run/)
    expect(before["clean"]).toMatch(
      /^stale \(upstream\) · "short" runs first; this re-runs only if its output changes \(last run \d{4}-\d\d-\d\d \d\d:\d\d UTC\)$/
    )
    // summary also reads hh, which is cached: it waits on clean alone
    expect(before["summary"]).toMatch(
      /^stale \(upstream\) · "clean" runs first; this re-runs only if its output changes/
    )
    expect(await run(dir, file)).toEqual({ hh: "cached", short: "ran", clean: "cached", summary: "cached" })
    expect(Object.values(await ls(dir, file)).every((s) => s.startsWith("cached"))).toBe(true)

    // the loader re-run by --from writes the same bytes: nothing below it runs
    expect(await run(dir, file, "--from", "hh")).toEqual({
      hh: "ran",
      short: "cached",
      clean: "cached",
      summary: "cached"
    })

    // a condition that removes rows: the filter's output changes, so everything below it runs
    file = writePipeline(dir, "length(prompt) < 500")
    expect(await run(dir, file)).toEqual({ hh: "cached", short: "ran", clean: "ran", summary: "ran" })
  })
})
