/** `wb validate / ls / show / nodes / sql` end to end, on one workspace that ran ok-numbers once. */
import { existsSync, readdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { FIXTURE_LIBRARY, pipelineFile, tempDir, wb } from "./cli-spawn.js"

const TS = pipelineFile("ok-numbers.ts")
const YAML = pipelineFile("ok-numbers.yaml")
const env = FIXTURE_LIBRARY
let cwd = ""

beforeAll(async () => {
  cwd = tempDir()
  const run = await wb(["run", TS, "--json"], { cwd })
  expect(run.code).toBe(0)
}, 90_000)

describe("wb validate / ls", { timeout: 90_000 }, () => {
  it("validate: valid pipelines, and an invalid one as its message with exit 1", async () => {
    const ok = await wb(["validate", YAML], { cwd, env })
    expect([ok.code, ok.stdout, ok.stderr]).toEqual([0, "pipeline ok-numbers is valid · 4 nodes\n", ""])
    const dir = tempDir()
    writeFileSync(
      join(dir, "cycle.yaml"),
      [
        "pipeline: loop",
        "nodes:",
        "  a: { use: fixture.split, in: { numbers: b } }",
        "  b: { use: fixture.split, in: { numbers: a } }"
      ].join("\n")
    )
    const bad = await wb(["validate", "cycle.yaml"], { cwd: dir, env })
    expect(bad.code).toBe(1)
    expect(bad.stdout).toBe("")
    expect(bad.stderr).toBe(
      [
        'pipeline "loop" is invalid',
        "  the pipeline has a cycle: a -> b -> a",
        "    a node cannot depend on its own output, directly or through other nodes",
        "    fix: remove one of these input references",
        ""
      ].join("\n")
    )
  })

  it("validate: YAML shape errors name the path in the document", async () => {
    const dir = tempDir()
    writeFileSync(join(dir, "p.yaml"), "pipeline: p\nnodes:\n  a: { use: fixture.numbers, params: { count: 3 } }\n")
    const res = await wb(["validate", "p.yaml"], { cwd: dir, env })
    expect(res.code).toBe(1)
    expect(res.stderr).toBe(
      [
        "pipeline file p.yaml:3:30: at nodes.a.params: found an unknown key",
        "  expected: one of: use, in, with",
        '  fix: did you mean "with"? (rename the key)',
        ""
      ].join("\n")
    )
  })

  it("ls: the DAG in order with kinds, inputs and cache state; the YAML twin shows the same graph", async () => {
    const ts = await wb(["ls", TS], { cwd })
    expect(ts.code).toBe(0)
    expect(ts.stdout).toBe(
      [
        "ok-numbers · 4 nodes · workspace .wb/",
        "  node  kind             inputs  cache",
        "  nums  fixture.numbers          cached · 100 rows",
        "  even  fixture.split    ← nums  cached · 50 rows (50 removed)",
        "  by4   fixture.split    ← even  cached · 25 rows (25 removed)",
        "  few   fixture.numbers          cached · 3 rows",
        ""
      ].join("\n")
    )
    // same cache keys, so the same artifacts are found
    const yaml = await wb(["ls", YAML], { cwd, env })
    expect(yaml.stdout).toBe(ts.stdout)
  })

  it("ls: not run, and stale after a param change", async () => {
    const fresh = await wb(["ls", TS], { cwd: tempDir() })
    expect(fresh.stdout).toMatch(/^ {2}nums +fixture\.numbers +not run$/m)
    const changed = join(tempDir(), "changed.yaml")
    writeFileSync(
      changed,
      [
        "pipeline: ok-numbers",
        "nodes:",
        "  nums: { use: fixture.numbers, with: { count: 101, label: x } }",
        "  even: { use: fixture.split, in: { numbers: nums }, with: { modulo: 2 } }",
        "  few: { use: fixture.numbers, with: { count: 3, shape: { step: 10 } } }"
      ].join("\n")
    )
    const res = await wb(["ls", changed], { cwd, env })
    expect(res.stdout).toMatch(
      /^ {2}nums +fixture\.numbers +stale · params or inputs changed since its last run \(\d{4}-\d\d-\d\d \d\d:\d\d UTC\)$/m
    )
    expect(res.stdout).toMatch(/^ {2}even +fixture\.split +← nums +stale/m)
    expect(res.stdout).toMatch(/^ {2}few +fixture\.numbers +cached · 3 rows$/m)
  })
})

describe("wb show", { timeout: 90_000 }, () => {
  it("prints a table's rows, with --table, --where and --limit", async () => {
    const res = await wb(["show", TS, "even", "--table", "removed", "--limit", "3", "--where", "n > 90"], { cwd })
    expect(res.code).toBe(0)
    expect(res.stdout).toBe(
      [
        "even.removed · 5 matching of 50 rows · showing 3",
        "   n  label  reason",
        "  91  x      not a multiple of 2",
        "  93  x      not a multiple of 2",
        "  95  x      not a multiple of 2",
        ""
      ].join("\n")
    )
  })

  it("says when a node has not run, or the node or table name is unknown", async () => {
    const notRun = await wb(["show", TS, "even"], { cwd: tempDir() })
    expect(notRun.code).toBe(1)
    expect(notRun.stderr).toBe(
      [
        'node "even" (fixture.split): it has not run yet, so there is no table to show',
        "  expected: an artifact for the node's current params and inputs",
        `  fix: run it first: wb run ${TS} --only even`,
        ""
      ].join("\n")
    )
    const table = await wb(["show", TS, "even", "--table", "remved"], { cwd })
    expect(table.stderr).toBe(
      [
        'node "even" (fixture.split): no table "remved"',
        "  expected: one of its tables: kept, removed",
        '  fix: did you mean "removed"?',
        ""
      ].join("\n")
    )
  })

  it("says what is wrong with a --where condition in terms of the condition and the table's columns", async () => {
    const column = await wb(["show", TS, "even", "--where", "nocol > 1"], { cwd })
    expect(column.code).toBe(1)
    expect(column.stderr).toBe(
      [
        'wb show --where "nocol > 1": Binder Error: Referenced column "nocol" not found in FROM clause!',
        '  expected: one SQL condition on the columns of "even.kept": n (int64), label (utf8)',
        '  fix: correct the condition, e.g. --where "n IS NOT NULL"; for joins or several statements use wb sql',
        ""
      ].join("\n")
    )
    const negative = await wb(["show", TS, "even", "--limit", "-5"], { cwd })
    expect(negative.code).toBe(1)
    expect(negative.stderr).toMatch(/^wb show --limit: -5\n {2}expected: a number of rows, 0 or more\n/)
    const injected = await wb(["show", TS, "even", "--where", "n > 1; drop view x"], { cwd })
    expect(injected.code).toBe(1)
    expect(injected.stderr).toMatch(
      /^wb show --where "n > 1; drop view x": a syntax error: .*\n {2}expected: one SQL condition on the columns/
    )
  })
})

describe("wb nodes", { timeout: 90_000 }, () => {
  it("lists kinds, and describes one with defaults and descriptions from its params schema", async () => {
    const list = await wb(["nodes"], { cwd, env })
    expect(list.stdout).toMatch(/^ {2}fixture\.numbers +Creates N rows of numbers$/m)
    const one = await wb(["nodes", "fixture.numbers"], { cwd, env })
    expect(one.code).toBe(0)
    expect(one.stdout).toContain(
      [
        "params",
        "  param         type                                  default                description",
        "  count         integer (greater than or equal to 0)  10                     how many rows to create",
        "  label         string                                optional               text put in the label column",
        '  shape         object                                {"step":1,"offset":0}  how the numbers are spaced',
        "  shape.step    integer                               1                      distance between rows",
        "  shape.offset  integer                               0                      first value"
      ].join("\n")
    )
    expect(one.stdout).toContain("outputs\n  numbers (main) · one row per number\n    columns: n (int64), label (utf8)")
    const typo = await wb(["nodes", "fixture.nums"], { cwd, env })
    expect(typo.code).toBe(1)
    expect(typo.stderr).toMatch(
      /^wb nodes: no node kind "fixture.nums" in .*\n {2}expected: one of the fixture\.\* kinds: fixture.fail, fixture.numbers, fixture.slow, fixture.split \(`wb nodes` lists every kind\)\n {2}fix: did you mean "fixture.numbers"/
    )
  })
})

describe("wb sql", { timeout: 90_000 }, () => {
  it("queries node tables by name, as a table or as JSON", async () => {
    const res = await wb(["sql", TS, 'select reason, count(*) as n from "even.removed" group by 1'], { cwd })
    expect(res.code).toBe(0)
    expect(res.stdout).toBe("  reason                n\n  not a multiple of 2  50\n  1 row\n")
    const json = await wb(["sql", YAML, 'select n from "by4" order by n limit 3', "--json"], { cwd, env })
    expect(JSON.parse(json.stdout)).toEqual([{ n: 0 }, { n: 4 }, { n: 8 }])
  })

  it("refuses anything but one SELECT over the workspace: COPY, ATTACH, read_csv('/etc/passwd')", async () => {
    const before = readdirSync(join(cwd, ".wb", "artifacts")).length
    const copy = await wb(["sql", TS, `copy (select 1) to '${join(cwd, ".wb", "artifacts", "x.csv")}'`], { cwd })
    expect(copy.code).toBe(1)
    expect(copy.stderr).toBe(
      [
        "wb sql refused the query: a COPY statement; the sandbox is read-only",
        "  expected: one SELECT statement over the pipeline's tables",
        '  fix: write a SELECT, e.g. select * from "nums" limit 10; to change data, change the pipeline and `wb run` it',
        ""
      ].join("\n")
    )
    const two = await wb(["sql", TS, "select 1; drop view nums"], { cwd })
    expect(two.code).toBe(1)
    expect(two.stderr).toBe(
      [
        "wb sql refused the query: 2 statements",
        "  expected: exactly one SELECT (or PIVOT) statement",
        "  fix: run one SELECT at a time; the sandbox is read-only",
        ""
      ].join("\n")
    )
    const attach = await wb(["sql", TS, "attach '/tmp/x.db' as x"], { cwd })
    expect(attach.stderr).toMatch(/^wb sql refused the query: an ATTACH statement; the sandbox is read-only\n/)
    const csv = await wb(["sql", TS, "select * from read_csv('/etc/passwd')"], { cwd })
    expect(csv.code).toBe(1)
    expect(csv.stderr).toMatch(
      /^wb sql refused the query: table function read_csv\(\) is not allowed\n {2}expected: the pipeline's tables by name \("nums", /
    )
    const outside = await wb(["sql", TS, "select * from read_parquet('/etc/passwd')"], { cwd })
    expect(outside.code).toBe(1)
    expect(outside.stderr).toContain("fix: query the pipeline's tables by name")
    expect(readdirSync(join(cwd, ".wb", "artifacts")).length).toBe(before)
    expect(existsSync(join(cwd, ".wb", "artifacts", "x.csv"))).toBe(false)
  })
})
