// `wb` runs the compiled package (dist/) and, in a checkout whose dist/ is stale, the sources; both
// must behave the same, a pipeline must never get a second copy of the workbench, and the commands
// that only read (`--version`, `validate`, `ls`, `nodes`) must not load DuckDB.
import { spawnSync } from "node:child_process"
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { describe, expect, it } from "vitest"
import { BUILD_RECORD, DIST, distIsFresh, sourceFingerprint } from "../../scripts/dist-record.mjs"
import { pipelineFile, REPO, tempDir, wb } from "./cli-spawn.js"

const FROM_SOURCE = { WB_FROM_SOURCE: "1" }
// dist/ as the test setup compiled it, even if a source file changes while the tests run
const FROM_DIST = { WB_FROM_DIST: "1" }

describe("dist/, the compiled package", () => {
  it("is what wb starts from once compiled, and the sources are, in a checkout, once one changes", async () => {
    // a checkout of its own (this one's sources change under other tests while a file is edited)
    const checkout = tempDir("wb-checkout-")
    for (const f of ["workbench", "nodes", "bin", "scripts", "tsconfig.json", "tsconfig.build.json", "package.json"]) {
      cpSync(join(REPO, f), join(checkout, f), { recursive: true })
    }
    symlinkSync(join(REPO, "node_modules"), join(checkout, "node_modules"))
    const version = async (env: Record<string, string> = {}) => {
      const r = spawnSync(process.execPath, [join(checkout, "bin/wb.js"), "--version"], {
        cwd: checkout,
        encoding: "utf8",
        env: { ...process.env, WB_DEBUG_START: "1", ...env }
      })
      return { code: r.status, stdout: r.stdout, stderr: r.stderr }
    }
    expect((await version()).stderr).toContain("wb: starting from the sources") // no dist/ yet
    const built = spawnSync(process.execPath, [join(checkout, "scripts/build.mjs"), "--allow-type-errors"], {
      encoding: "utf8"
    })
    expect(built.status, built.stderr).toBe(0)
    const r = await version()
    expect(r.code).toBe(0)
    expect(r.stderr).toContain("wb: starting from dist")
    expect(r.stdout).toContain("wb v0.1.0")
    const s = await version(FROM_SOURCE)
    expect(s.stderr).toContain("wb: starting from the sources")
    expect(s.stdout).toBe(r.stdout)
    // an edit makes dist/ stale: the sources run, until `npm run build`
    const file = join(checkout, "workbench/index.ts")
    writeFileSync(file, `${readFileSync(file, "utf8")}// an edit\n`)
    expect((await version()).stderr).toContain("wb: starting from the sources")
    expect((await version(FROM_DIST)).stderr).toContain("wb: starting from dist")
  })

  it("counts as fresh only while every source file is as it was compiled from", () => {
    const root = tempDir("wb-dist-")
    for (const f of ["workbench/core/a.ts", "nodes/b.ts", "nodes/lib/k.js", "tsconfig.build.json"]) {
      mkdirSync(join(root, f, ".."), { recursive: true })
      writeFileSync(join(root, f), `// ${f}\n`)
    }
    expect(distIsFresh(root)).toBe(false) // not compiled yet
    mkdirSync(join(root, DIST))
    writeFileSync(
      join(root, DIST, BUILD_RECORD),
      JSON.stringify({ fingerprint: sourceFingerprint(root), compiler: "typescript" })
    )
    expect(distIsFresh(root)).toBe(true)
    // the package.json of a checkout changes with every dependency; dist/ imports packages by name
    writeFileSync(join(root, "package.json"), "{}")
    expect(distIsFresh(root)).toBe(true)

    writeFileSync(join(root, "workbench/core/a.ts"), "// changed\n")
    expect(distIsFresh(root)).toBe(false)
    writeFileSync(join(root, "workbench/core/a.ts"), "// workbench/core/a.ts\n")
    expect(distIsFresh(root)).toBe(true) // contents count, not modification times
    writeFileSync(join(root, "nodes/lib/k.js"), "// changed\n")
    expect(distIsFresh(root)).toBe(false) // plain JS is copied into dist/, so it counts too
    writeFileSync(join(root, "nodes/lib/k.js"), "// nodes/lib/k.js\n")
    writeFileSync(join(root, "tsconfig.build.json"), "{}")
    expect(distIsFresh(root)).toBe(false)
    writeFileSync(join(root, "tsconfig.build.json"), "// tsconfig.build.json\n")
    expect(distIsFresh(root)).toBe(true)
    writeFileSync(join(root, "nodes/c.ts"), "// new node\n")
    expect(distIsFresh(root)).toBe(false)
    rmSync(join(root, "nodes/c.ts"))
    expect(distIsFresh(root)).toBe(true)
    rmSync(join(root, "nodes/b.ts"))
    expect(distIsFresh(root)).toBe(false)
  })

  it("records what it was compiled from, and nothing of the machine (a clone elsewhere matches it)", () => {
    const text = readFileSync(join(REPO, DIST, BUILD_RECORD), "utf8")
    expect(text).not.toContain(REPO)
    const record = JSON.parse(text) as Record<string, unknown>
    expect(Object.keys(record).filter((k) => !["compiler", "fingerprint", "typeErrors"].includes(k))).toEqual([])
    expect(record["compiler"]).toMatch(/^typescript \d/)
    // a copy of the sources at another path, with other modification times, has the same fingerprint
    const copy = tempDir("wb-clone-")
    for (const f of [
      "workbench",
      "nodes",
      "tsconfig.json",
      "tsconfig.build.json",
      "scripts/build.mjs",
      "scripts/build-ui.mjs",
      "scripts/dist-record.mjs"
    ]) {
      cpSync(join(REPO, f), join(copy, f), { recursive: true, preserveTimestamps: false })
    }
    expect(sourceFingerprint(copy)).toBe(sourceFingerprint(REPO))
  })

  it("mirrors the sources: a .js and a .d.ts per module, and the plain-JS MinHash worker beside its pool", () => {
    for (const f of ["workbench/index", "nodes/index", "workbench/cli/main", "nodes/lib/minhash-pool"]) {
      expect(readFileSync(join(REPO, DIST, `${f}.js`), "utf8").length).toBeGreaterThan(0)
      expect(readFileSync(join(REPO, DIST, `${f}.d.ts`), "utf8").length).toBeGreaterThan(0)
    }
    expect(readFileSync(join(REPO, DIST, "nodes/lib/minhash-worker.js"), "utf8")).toBe(
      readFileSync(join(REPO, "nodes/lib/minhash-worker.js"), "utf8")
    )
  })

  it("runs a TypeScript pipeline to the same tables as the sources do", async () => {
    const run = async (env: Record<string, string>) => {
      const cwd = tempDir()
      // a workspace per run (the default is the project's, shared by both)
      const ws = ["--workspace", join(cwd, ".wb")]
      const r = await wb(["run", pipelineFile("ok-numbers.ts"), "--json", ...ws], { cwd, env })
      expect(r.code, r.stderr).toBe(0)
      const shown = await wb(["sql", pipelineFile("ok-numbers.ts"), 'select * from "by4.kept" order by all', ...ws], {
        cwd,
        env
      })
      expect(shown.code, shown.stderr).toBe(0)
      const report = JSON.parse(r.stdout) as { nodes: Array<{ name: string; status: string; rowsOut: number }> }
      return { nodes: report.nodes.map((n) => [n.name, n.status, n.rowsOut]), rows: shown.stdout }
    }
    const compiled = await run(FROM_DIST)
    const fromSource = await run(FROM_SOURCE)
    expect(compiled.nodes.every(([, status]) => status === "ran")).toBe(true)
    expect(compiled.rows).toContain("25 rows")
    expect(compiled).toEqual(fromSource)
  })

  it("runs a pipeline kept outside any project, with its own node kind built on the Effect wb runs on", async () => {
    // no node_modules near the file: "preference-workbench" and "effect" resolve to the running wb;
    // a Schema or an Effect from another copy of effect would not decode or run here
    const dir = tempDir("wb-outside-")
    const file = join(dir, "squares.ts")
    writeFileSync(
      file,
      `
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
          const pairs = yield* sql.create("squares", \`SELECT 'p' || (i // 2) AS pair_id, 'square of ' || (i // 2) AS prompt,
            ((i // 2) * (i // 2))::VARCHAR AS response_a, 'no idea' AS response_b FROM range(\${params.n} * 2) r(i)\`)
          return { tables: { pairs }, rowsIn: 0 }
        })
      })

      export default pipeline("outside", (p) => {
        const sq = p.node("squares", squares({ n: 4 }))
        p.node("clean", dedupe.exact({ normalize: "none" }), { pairs: sq })
      })
    `
    )
    const badFile = join(dir, "bad.ts")
    writeFileSync(badFile, readFileSync(file, "utf8").replace("squares({ n: 4 })", "squares({ n: -1 })"))
    for (const env of [FROM_DIST, FROM_SOURCE]) {
      const cwd = tempDir()
      const r = await wb(["run", file, "--json", "--workspace", join(cwd, ".wb")], { cwd, env })
      expect(r.code, r.stderr).toBe(0)
      const report = JSON.parse(r.stdout) as { nodes: Array<{ name: string; rowsOut: number; removed: number }> }
      expect(report.nodes.map((n) => [n.name, n.rowsOut, n.removed])).toEqual([
        ["squares", 8, 0],
        ["clean", 4, 4]
      ])
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
    writeFileSync(
      join(project, "package.json"),
      JSON.stringify({ name: "preference-workbench", type: "module", exports: { ".": "./index.js" } })
    )
    writeFileSync(
      join(project, "index.js"),
      `export const pipeline = (name) => ({ _tag: "PipelineDefinition", name, nodes: [], builtBy: import.meta.url })\n`
    )
    writeFileSync(
      join(project, "p.ts"),
      `import { pipeline } from "preference-workbench"\nexport default pipeline("theirs", () => {})\n`
    )
    for (const env of [FROM_DIST, FROM_SOURCE]) {
      const r = await wb(["validate", join(project, "p.ts")], { cwd: project, env })
      expect(r.code).toBe(1)
      expect(r.stderr).toContain(
        `its pipeline was built by another copy of preference-workbench (${join(project, "index.js")}) than the one running it (${REPO})`
      )
      expect(r.stderr).toContain("fix: run the wb installed next to the pipeline")
    }
  })

  it("gives a pipeline that imports a source file the module wb runs (its dist/ twin), not a second copy", async () => {
    // deep-import.ts imports workbench/core/pipeline.ts by path: a second copy's pipeline() would be
    // refused as built by another copy, so a valid result means the twin was used
    const file = pipelineFile("deep-import.ts")
    for (const env of [FROM_DIST, FROM_SOURCE]) {
      const r = await wb(["validate", file], { cwd: REPO, env })
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout).toContain("pipeline deep-import is valid")
    }
  })
  it("compiles a TypeScript pipeline file again when it changes, and only then", async () => {
    // compiled files are kept per user (XDG_CACHE_HOME here), keyed by path and content
    const cache = tempDir("wb-ts-cache-")
    const dir = tempDir("wb-edit-")
    const file = join(dir, "p.ts")
    const write = (name: string) =>
      writeFileSync(
        file,
        `import { pipeline } from "preference-workbench"\nexport default pipeline("${name}", () => {})\n`
      )
    const validate = () => wb(["validate", file], { cwd: dir, env: { ...FROM_DIST, XDG_CACHE_HOME: cache } })
    write("first")
    expect((await validate()).stdout).toContain("pipeline first is valid")
    const entries = readdirSync(join(cache, "preference-workbench/ts"))
    expect(entries).toHaveLength(1)
    const entry = join(cache, "preference-workbench/ts", entries[0]!)
    // a stale entry would say "first": the content is part of the key
    write("second")
    expect((await validate()).stdout).toContain("pipeline second is valid")
    expect(readFileSync(entry, "utf8")).toContain('pipeline("second"')
    // an unchanged file is not compiled again: a planted entry with the right key is what runs
    writeFileSync(entry, readFileSync(entry, "utf8").replace('pipeline("second"', 'pipeline("from-cache"'))
    expect((await validate()).stdout).toContain("pipeline from-cache is valid")
  })
})

