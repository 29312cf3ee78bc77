/**
 * Flags that change what a pipeline is, through real `wb` processes: `--set node.param=value` on
 * `wb run` / `wb validate` (through the params' own Schema decode, with did-you-mean for unknown
 * names), `--concurrency` below 1, YAML errors with line and column, and `wb validate` type-checking
 * a TypeScript pipeline with the project's TypeScript, or saying that it did not.
 */
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { parseOverride } from "../../workbench/core/param-overrides.js"
import { FIXTURE_LIBRARY, pipelineFile, REPO, tempDir, wb } from "./cli-spawn.js"

const TS = pipelineFile("ok-numbers.ts")
const YAML = pipelineFile("ok-numbers.yaml")

interface JsonNode {
  readonly name: string
  readonly status: string
  readonly rowsOut: number
}
const nodes = (stdout: string) => (JSON.parse(stdout) as { nodes: Array<JsonNode> }).nodes
const rowsOut = (stdout: string) => Object.fromEntries(nodes(stdout).map((n) => [n.name, n.rowsOut]))

describe("--set node.param=value", { timeout: 120_000 }, () => {
  it("overrides a param (nested too) for wb run, and the result changes; the file's values come back without it", async () => {
    const cwd = tempDir()
    const ws = join(cwd, ".wb")
    const run = (...extra: Array<string>) => wb(["run", TS, "--json", "--workspace", ws, ...extra], { cwd })
    const plain = await run()
    expect(rowsOut(plain.stdout)).toEqual({ nums: 100, even: 50, by4: 25, few: 3 })
    const set = await run("--set", "nums.count=20", "--set", "few.shape.step=5")
    expect(set.code, set.stderr).toBe(0)
    expect(rowsOut(set.stdout)).toEqual({ nums: 20, even: 10, by4: 5, few: 3 })
    const few = await wb(
      [
        "sql",
        TS,
        "select list(n order by n) as n from few",
        "--format",
        "jsonl",
        "--workspace",
        ws,
        "--set",
        "nums.count=20",
        "--set",
        "few.shape.step=5"
      ],
      { cwd }
    )
    expect(JSON.parse(few.stdout)).toEqual({ n: [0, 5, 10] })
    // the override is part of the params, so of the cache key: the plain run is still cached
    expect(nodes((await run()).stdout).map((n) => n.status)).toEqual(["cached", "cached", "cached", "cached"])
  })

  it("works on YAML pipelines and for wb validate; a value goes through the params' Schema decode", async () => {
    const cwd = tempDir()
    const ok = await wb(["validate", YAML, "--set", 'nums.label="7"', "--set", "nums.count=5"], {
      cwd,
      env: FIXTURE_LIBRARY
    })
    expect([ok.code, ok.stdout]).toEqual([0, "pipeline ok-numbers is valid · 4 nodes\n"])
    const bad = await wb(["validate", YAML, "--set", "nums.count=-1"], { cwd, env: FIXTURE_LIBRARY })
    expect(bad.code).toBe(1)
    expect(bad.stderr).toBe(
      [
        'pipeline "ok-numbers" is invalid',
        '  node "nums" (fixture.numbers) has invalid params',
        "    param count: found -1; expected a value greater than or equal to 0",
        "    fix: correct the params, or run `wb nodes fixture.numbers` to see each param, its type and default",
        ""
      ].join("\n")
    )
    // JSON when it parses, text otherwise
    expect(parseOverride("a.b=0.9")).toMatchObject({ node: "a", path: ["b"], value: 0.9 })
    expect(parseOverride("a.b=data/x.jsonl")).toMatchObject({ value: "data/x.jsonl" })
    expect(parseOverride('a.b.c="0.9"')).toMatchObject({ path: ["b", "c"], value: "0.9" })
  })

  it("an unknown node or param fails before anything runs, naming what exists and the closest match", async () => {
    const cwd = tempDir()
    const node = await wb(["run", TS, "--set", "num.count=3"], { cwd })
    expect([node.code, node.stdout]).toEqual([1, ""])
    expect(node.stderr).toBe(
      [
        '--set num.count=3: pipeline "ok-numbers" has no node "num"',
        "  expected: one of its nodes: nums, even, by4, few",
        '  fix: did you mean "nums"?',
        ""
      ].join("\n")
    )
    const param = await wb(["run", TS, "--set", "nums.cont=3"], { cwd })
    expect(param.stderr).toBe(
      [
        '--set nums.cont=3: node "nums" (fixture.numbers) has no param "cont"',
        "  expected: one of its params: count, label, shape",
        '  fix: did you mean "count"? (`wb nodes fixture.numbers` lists the params)',
        ""
      ].join("\n")
    )
    const nested = await wb(["validate", TS, "--set", "few.shape.stpe=2"], { cwd })
    expect(nested.stderr).toBe(
      [
        '--set few.shape.stpe=2: node "few" (fixture.numbers) has no param "shape.stpe"',
        "  expected: one of the fields of shape: shape.step, shape.offset",
        '  fix: did you mean "step"? (`wb nodes fixture.numbers` lists the params)',
        ""
      ].join("\n")
    )
    const shape = await wb(["run", TS, "--set", "nums=3"], { cwd })
    expect(shape.stderr).toMatch(
      /^--set nums=3: "nums", which does not name a node and one of its params\n {2}expected: node\.param=value/
    )
  })
})

