// docs/custom-nodes.md, as tests: its example project (test/fixtures/custom-nodes/) runs from
// TypeScript with a layer, is refused without one, registers its kinds for YAML through wb.config.ts,
// and runs under the real `wb`. The doc's code blocks are those files, checked below.
import { Effect, Schema } from "effect"
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { defineConfig } from "../../workbench/core/config.js"
import { output } from "../../workbench/core/contract.js"
import { defineNode } from "../../workbench/core/node.js"
import { pipeline } from "../../workbench/core/pipeline.js"
import { loadNodeLibrary } from "../../workbench/io/catalog/node-library.js"
import { loadProjectConfig } from "../../workbench/io/catalog/project-config.js"
import { runPipeline } from "../../workbench/run-pipeline.js"
import { load } from "../../nodes/index.js"
import { lengthFilter } from "../fixtures/custom-nodes/nodes.js"
import scored from "../fixtures/custom-nodes/pipeline.js"
import { runScored } from "../fixtures/custom-nodes/run.js"
import { FIXTURES, REPO, wb } from "../e2e/cli-spawn.js"
import { readParquet } from "../support/sql.js"

const EXAMPLE = join(FIXTURES, "custom-nodes")

/** A copy of the example project in a temp dir, as a user's project (its own package.json). */
const project = () => {
  const dir = mkdtempSync(join(tmpdir(), "wb-custom-"))
  cpSync(EXAMPLE, dir, { recursive: true })
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module", private: true }))
  return dir
}

/** Rewards of the kept pairs, each pair's two sorted, pairs sorted: sides are assigned by a seeded hash. */
const rewards = (rows: ReadonlyArray<Record<string, unknown>>) =>
  rows.map((r) => [Number(r["reward_a"]), Number(r["reward_b"])].sort()).sort((x, y) => x[0]! - y[0]! || x[1]! - y[1]!)

// byLength scores min(1, characters / 100); "Say hi." has a 90-character response: over maxChars 60
const EXPECTED = [
  [0.02, 0.02],
  [0.05, 0.06],
  [0.14, 0.24]
]

describe("the custom-nodes example from TypeScript", () => {
  it("runs through runPipeline with the layer that provides RewardModel: the scores are the service's", async () => {
    const result = await runScored(project())
    expect(result.report.nodes.map((n) => [n.name, n.status, n.rowsOut])).toEqual([
      ["pairs", "ran", 4],
      ["short", "ran", 3],
      ["scores", "ran", 3]
    ])
    expect(rewards(await readParquet(result.nodes["scores"]!.tables["scores"]!))).toEqual(EXPECTED)
    const removed = await readParquet(result.nodes["short"]!.tables["removed"]!)
    expect(removed.map((r) => [r["prompt"], r["reason"]])).toEqual([["Say hi.", "a response over 60 characters"]])
  })

  it("is refused before any node runs without that layer, naming the service", async () => {
    const root = project()
    const error = await runPipeline(scored, { root, threads: 1 }).then(
      () => undefined,
      (e: unknown) => e as Error
    )
    expect(error?.message).toMatch(
      /^pipeline "scored" is invalid\n {2}node "scores" \(my\.reward-score\) needs the service RewardModel \("my\/RewardModel"\), which no layer of this run provides\n/
    )
  })

  it("fails a node with the family's own Schema-based error", async () => {
    const result = await runPipeline(
      pipeline("strict", (p) => {
        const pairs = p.node("pairs", load.table({ path: "data/pairs.jsonl" }))
        p.node("short", lengthFilter({ maxChars: 1 }), { pairs })
      }),
      { root: project(), threads: 1 }
    )
    const short = result.report.nodes.find((n) => n.name === "short")!
    expect([short.status, short.error]).toEqual([
      "failed",
      'node "short": 4 of 4 pairs have a response over maxChars\n  expected: at most 50% of them dropped\n  fix: raise maxChars or maxDropRate'
    ])
  })
})

describe("wb.config.ts: kinds for YAML, added to the built-in ones", () => {
  it("loads the example's config: its kinds beside the built-ins, with their TypeScript names", async () => {
    const library = await Effect.runPromise(Effect.flatMap(loadProjectConfig(EXAMPLE), loadNodeLibrary))
    expect(library.sources).toEqual(["nodes/index.ts", "test/fixtures/custom-nodes/wb.config.ts"])
    expect(
      ["my.length-filter", "my.reward-score", "load.table", "dedupe.pairs"].every((k) => library.registry.has(k))
    ).toBe(true)
    expect(library.registry.names?.get("my.length-filter")).toBe("my.lengthFilter")
    expect(library.registry.names?.get("load.hh-rlhf")).toBe("load.hhRlhf")
  })

  it("refuses a kind id that is already registered, naming both sources", async () => {
    const impostor = defineNode({
      kind: "load.table",
      version: 1,
      summary: "clashes",
      params: Schema.Struct({}),
      inputs: {},
      outputs: { t: output("main", { x: "int64" }) },
      run: () => Effect.die("not run")
    })
    const config = { config: defineConfig({ nodes: [impostor] }), shown: "wb.config.ts" }
    const error = await Effect.runPromise(Effect.flip(loadNodeLibrary(config)))
    expect(error.message).toBe(
      'node kind "load.table" from wb.config.ts clashes with the kind "load.table" of the built-in library (nodes/index.ts)\n' +
        "  expected: each kind id registered once (YAML pipelines name kinds by id)\n" +
        '  fix: give the kind in wb.config.ts another id, e.g. "my.table"'
    )
  })

  it("a config without a default defineConfig export is refused with what to write", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wb-config-"))
    writeFileSync(join(dir, "package.json"), "{}")
    writeFileSync(join(dir, "wb.config.mjs"), "export const config = {}\n")
    const error = await Effect.runPromise(Effect.flip(loadProjectConfig(dir)))
    expect(error.message).toBe(
      `${join(dir, "wb.config.mjs")}: no default export\n` +
        "  expected: a module that default-exports defineConfig({ layer, nodes }) from preference-workbench\n" +
        "  fix: write `export default defineConfig({ ... })`, importing defineConfig from preference-workbench"
    )
  })
})