describe("what wb loads", () => {
  /** The module URLs a `wb` process loaded (ES modules through a load hook registered before wb's own, CommonJS ones from require's cache). */
  const loadedModules = async (args: ReadonlyArray<string>, cwd: string) => {
    const dir = tempDir("wb-probe-")
    const out = join(dir, "loaded.txt")
    writeFileSync(
      join(dir, "hook.mjs"),
      `import { appendFileSync } from "node:fs"
export async function load(url, context, next) { appendFileSync(${JSON.stringify(out)}, url + "\\n"); return next(url, context) }\n`
    )
    writeFileSync(
      join(dir, "register.mjs"),
      // ES modules pass the load hook; CommonJS ones loaded with require (DuckDB's API) are in require's cache at exit
      `import { appendFileSync } from "node:fs"\nimport { createRequire, register } from "node:module"\nimport { pathToFileURL } from "node:url"\n` +
        `register(${JSON.stringify(pathToFileURL(join(dir, "hook.mjs")).href)})\n` +
        `const cjs = createRequire(import.meta.url)("node:module")._cache\n` +
        `process.on("exit", () => appendFileSync(${JSON.stringify(out)}, Object.keys(cjs).map((f) => pathToFileURL(f).href + "\\n").join("")))\n`
    )
    writeFileSync(out, "")
    const r = await wb(args, {
      cwd,
      env: { ...FROM_DIST, NODE_OPTIONS: `--import=${pathToFileURL(join(dir, "register.mjs")).href}` }
    })
    expect(r.code, r.stderr).toBe(0)
    return readFileSync(out, "utf8")
      .split("\n")
      .filter((l) => l !== "")
  }
  const duckdb = (urls: ReadonlyArray<string>) => urls.filter((u) => u.includes("/@duckdb/"))

  it("never loads DuckDB for --version, validate, ls and nodes; run does", async () => {
    const cwd = tempDir()
    const ts = pipelineFile("ok-numbers.ts")
    const ran = await loadedModules(["run", ts, "--json"], cwd)
    expect(duckdb(ran).length, "the probe sees DuckDB when it loads").toBeGreaterThan(0)
    expect(ran.some((u) => u.includes(`/${DIST}/workbench/cli/run.js`))).toBe(true)
    for (const args of [
      ["--version"],
      ["validate", ts],
      ["validate", join(REPO, "pipelines/quickstart.yaml")],
      ["ls", ts],
      ["nodes"],
      ["nodes", "dedupe.pairs"]
    ]) {
      const urls = await loadedModules(args, cwd)
      expect(urls.length, args.join(" ")).toBeGreaterThan(100) // effect's modules at least: the probe works
      expect(duckdb(urls), args.join(" ")).toEqual([])
    }
    // --version loads no command at all
    const version = await loadedModules(["--version"], cwd)
    expect(version.filter((u) => /\/cli\/(run|validate|ls|show|sql|nodes)\.js$/.test(u))).toEqual([])
  })
})
