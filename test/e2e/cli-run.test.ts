/** `wb run` end to end: real processes, real DuckDB, fixture node kinds. */
import { DuckDBInstance } from "@duckdb/node-api"
import { existsSync, readdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { FIXTURE_LIBRARY, pipelineFile, startWb, tempDir, wb } from "./cli-spawn.js"

interface JsonNode {
  name: string
  status: string
  rowsIn: number
  rowsOut: number
  rejected: number
  removed: number
  seconds: number
  error?: string
}

const parse = (stdout: string) => JSON.parse(stdout) as { pipeline: string; nodes: Array<JsonNode> }
const statuses = (stdout: string) => Object.fromEntries(parse(stdout).nodes.map((n) => [n.name, n.status]))

describe("wb run", { timeout: 90_000 }, () => {
  it("runs a pipeline, prints progress lines and a summary, then serves everything from cache", async () => {
    const cwd = tempDir()
    const file = pipelineFile("ok-numbers.ts")
    const first = await wb(["run", file], { cwd })
    expect(first.stderr).toBe("")
    expect(first.code).toBe(0)
    const out = first.stdout
    expect(out).toMatch(/^ok-numbers · 4 nodes · workspace \.wb\/\n/)
    // not a TTY: one plain line per state change
    expect(out).toMatch(/^ {2}▸ even +fixture\.split +running/m)
    expect(out).toMatch(/^ {2}✓ nums +fixture\.numbers +100 rows +\d+\.\d s$/m)
    expect(out).toMatch(/^ {2}✓ even +fixture\.split +100 → 50 +\d+\.\d s +50 removed +\(kept multiples of 2\)$/m)
    expect(out).not.toMatch(/\x1b\[/)
    expect(out).toContain("summary · ok-numbers · ok")
    expect(out).toMatch(/^ {2}node +kind +rows in → out +rejected +removed +status +seconds$/m)
    expect(out).toMatch(/^ {2}even +fixture\.split +100 → 50 +0 +50 +ran +\d+\.\d$/m)
    expect(out).toMatch(/^ {2}by4 +fixture\.split +50 → 25 +0 +25 +ran/m)
    expect(out).toContain(
      `next:\n  wb show ${file} even --table removed\n  wb sql ${file} 'select count(*) from "few"'`
    )
    expect(existsSync(join(cwd, ".wb", "meta.duckdb"))).toBe(true)

    const second = await wb(["run", file, "--json"], { cwd })
    expect(second.code).toBe(0)
    const report = parse(second.stdout) // nothing but the JSON on stdout
    expect(report.pipeline).toBe("ok-numbers")
    expect(report.nodes.map((n) => [n.name, n.status, n.rowsIn, n.rowsOut, n.rejected, n.removed])).toEqual([
      ["nums", "cached", 0, 100, 0, 0],
      ["even", "cached", 100, 50, 0, 50],
      ["by4", "cached", 50, 25, 0, 25],
      ["few", "cached", 0, 3, 0, 0]
    ])
    for (const n of report.nodes) {
      expect(Object.keys(n)).toEqual(
        expect.arrayContaining(["name", "status", "rowsIn", "rowsOut", "rejected", "removed", "seconds"])
      )
      expect(typeof n.seconds).toBe("number")
    }
    // progress went to stderr, as plain lines
    expect(second.stderr).toMatch(/^ {2}✓ by4 +fixture\.split +25 rows +cached$/m)
  })

  it("--only runs a node and its upstream; --from re-runs a node and its downstream", async () => {
    const cwd = tempDir()
    const file = pipelineFile("ok-numbers.ts")
    const only = await wb(["run", file, "--only", "even", "--json"], { cwd })
    expect(only.code).toBe(0)
    expect(statuses(only.stdout)).toEqual({ nums: "ran", even: "ran", by4: "skipped", few: "skipped" })
    expect(parse(only.stdout).nodes.find((n) => n.name === "by4")?.error).toBe("not selected (--only even)")

    const from = await wb(["run", file, "--from", "even", "--json"], { cwd })
    expect(from.code).toBe(0)
    expect(statuses(from.stdout)).toEqual({ nums: "cached", even: "ran", by4: "ran", few: "ran" })

    const force = await wb(["run", file, "--force", "--json", "--concurrency", "1"], { cwd })
    expect(statuses(force.stdout)).toEqual({ nums: "ran", even: "ran", by4: "ran", few: "ran" })

    const typoCwd = tempDir()
    const typo = await wb(["run", file, "--only", "evn"], { cwd: typoCwd })
    expect(typo.code).toBe(1)
    expect(typo.stdout).toBe("")
    expect(typo.stderr).toBe(
      '--only evn: pipeline "ok-numbers" has no node "evn"\n  expected: one of: nums, even, by4, few\n  fix: did you mean "even"?\n'
    )
    expect(readdirSync(typoCwd)).toEqual([]) // nothing was opened or created

    const both = await wb(["run", file, "--only", "even", "--from", "few"], { cwd: typoCwd })
    expect(both.code).toBe(1)
    expect(both.stderr).toBe(
      [
        '--only even --from few: "few" is not among the nodes --only even runs (even, nums)',
        "  expected: a --from node that --only selects, so that it can be re-run",
        "  fix: drop one of the two flags, or pick --from among: even, nums",
        ""
      ].join("\n")
    )
    expect(readdirSync(typoCwd)).toEqual([])
  })

  it("a failing node stops only its downstream; the report says what did not run; exit code 1", async () => {
    const cwd = tempDir()
    const file = pipelineFile("ok-fail.ts")
    const res = await wb(["run", file], { cwd })
    expect(res.code).toBe(1)
    expect(res.stderr).toBe("")
    const out = res.stdout
    expect(out).toMatch(
      /^ {2}✗ bad +fixture\.fail +failed after \d+\.\d s: node "bad": the fixture failed on purpose \(planned\)$/m
    )
    expect(out).toMatch(/^ {2}– after +fixture\.split +skipped: upstream "bad" failed$/m)
    expect(out).toMatch(/^ {2}✓ even +fixture\.split +20 → 10/m)
    expect(out).toContain("summary · ok-fail · failed")
    expect(out).toContain(
      [
        "failed",
        "  ✗ bad (fixture.fail)",
        '      node "bad": the fixture failed on purpose (planned)',
        "        expected: nothing: this node always fails",
        "        fix: remove the node from the pipeline",
        "",
        "did not run",
        '  – after: upstream "bad" failed'
      ].join("\n")
    )
    expect(out).toContain(`wb run ${file} --from bad`)
    // wb show tells a failed node from one that never ran
    const show = await wb(["show", file, "bad"], { cwd })
    expect(show.code).toBe(1)
    expect(show.stderr).toMatch(
      /^node "bad" \(fixture\.fail\): its last run \(\d{4}-\d\d-\d\d \d\d:\d\d\) failed, so there is no table to show: node "bad": the fixture failed on purpose \(planned\)\n/
    )
    expect(show.stderr).toContain(
      `fix: fix what made it fail (wb run ${file} --only bad shows the whole error), then run it again`
    )

    const json = await wb(["run", file, "--json"], { cwd })
    expect(json.code).toBe(1)
    const nodes = parse(json.stdout).nodes
    expect(statuses(json.stdout)).toEqual({ nums: "cached", bad: "failed", after: "skipped", even: "cached" })
    expect(nodes.find((n) => n.name === "bad")?.error).toContain("the fixture failed on purpose (planned)")
  })

  it("an invalid pipeline is reported as its message (no stack) with exit code 1, and nothing runs", async () => {
    const cwd = tempDir()
    writeFileSync(
      join(cwd, "bad.yaml"),
      [
        "pipeline: bad",
        "nodes:",
        "  nums: { use: fixture.numbrs }",
        "  even: { use: fixture.split, in: { numbers: nums }, with: { modulo: 0 } }"
      ].join("\n")
    )
    const res = await wb(["run", "bad.yaml"], { cwd, env: FIXTURE_LIBRARY })
    expect(res.code).toBe(1)
    expect(res.stdout).toBe("")
    expect(res.stderr).toBe(
      [
        'pipeline "bad" is invalid',
        '  node "nums" uses unknown node kind "fixture.numbrs"; did you mean "fixture.numbers"?',
        "    known fixture.* kinds: fixture.fail, fixture.numbers, fixture.slow, fixture.split (`wb nodes` lists every kind)",
        "    fix: correct the kind, or run `wb nodes` to list every kind with its params",
        '  node "even" (fixture.split) has invalid params',
        "    param modulo: found 0; expected a value greater than 0",
        "    fix: correct the params, or run `wb nodes fixture.split` to see each param, its type and default",
        ""
      ].join("\n")
    )
    expect(existsSync(join(cwd, ".wb"))).toBe(false)

    const noLibrary = await wb(["run", "bad.yaml"], { cwd, env: { WB_NODE_LIBRARY: join(cwd, "none.ts") } })
    expect(noLibrary.code).toBe(1)
    expect(noLibrary.stderr).toMatch(/^node library .*none\.ts \(WB_NODE_LIBRARY\): no such file\n/)
    expect(noLibrary.stdout + noLibrary.stderr).not.toMatch(/^\s+at /m) // no stack frame of any kind
  })

  it("Ctrl-C stops the run cleanly: exit 130, finished nodes kept for the next run; one run per workspace", async () => {
    const cwd = tempDir()
    const file = pipelineFile("ok-slow.ts")
    const run = startWb(["run", file], { cwd })
    const deadline = Date.now() + 20_000
    while (!/▸ slow/.test(run.output()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    // a second run in the same workspace is told, not crashed
    const busy = await wb(["run", file, "--json"], { cwd })
    expect(busy.code).toBe(1)
    // --json's stdout is for scripts: the refusal as data (status "error"), the message on stderr
    expect(JSON.parse(busy.stdout)).toMatchObject({ status: "error", nodes: [], failure: { _tag: "DataError" } })
    expect(busy.stderr).toMatch(
      /^workspace \S+: another process \(PID \d+\) holds its run log .*meta\.duckdb, most likely another `wb run`\n/
    )
    run.child.kill("SIGINT")
    const res = await run.done
    expect(res.code).toBe(130)
    expect(res.stdout).toMatch(/✓ nums +fixture\.numbers +50 rows/)
    // the summary says what finished and what was cut short
    expect(res.stdout).toMatch(/summary · ok-slow · interrupted/)
    expect(res.stdout).toMatch(/ {2}nums +fixture\.numbers +0 → 50 +0 +0 +ran/)
    expect(res.stdout).toMatch(/ {2}slow +fixture\.slow .* interrupted/)
    expect(res.stdout).toContain("did not run\n  – slow: interrupted while running")
    expect(res.stderr).toContain("interrupted · finished nodes are kept in .wb/; run the same command again to resume")
    // and so does the run log
    const meta = await DuckDBInstance.create(join(cwd, ".wb", "meta.duckdb"), { access_mode: "READ_ONLY" })
    const con = await meta.connect()
    const logged = (
      await con.runAndReadAll(`SELECT r.status AS run, n.node, n.status FROM runs r JOIN node_runs n USING (run_id)
      ORDER BY n.node`)
    ).getRowObjectsJS()
    con.closeSync()
    meta.closeSync()
    expect(logged).toEqual([
      { run: "interrupted", node: "nums", status: "ran" },
      { run: "interrupted", node: "slow", status: "interrupted" }
    ])
    // the finished node's artifact is there and complete; the interrupted one left none
    const again = await wb(["run", file, "--only", "nums", "--json"], { cwd })
    expect(statuses(again.stdout)).toEqual({ nums: "cached", slow: "skipped" })
    const manifests = readdirSync(join(cwd, ".wb", "artifacts")).filter((k) =>
      existsSync(join(cwd, ".wb", "artifacts", k, "manifest.json"))
    )
    expect(manifests).toHaveLength(1)
  })
})
