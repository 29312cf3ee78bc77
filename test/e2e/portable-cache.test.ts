// The cache survives what does not change a file's bytes: the quickstart project copied to another
// path (new absolute paths, new mtimes) is served from cache, and so is a `touch` on its data; one
// more line in the HH-RLHF file re-runs that loader and what is downstream of it, nothing else.
// Real `wb` processes on the shipped data.
import { appendFileSync, cpSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { gzipSync } from "node:zlib"
import { describe, expect, it } from "vitest"
import { REPO, tempDir, wb } from "./cli-spawn.js"

interface JsonReport {
  readonly nodes: ReadonlyArray<{ name: string; status: string; rowsIn: number; rowsOut: number }>
}
const statuses = (r: JsonReport) => Object.fromEntries(r.nodes.map((n) => [n.name, n.status]))

/** `wb run pipelines/quickstart.yaml --json` in `project` (its own root, and workspace .wb/ unless `extra` says). */
const run = async (project: string, extra: ReadonlyArray<string> = []) => {
  const r = await wb(["run", "pipelines/quickstart.yaml", "--json", ...extra], { cwd: project })
  expect(r.code, r.stderr).toBe(0)
  return JSON.parse(r.stdout) as JsonReport
}

/** A project of its own: the quickstart pipeline and the two data folders it reads. */
function makeProject(): string {
  const project = tempDir("wb-portable-")
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "portable-copy", private: true }))
  mkdirSync(join(project, "pipelines"))
  cpSync(join(REPO, "pipelines", "quickstart.yaml"), join(project, "pipelines", "quickstart.yaml"))
  for (const d of ["hh-rlhf-harmless-base", "pandalm-testset"])
    cpSync(join(REPO, "data", d), join(project, "data", d), { recursive: true })
  return project
}

describe("a portable cache", () => {
  it("serves a copied or re-cloned project from cache, ignores touch, and re-runs the loader and its downstream when a line is added", async () => {
    const first = makeProject()
    expect(statuses(await run(first))).toEqual({ hh: "ran", panda: "ran", clean: "ran", summary: "ran" })

    // another path, every file copied anew (new mtimes), the workspace with it
    const second = tempDir("wb-portable-b-")
    cpSync(first, second, { recursive: true })
    expect(statuses(await run(second))).toEqual({ hh: "cached", panda: "cached", clean: "cached", summary: "cached" })
    // a fresh clone elsewhere, without a workspace of its own, using the first one's
    const third = makeProject()
    expect(statuses(await run(third, ["--workspace", join(first, ".wb")]))).toEqual({
      hh: "cached",
      panda: "cached",
      clean: "cached",
      summary: "cached"
    })

    const hh = join(second, "data", "hh-rlhf-harmless-base", "test.jsonl.gz")
    const later = new Date(Date.now() + 60_000)
    utimesSync(hh, later, later)
    utimesSync(join(second, "data", "pandalm-testset", "testset-v1.json"), later, later)
    expect(statuses(await run(second))).toEqual({ hh: "cached", panda: "cached", clean: "cached", summary: "cached" })

    // one more record, as a second gzip member (what `echo … | gzip >> file` gives)
    const record = {
      chosen: "\n\nHuman: One more?\n\nAssistant: Yes.",
      rejected: "\n\nHuman: One more?\n\nAssistant: No."
    }
    appendFileSync(hh, gzipSync(`${JSON.stringify(record)}\n`))
    const changed = await run(second)
    expect(statuses(changed)).toEqual({ hh: "ran", panda: "cached", clean: "ran", summary: "ran" })
    expect(changed.nodes.find((n) => n.name === "hh")).toMatchObject({ rowsIn: 2313, rowsOut: 2313 })
    // the hashes are remembered in the workspace, by absolute path (a file changed in the last 2 s is
    // hashed again next time instead): the judge file, copied runs ago and untouched since, is there
    const hashes = JSON.parse(readFileSync(join(second, ".wb", "file-hashes.json"), "utf8")) as Record<string, unknown>
    expect(Object.keys(hashes)).toContain(join(second, "data", "pandalm-testset", "pandalm-7b-testset-v1.json"))
  })
})
