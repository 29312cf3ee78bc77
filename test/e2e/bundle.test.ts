// `wb` starts from the prebuilt bundle (dist/) when it matches the sources and from the sources
// otherwise; both must behave the same, and a pipeline must never get a second copy of the workbench.
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { BUILD_RECORD, DIST, freshBundle, sourceFingerprint } from "../../bin/bundle.mjs"
import { pipelineFile, REPO, tempDir, wb } from "./cli-spawn.js"

const FROM_SOURCE = { WB_FROM_SOURCE: "1" }

describe("the prebuilt bundle", () => {
  it("is what wb starts from after `npm run build` (npm test and npm ci build it)", async () => {
    const r = await wb(["--version"], { cwd: REPO, env: { WB_DEBUG_START: "1" } })
    expect(r.code).toBe(0)
    expect(r.stderr, "dist/ is missing or stale: run `npm run build`").toContain("wb: starting from the bundle")
    const s = await wb(["--version"], { cwd: REPO, env: { WB_DEBUG_START: "1", ...FROM_SOURCE } })
    expect(s.stderr).toContain("wb: starting from the sources")
    expect(s.stdout).toBe(r.stdout)
  })

  it("is used only while every source file, the lockfile and the build script are as they were built", () => {
    const root = tempDir("wb-bundle-")
    for (const f of ["workbench/core/a.ts", "nodes/b.ts", "package.json"]) {
      mkdirSync(join(root, f, ".."), { recursive: true })
      writeFileSync(join(root, f), `// ${f}\n`)
    }
    expect(freshBundle(root)).toBeUndefined() // no build yet
    mkdirSync(join(root, DIST))
    const record = { fingerprint: sourceFingerprint(root), builtAt: "now", redirects: {} }
    writeFileSync(join(root, DIST, BUILD_RECORD), JSON.stringify(record))
    expect(freshBundle(root)?.fingerprint).toBe(record.fingerprint)

    writeFileSync(join(root, "workbench/core/a.ts"), "// changed\n")
    expect(freshBundle(root)).toBeUndefined()
    writeFileSync(join(root, "workbench/core/a.ts"), "// workbench/core/a.ts\n")
    expect(freshBundle(root)).toBeDefined() // contents count, not modification times
    writeFileSync(join(root, "nodes/c.ts"), "// new node\n")
    expect(freshBundle(root)).toBeUndefined()
    cpSync(join(root, "nodes/c.ts"), join(root, "package-lock.json"))
    expect(sourceFingerprint(root)).not.toBe(record.fingerprint)
  })

  it("runs a TypeScript pipeline to the same tables as the sources do", async () => {
    const run = async (env: Record<string, string>) => {
      const cwd = tempDir()
      const r = await wb(["run", pipelineFile("ok-numbers.ts"), "--json"], { cwd, env })
      expect(r.code, r.stderr).toBe(0)
      const shown = await wb(["sql", pipelineFile("ok-numbers.ts"), "select * from \"by4.kept\" order by all"], { cwd, env })
      expect(shown.code, shown.stderr).toBe(0)
      const report = JSON.parse(r.stdout) as { nodes: Array<{ name: string; status: string; rowsOut: number }> }
      return { nodes: report.nodes.map((n) => [n.name, n.status, n.rowsOut]), rows: shown.stdout }
    }
    const bundled = await run({})
    const fromSource = await run(FROM_SOURCE)
    expect(bundled.nodes.every(([, status]) => status === "ran")).toBe(true)
    expect(bundled.rows).toContain("25 rows")
    expect(bundled).toEqual(fromSource)
  })

  it("refuses a pipeline that imports a file inside the workbench's sources, and says what to import", async () => {
    const file = pipelineFile("deep-import.ts")
    const r = await wb(["validate", file], { cwd: REPO })
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(
      "imports workbench/core/pipeline.ts, a file inside the workbench's sources, while wb runs from its prebuilt bundle"
    )
    expect(r.stderr).toContain('fix: import the workbench as "preference-workbench" and its nodes as "preference-workbench/nodes"')
    // the same file is fine from the sources, where there is one copy
    const s = await wb(["validate", file], { cwd: REPO, env: FROM_SOURCE })
    expect(s.code, s.stderr).toBe(0)
    expect(s.stdout).toContain("pipeline deep-import is valid")
  })

  it("records the fingerprint of the sources it was built from", () => {
    const record = JSON.parse(readFileSync(join(REPO, DIST, BUILD_RECORD), "utf8")) as { fingerprint: string }
    expect(record.fingerprint).toBe(sourceFingerprint(REPO))
  })
})