describe("run flags and pipeline files", { timeout: 120_000 }, () => {
  it("refuses --concurrency below 1", async () => {
    const r = await wb(["run", TS, "--concurrency", "0"], { cwd: tempDir() })
    expect([r.code, r.stdout]).toEqual([1, ""])
    expect(r.stderr).toBe(
      [
        "wb run --concurrency: 0",
        "  expected: how many nodes may run at once: a whole number, 1 or more",
        "  fix: pass --concurrency 1 to run one node at a time, or leave the flag out (2)",
        ""
      ].join("\n")
    )
  })

  it("a YAML syntax error gives its line and column, with the lines around it", async () => {
    const dir = tempDir()
    writeFileSync(
      join(dir, "p.yaml"),
      "pipeline: p\nnodes:\n  a: { use: fixture.numbers, with: { count: 3 }\n  b: { use: fixture.numbers }\n"
    )
    const r = await wb(["validate", "p.yaml"], { cwd: dir, env: FIXTURE_LIBRARY })
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(
      [
        "pipeline file p.yaml:4:3: it is not valid YAML: Flow map in block collection must be sufficiently indented and end with a }",
        "    a: { use: fixture.numbers, with: { count: 3 }",
        "    b: { use: fixture.numbers }",
        "    ^",
        "  expected: a YAML document with `pipeline:` and `nodes:`",
        "  fix: fix the YAML at line 4, column 3 (the ^ marks the spot)",
        ""
      ].join("\n")
    )
    writeFileSync(
      join(dir, "q.yaml"),
      "pipeline: q\nnodes:\n  a: { use: fixture.numbers }\n  b:\n    use: fixture.split\n    in: { numbers: [a, 3] }\n"
    )
    const shape = await wb(["validate", "q.yaml"], { cwd: dir, env: FIXTURE_LIBRARY })
    expect(shape.stderr).toMatch(/^pipeline file q\.yaml:6:24: at nodes\.b\.in\.numbers\[1\]: found 3\n/)
  })
})

describe("wb validate on a TypeScript pipeline", { timeout: 180_000 }, () => {
  it("type-checks it with the project's TypeScript and tsconfig.json", async () => {
    const r = await wb(["validate", TS, "--set", "nums.count=3"], { cwd: REPO })
    expect([r.code, r.stderr]).toEqual([0, ""])
    expect(r.stdout).toMatch(
      /^pipeline ok-numbers is valid · 4 nodes · types checked \(tsc \d+\.\d+\.\d+ with tsconfig\.json\)\n$/
    )
  })

  /** A project whose node_modules holds the repository's TypeScript and the workbench itself. */
  const project = (typescript: boolean) => {
    const dir = tempDir("wb-types-")
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "p", type: "module" }))
    mkdirSync(join(dir, "node_modules"))
    symlinkSync(REPO, join(dir, "node_modules", "preference-workbench"))
    symlinkSync(join(REPO, "node_modules", "effect"), join(dir, "node_modules", "effect"))
    if (typescript) {
      symlinkSync(join(REPO, "node_modules", "typescript"), join(dir, "node_modules", "typescript"))
      symlinkSync(join(REPO, "node_modules", "@types"), join(dir, "node_modules", "@types"))
    }
    writeFileSync(
      join(dir, "p.ts"),
      [
        'import { pipeline } from "preference-workbench"',
        'import { load } from "preference-workbench/nodes"',
        'const size: number = "ten"',
        'export default pipeline("typed", (p) => { p.node("hh", load.hhRlhf({ path: "data/" + size + ".jsonl" })) })',
        ""
      ].join("\n")
    )
    return dir
  }

  it("reports type errors esbuild would let through, with file:line:column, though the graph is valid", async () => {
    const dir = project(true)
    const r = await wb(["validate", "p.ts"], { cwd: dir })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(
      new RegExp(
        [
          "^pipeline file p\\.ts: its graph is valid, but it does not type-check: 1 type error \\(tsc \\d+\\.\\d+\\.\\d+\\)",
          "    p\\.ts:3:7 TS2322 Type 'string' is not assignable to type 'number'\\.",
          "  expected: a pipeline whose TypeScript type-checks \\(wb runs \\.ts files through esbuild, which does not check types\\)",
          "  fix: correct the code at the positions above; --skip-types checks the graph alone",
          "$"
        ].join("\n")
      )
    )
    const skipped = await wb(["validate", "p.ts", "--skip-types"], { cwd: dir })
    expect([skipped.code, skipped.stdout]).toEqual([
      0,
      "pipeline typed is valid · 1 node · types not checked (--skip-types)\n"
    ])
  })

  it("says plainly that types were not checked where the project has no TypeScript", async () => {
    const dir = project(false)
    const r = await wb(["validate", "p.ts"], { cwd: dir })
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(
      `pipeline typed is valid · 1 node · types not checked: TypeScript is not installed in ${dir} ` +
        "(wb loads .ts pipelines with esbuild, which strips types without checking them); " +
        "`npm i -D typescript` and wb validate checks them\n"
    )
  })
})
