// The package as a user gets it: `npm pack`, then `npm install <tarball>` into a fresh project (no
// overrides, nothing from this checkout but the tarball and copies of the shipped data). This is what
// keeps preference-workbench installable: plain Node imports it, tsc type-checks a user's node
// against its .d.ts, `npx wb` runs a YAML pipeline with that node, and effect is one package.
import { spawnSync } from "node:child_process"
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { transformSync } from "esbuild"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { REPO, tempDir } from "./cli-spawn.js"

// installing from the registry (its cache first) takes 10-60 s
const INSTALL_MS = 300_000

// npm run-script (`npm test`) exports npm_* settings of this checkout; the consumer's npm must not see them
const cleanEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith("npm_"))),
  NO_COLOR: "1",
  ...extra
})

const sh = (cmd: string, args: ReadonlyArray<string>, cwd: string, env: Record<string, string> = {}) => {
  const r = spawnSync(cmd, args, { cwd, env: cleanEnv(env), encoding: "utf8", timeout: INSTALL_MS })
  return { code: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "", error: r.error }
}

const ok = (r: ReturnType<typeof sh>, what: string) => {
  expect(r.error, what).toBeUndefined()
  expect(r.code, `${what}\n${r.stdout}\n${r.stderr}`).toBe(0)
  return r
}

/** The user's own node kind, in TypeScript: `n` squares as pairs, every other one twice. */
const USER_NODES = `
import { Effect, Schema } from "effect"
import { defineNode, output, Sql } from "preference-workbench"

export const squares = defineNode({
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

`

/** The project's wb.config.ts: registers the user's kind beside the built-in ones, for YAML and `wb nodes`. */
const WB_CONFIG = `
import { defineConfig } from "preference-workbench"
import { squares } from "./my-nodes.js"

export default defineConfig({ nodes: [squares] })
`

/** Runs the quickstart (pipelines/quickstart.ts as plain JavaScript) through the library API. */
const RUN_QUICKSTART = `
import { runPipeline } from "preference-workbench"
import quickstart from "./quickstart.mjs"

const result = await runPipeline(quickstart, { workspace: ".wb" })
console.log(JSON.stringify({
  status: result.report.status,
  nodes: result.report.nodes.map((n) => [n.name, n.status, n.rowsIn, n.rowsOut]),
  removed: result.nodes.clean.tables.removed
}))
`

const TSCONFIG = {
  compilerOptions: {
    target: "ES2022",
    module: "NodeNext",
    moduleResolution: "NodeNext",
    strict: true,
    noEmit: true,
    // no @types/node in this project: the package's types must not need it
    types: []
  },
  files: ["my-nodes.ts", "wb.config.ts"]
}

