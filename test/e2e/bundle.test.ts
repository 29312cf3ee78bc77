// `wb` starts from the prebuilt bundle (dist/) when it matches the sources and from the sources
// otherwise; both must behave the same, and a pipeline must never get a second copy of the workbench.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { BUILD_RECORD, type BuildRecord, DIST, freshBundle, sourceFingerprint } from "../../bin/bundle.mjs"
import { pipelineFile, REPO, tempDir, wb } from "./cli-spawn.js"

const FROM_SOURCE = { WB_FROM_SOURCE: "1" }
// the bundle the test setup built, even if a source file changes while the tests run
const FROM_BUNDLE = { WB_FROM_BUNDLE: "1" }

describe("the prebuilt bundle", () => {
  it("is what wb starts from once built (npm ci and the test setup build it)", async () => {
    const r = await wb(["--version"], { cwd: REPO, env: { WB_DEBUG_START: "1" } })
    expect(r.code).toBe(0)
    expect(r.stderr, "dist/ is missing or stale (the test setup builds it)").toContain("wb: starting from the bundle")
    const s = await wb(["--version"], { cwd: REPO, env: { WB_DEBUG_START: "1", ...FROM_SOURCE } })
    expect(s.stderr).toContain("wb: starting from the sources")
    expect(s.stdout).toBe(r.stdout)
  })

  it("is used only while every source file and every bundled package is as it was built from", () => {
    const root = tempDir("wb-bundle-")
    const files = ["workbench/core/a.ts", "nodes/b.ts", "package.json", "node_modules/dep/package.json"]
    for (const f of files) {
      mkdirSync(join(root, f, ".."), { recursive: true })
      writeFileSync(join(root, f), `// ${f}\n`)
    }
    const setDepVersion = (v: string) => writeFileSync(join(root, "node_modules/dep/package.json"), JSON.stringify({ version: v }))
    setDepVersion("1.0.0")
    expect(freshBundle(root)).toBeUndefined() // no build yet
    mkdirSync(join(root, DIST))
    const record = { fingerprint: sourceFingerprint(root), packages: { dep: "1.0.0" }, builtAt: "now", redirects: {} }
    writeFileSync(join(root, DIST, BUILD_RECORD), JSON.stringify(record))
    expect(freshBundle(root)?.fingerprint).toBe(record.fingerprint)

    writeFileSync(join(root, "workbench/core/a.ts"), "// changed\n")
    expect(freshBundle(root)).toBeUndefined()
    writeFileSync(join(root, "workbench/core/a.ts"), "// workbench/core/a.ts\n")
    expect(freshBundle(root)).toBeDefined() // contents count, not modification times
    setDepVersion("1.0.1")
    expect(freshBundle(root)).toBeUndefined()
    setDepVersion("1.0.0")
    expect(freshBundle(root)).toBeDefined()
    writeFileSync(join(root, "nodes/c.ts"), "// new node\n")
    expect(freshBundle(root)).toBeUndefined()
    rmSync(join(root, "nodes/c.ts"))
    expect(freshBundle(root)).toBeDefined()
    rmSync(join(root, "nodes/b.ts"))
    expect(freshBundle(root)).toBeUndefined()
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
    const bundled = await run(FROM_BUNDLE)
    const fromSource = await run(FROM_SOURCE)
    expect(bundled.nodes.every(([, status]) => status === "ran")).toBe(true)
    expect(bundled.rows).toContain("25 rows")
    expect(bundled).toEqual(fromSource)
  })

  it("runs a pipeline kept outside any project, with its own node kind built on the Effect wb runs on", async () => {
    // no node_modules near the file: "preference-workbench" and "effect" resolve to the running wb;
    // a Schema or an Effect from another copy of effect would not decode or run here
    const dir = tempDir("wb-outside-")
    const file = join(dir, "squares.ts")
    writeFileSync(file, `
      import { Effect, Schema } from "effect"
      import { defineNode, output, pipeline, Sql } from "preference-workbench"
      import { dedupe } from "preference-workbench/nodes"

      const squares = defineNode({
        kind: "user.squares", version: 1, summary: "n squares as pairs, every other one twice",
        params: Schema.Struct({ n: Schema.Int.check(Schema.isGreaterThan(0)) }),
        inputs: {},
        outputs: { pairs: output("main", { pair_id: "utf8", prompt: "utf8", response_a: "utf8", response_b: "utf8" }) },
        run: ({ params }) => Effect.gen(function*() {
          const sql = yield* Sql
          const t = sql.tempName("squares")
          yield* sql.run(\`CREATE TABLE \${t} AS SELECT 'p' || (i // 2) AS pair_id, 'square of ' || (i // 2) AS prompt,
            ((i // 2) * (i // 2))::VARCHAR AS response_a, 'no idea' AS response_b FROM range(\${params.n} * 2) r(i)\`)
          return { tables: { pairs: t }, rowsIn: 0 }
        })
      })

      export default pipeline("outside", (p) => {
        const sq = p.node("squares", squares({ n: 4 }))
        p.node("clean", dedupe.exact({ normalize: "none" }), { pairs: sq })
      })
    `)
    const badFile = join(dir, "bad.ts")
    writeFileSync(badFile, readFileSync(file, "utf8").replace("squares({ n: 4 })", "squares({ n: -1 })"))
    for (const env of [FROM_BUNDLE, FROM_SOURCE]) {
      const cwd = tempDir()
      const r = await wb(["run", file, "--json"], { cwd, env })
      expect(r.code, r.stderr).toBe(0)
      const report = JSON.parse(r.stdout) as { nodes: Array<{ name: string; rowsOut: number; removed: number }> }
      expect(report.nodes.map((n) => [n.name, n.rowsOut, n.removed])).toEqual([["squares", 8, 0], ["clean", 4, 4]])
      // the user's Schema decodes the params with the workbench's Effect: a bad value is reported as such
      const bad = await wb(["validate", badFile], { cwd, env })
      expect(bad.code).toBe(1)
      expect(bad.stderr).toContain('node "squares" (user.squares) has invalid params')
      expect(bad.stderr).toContain("param n: found -1; expected a value greater than 0")
    }
  })

  it("refuses a pipeline built by another install of preference-workbench, naming both", async () => {
    // a project with its own (here: a stand-in) preference-workbench: its pipeline() is not ours
    const project = tempDir("wb-other-install-")
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "preference-workbench", type: "module", exports: { ".": "./index.js" } }))
    writeFileSync(join(project, "index.js"), `export const pipeline = (name) => ({ _tag: "PipelineDefinition", name, nodes: [], builtBy: import.meta.url })\n`)
    writeFileSync(join(project, "p.ts"), `import { pipeline } from "preference-workbench"\nexport default pipeline("theirs", () => {})\n`)
    for (const env of [FROM_BUNDLE, FROM_SOURCE]) {
      const r = await wb(["validate", join(project, "p.ts")], { cwd: project, env })
      expect(r.code).toBe(1)
      expect(r.stderr).toContain(
        `its pipeline was built by another copy of preference-workbench (${join(project, "index.js")}) than the one running it (${REPO})`
      )
      expect(r.stderr).toContain("fix: run the wb installed next to the pipeline")
    }
  })

  it("refuses a pipeline that imports a file inside the workbench's sources, and says what to import", async () => {
    const file = pipelineFile("deep-import.ts")
    const r = await wb(["validate", file], { cwd: REPO, env: FROM_BUNDLE })
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

  it("records the fingerprint of the sources and the versions of the packages it was built from", () => {
    const record = JSON.parse(readFileSync(join(REPO, DIST, BUILD_RECORD), "utf8")) as BuildRecord
    expect(record.fingerprint).toBe(sourceFingerprint(REPO))
    expect(record.packages?.["effect"]).toBe("4.1.0")
    expect(Object.keys(record.packages ?? {})).toContain("@duckdb/node-api")
  })
})