describe("the example project under the real wb", { timeout: 120_000 }, () => {
  let dir = ""
  beforeAll(() => {
    dir = project()
  })

  it("wb run: the YAML pipeline names the config's kinds, and the config's layer serves the node", async () => {
    const run = await wb(["run", "scored.yaml", "--json"], { cwd: dir })
    expect(run.stderr).not.toMatch(/^\s+at /m)
    expect(run.code).toBe(0)
    const report = JSON.parse(run.stdout) as { nodes: Array<{ name: string; status: string; rowsOut: number }> }
    expect(report.nodes.map((n) => [n.name, n.status, n.rowsOut])).toEqual([
      ["pairs", "ran", 4],
      ["short", "ran", 3],
      ["scores", "ran", 3]
    ])
    const rows = await wb(["sql", "scored.yaml", "select reward_a, reward_b from scores", "--json"], { cwd: dir })
    expect(rewards(JSON.parse(rows.stdout) as Array<Record<string, unknown>>)).toEqual(EXPECTED)
    // the TypeScript pipeline gets the config's layer too, and shares the YAML pipeline's cache
    const ts = await wb(["run", "pipeline.ts", "--json"], { cwd: dir })
    expect(ts.code).toBe(0)
    expect((JSON.parse(ts.stdout) as typeof report).nodes.map((n) => n.status)).toEqual(["cached", "cached", "cached"])
  })

  it("wb nodes: the config's kinds beside the built-ins, each with its TypeScript name where it differs", async () => {
    const list = await wb(["nodes"], { cwd: dir })
    expect(list.code).toBe(0)
    expect(list.stdout).toMatch(/ · nodes\/index\.ts \+ wb\.config\.ts\n/)
    expect(list.stdout).toMatch(/^ {2}my\.length-filter +my\.lengthFilter +Drop pairs with an overlong response$/m)
    expect(list.stdout).toMatch(/^ {2}load\.hh-rlhf +load\.hhRlhf +Anthropic HH-RLHF/m)
    expect(list.stdout).toMatch(/^ {2}load\.table +Any JSONL/m)
    const one = await wb(["nodes", "my.lengthFilter"], { cwd: dir })
    expect(one.stdout).toMatch(/^my\.length-filter · version 1 · in TypeScript: my\.lengthFilter\(\.\.\.\)\n/)
    expect(one.stdout).toMatch(
      /^ {2}maxChars +integer \(greater than 0\) +2000 +drop pairs with a response longer than this$/m
    )
    expect(one.stdout).toMatch(
      /^ {2}maxDropRate +number \(between 0 and 1\) +0\.5 +fail when more than this fraction of the pairs is dropped$/m
    )
  })

  it("wb validate refuses the pipeline when the config provides no RewardModel; WB_NODE_LIBRARY adds kinds", async () => {
    const bare = project()
    writeFileSync(
      join(bare, "wb.config.ts"),
      'import { defineConfig } from "preference-workbench"\nimport { lengthFilter, rewardScore } from "./nodes.js"\n' +
        "export default defineConfig({ nodes: { my: { lengthFilter, rewardScore } } })\n"
    )
    for (const command of ["validate", "run"]) {
      const res = await wb([command, "scored.yaml"], { cwd: bare })
      expect(res.code).toBe(1)
      expect(res.stderr).toContain(
        'node "scores" (my.reward-score) needs the service RewardModel ("my/RewardModel"), which no layer of this run provides'
      )
    }
    const env = { WB_NODE_LIBRARY: join(REPO, "test", "fixtures", "nodes.ts") }
    const both = await wb(["nodes"], { cwd: bare, env })
    expect(both.stdout).toMatch(/^ {2}fixture\.numbers +Creates N rows of numbers$/m)
    expect(both.stdout).toMatch(/^ {2}load\.trl +TRL preference/m)
  })
})

describe("docs/custom-nodes.md", () => {
  it("shows the example files as they are (each block headed by its path)", () => {
    const doc = readFileSync(join(REPO, "docs", "custom-nodes.md"), "utf8")
    const blocks = [
      ...doc.matchAll(/```(?:ts|yaml)\n(?:\/\/|#) (test\/fixtures\/custom-nodes\/[\w./-]+)\n([\s\S]*?)```/g)
    ]
    expect(blocks.map((b) => b[1])).toEqual(
      expect.arrayContaining([
        "test/fixtures/custom-nodes/reward-model.ts",
        "test/fixtures/custom-nodes/nodes.ts",
        "test/fixtures/custom-nodes/pipeline.ts",
        "test/fixtures/custom-nodes/run.ts",
        "test/fixtures/custom-nodes/wb.config.ts",
        "test/fixtures/custom-nodes/scored.yaml"
      ])
    )
    for (const [, path, body] of blocks) expect(body, path).toBe(readFileSync(join(REPO, path!), "utf8"))
  })
})