describe("the package, installed from its tarball into a fresh project", () => {
  let project = ""
  let packed: ReadonlyArray<string> = []
  let into = ""

  beforeAll(() => {
    // --ignore-scripts: the test setup compiled dist/ (prepack would compile it again, under the
    // feet of the other tests' running wb); CI's `npm ci` compiled it as `prepare`
    into = tempDir("wb-pack-")
    const pack = ok(sh("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", into], REPO), "npm pack")
    const [info] = JSON.parse(pack.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>
    packed = info!.files.map((f) => f.path)
    project = tempDir("wb-consumer-")
    ok(sh("npm", ["init", "-y"], project), "npm init")
    ok(sh("npm", ["pkg", "set", "type=module"], project), "npm pkg set")
    ok(
      sh("npm", ["install", join(into, info!.filename), "--no-audit", "--no-fund", "--prefer-offline"], project),
      "npm install"
    )
    for (const d of ["hh-rlhf-harmless-base", "pandalm-testset"])
      cpSync(join(REPO, "data", d), join(project, "data", d), { recursive: true })
    writeFileSync(join(project, "my-nodes.ts"), USER_NODES)
    writeFileSync(join(project, "wb.config.ts"), WB_CONFIG)
    writeFileSync(join(project, "tsconfig.json"), JSON.stringify(TSCONFIG, null, 2))
  }, INSTALL_MS)

  // the project holds a full install (~150 MB): not left behind in the temp folder
  afterAll(() => {
    for (const dir of [project, into]) if (dir !== "") rmSync(dir, { recursive: true, force: true })
  })

  it("ships the compiled package, its command and docs, and no sources or build scripts", () => {
    expect(packed).toContain("bin/wb.js")
    expect(packed).toContain("dist/workbench/index.js")
    expect(packed).toContain("dist/workbench/index.d.ts")
    expect(packed).toContain("dist/nodes/index.d.ts")
    expect(packed).toContain("dist/nodes/lib/minhash-worker.js")
    expect(packed).toContain("README.md")
    const docs = existsSync(join(REPO, "docs")) ? readdirSync(join(REPO, "docs")).map((f) => `docs/${f}`) : []
    expect(packed).toEqual(expect.arrayContaining(docs))
    expect(packed.filter((p) => p.endsWith(".ts") && !p.endsWith(".d.ts"))).toEqual([])
    expect(packed.filter((p) => p.startsWith("scripts/") || p.startsWith("test/"))).toEqual([])
    // the build record names nothing of the machine that built it
    const record = readFileSync(join(project, "node_modules/preference-workbench/dist/build.json"), "utf8")
    expect(record).not.toContain(REPO)
    expect(
      Object.keys(JSON.parse(record) as object).filter((k) => !["compiler", "fingerprint", "typeErrors"].includes(k))
    ).toEqual([])
  })

  it("imports with plain node and runs the quickstart through runPipeline", () => {
    // the repository's quickstart, its types (if any) stripped: the pipeline as a JavaScript user writes it
    const js = transformSync(readFileSync(join(REPO, "pipelines/quickstart.ts"), "utf8"), {
      loader: "ts",
      format: "esm"
    }).code
    writeFileSync(join(project, "quickstart.mjs"), js)
    writeFileSync(join(project, "run-quickstart.mjs"), RUN_QUICKSTART)
    const r = ok(sh(process.execPath, ["run-quickstart.mjs"], project), "node run-quickstart.mjs")
    const out = JSON.parse(r.stdout) as {
      status: string
      nodes: Array<[string, string, number, number]>
      removed: string
    }
    expect(out.status, r.stdout + r.stderr).toBe("ok")
    expect(out.nodes).toEqual([
      ["hh", "ran", 2312, 2312],
      ["panda", "ran", 999, 993],
      ["clean", "ran", 3305, 3145],
      ["summary", "ran", 3145, 17]
    ])
    expect(out.removed.startsWith(join(project, ".wb"))).toBe(true)
    expect(existsSync(out.removed)).toBe(true)
  })

  it("type-checks a user's node with the package's types, and names a param of the wrong type", () => {
    const tsc = join(REPO, "node_modules/.bin/tsc")
    ok(sh(tsc, ["-p", "tsconfig.json"], project), "tsc on my-nodes.ts")
    writeFileSync(
      join(project, "bad.ts"),
      `import { squares } from "./my-nodes.js"\nexport const spec = squares({ n: "four" })\n`
    )
    writeFileSync(join(project, "tsconfig.bad.json"), JSON.stringify({ extends: "./tsconfig.json", files: ["bad.ts"] }))
    const bad = sh(tsc, ["-p", "tsconfig.bad.json"], project)
    expect(bad.code).not.toBe(0)
    expect(bad.stdout).toContain("bad.ts(2,31): error TS2322: Type 'string' is not assignable to type 'number'.")
  })

  it("runs a YAML pipeline that uses the user's node (wb.config.ts) beside a built-in one with npx wb, from dist/", () => {
    const yaml = (n: number) =>
      `pipeline: squares\nnodes:\n  squares: { use: user.squares, with: { n: ${n} } }\n` +
      "  clean: { use: dedupe.exact, in: { pairs: squares }, with: { normalize: none } }\n"
    writeFileSync(join(project, "squares.yaml"), yaml(4))
    const env = { WB_DEBUG_START: "1" }
    const r = ok(sh("npx", ["wb", "run", "squares.yaml", "--json"], project, env), "npx wb run squares.yaml")
    // an installed copy runs what it ships and never asks its user to build it
    expect(r.stderr).toContain("wb: starting from dist")
    expect(r.stderr).not.toContain("npm run build")
    const report = JSON.parse(r.stdout) as {
      nodes: Array<{ name: string; status: string; rowsOut: number; removed: number }>
    }
    expect(report.nodes.map((n) => [n.name, n.status, n.rowsOut, n.removed])).toEqual([
      ["squares", "ran", 8, 0],
      ["clean", "ran", 4, 4]
    ])
    // the user's Schema, from the project's effect, decodes the params in the workbench
    writeFileSync(join(project, "bad.yaml"), yaml(-1))
    const bad = sh("npx", ["wb", "validate", "bad.yaml"], project, env)
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain("param n: found -1; expected a value greater than 0")
  })

  it("holds exactly one copy of effect", () => {
    const r = ok(sh("npm", ["ls", "effect", "--all", "--json"], project), "npm ls effect")
    const versions = new Set<string>()
    const walk = (deps: Record<string, { version?: string; dependencies?: Record<string, unknown> }> | undefined) => {
      for (const [name, d] of Object.entries(deps ?? {})) {
        if (name === "effect" && d.version !== undefined) versions.add(d.version)
        walk(d.dependencies as typeof deps)
      }
    }
    walk((JSON.parse(r.stdout) as { dependencies?: Parameters<typeof walk>[0] }).dependencies)
    expect(versions.size, `effect versions: ${[...versions].join(", ")}`).toBe(1)
    // the workbench imports the project's copy: none is nested under it
    expect(existsSync(join(project, "node_modules/effect/package.json"))).toBe(true)
    expect(existsSync(join(project, "node_modules/preference-workbench/node_modules/effect"))).toBe(false)
  })
})
