/**
 * Runs as protocol data, end to end: `wb run --events` prints NDJSON that decodes with the protocol's
 * Schemas, and a bug (a node throwing a TypeError, a contract function throwing while the graph is
 * built) reaches users as `internal error <id>` with the log that holds the trace — never as a stack.
 */
import { DuckDBInstance } from "@duckdb/node-api"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { lineage, listArtifacts } from "../../workbench/io/catalog/artifacts.js"
import { decodeRunEventLine, type RunEvent } from "../../workbench/protocol/events.js"
import { pipelineFile, tempDir, wb, type WbResult } from "./cli-spawn.js"

/** Any line that looks like a stack frame, in any output a user sees. */
const FRAME = /^\s+at /m
const INTERNAL = /internal error ([0-9a-f]{8})/g

const decodeAll = (stdout: string): Array<RunEvent> =>
  stdout
    .split("\n")
    .filter((l) => l !== "")
    .map((line) => decodeRunEventLine(line))

const idsIn = (text: string) => [...new Set([...text.matchAll(INTERNAL)].map((m) => m[1]!))]

/** Every internal error id the output names has its log under `<cwd>/.wb/logs/`, holding the trace. */
function expectLogged(cwd: string, result: WbResult) {
  const ids = idsIn(result.stdout + result.stderr)
  expect(ids.length).toBeGreaterThan(0)
  for (const id of ids) {
    const log = join(cwd, ".wb", "logs", `${id}.log`)
    expect(existsSync(log), log).toBe(true)
    const text = readFileSync(log, "utf8")
    expect(text).toContain("TypeError: Cannot read properties of undefined")
    expect(text).toMatch(FRAME) // the trace is here, and only here
  }
  return ids
}

describe("wb run --events", { timeout: 90_000 }, () => {
  it("prints one protocol event per line: one run id, seq 0, 1, 2, … and ISO times in order", async () => {
    const cwd = tempDir()
    const result = await wb(["run", pipelineFile("ok-numbers.ts"), "--events"], { cwd })
    expect(result.code).toBe(0)
    const events = decodeAll(result.stdout) // throws on any line the Schemas refuse
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i))
    expect(new Set(events.map((e) => e.runId)).size).toBe(1)
    const times = events.map((e) => Date.parse(e.time))
    expect(times.every((t, i) => i === 0 || t >= times[i - 1]!)).toBe(true)
    expect(events[0]!._tag).toBe("RunStarted")
    const last = events.at(-1)!
    expect(last._tag).toBe("RunFinished")
    if (last._tag !== "RunFinished") return
    expect(last.report.runId).toBe(last.runId)
    expect(last.report.status).toBe("ok")
    const finished = events.flatMap((e) =>
      e._tag === "NodeFinished" ? [[e.report.name, e.report.status, e.report.rowsOut]] : []
    )
    expect(finished.sort()).toEqual([
      ["by4", "ran", 25],
      ["even", "ran", 50],
      ["few", "ran", 3],
      ["nums", "ran", 100]
    ])
    expect(events.some((e) => e._tag === "NodeNote" && e.node === "even" && e.text === "kept multiples of 2")).toBe(
      true
    )
    // the catalog reads the same run back: every artifact, and each one's lineage through its inputs
    const keyOf = Object.fromEntries(
      events.flatMap((e) => (e._tag === "NodeFinished" ? [[e.report.name, e.report.key]] : []))
    )
    const dir = join(cwd, ".wb")
    expect(
      listArtifacts(dir)
        .map((m) => m.node)
        .sort()
    ).toEqual(["by4", "even", "few", "nums"])
    expect(lineage(dir, keyOf["by4"]!).map((s) => [s.key, s.input, s.inputKey, s.inputTable, s.from?.node])).toEqual([
      [keyOf["by4"], "numbers", keyOf["even"], "kept", "even"],
      [keyOf["even"], "numbers", keyOf["nums"], "numbers", "nums"]
    ])
    // the people-facing view went to stderr, so stdout is nothing but events
    expect(result.stderr).toMatch(/^ {2}✓ by4 +fixture\.split +50 → 25/m)

    const both = await wb(["run", pipelineFile("ok-numbers.ts"), "--events", "--json"], { cwd })
    expect(both.code).toBe(1)
    expect(both.stdout).toBe("")
    expect(both.stderr).toContain("wb run --json --events: both flags, and each prints on stdout")
  })

  it("the Schemas refuse an event without its stamp, so the decoding above can fail", () => {
    const line = JSON.stringify({
      _tag: "NodeNote",
      runId: "r",
      seq: 0,
      time: "2026-01-01T00:00:00.000Z",
      node: "n",
      text: "t"
    })
    expect(decodeRunEventLine(line)._tag).toBe("NodeNote")
    expect(() => decodeRunEventLine(line.replace(',"seq":0', ""))).toThrow(/seq/)
    expect(() => decodeRunEventLine(line.replace('"seq":0', '"seq":-1'))).toThrow()
    expect(() => decodeRunEventLine(line.replace("2026-01-01T00:00:00.000Z", "yesterday"))).toThrow()
  })
})

describe("users never see a stack", { timeout: 90_000 }, () => {
  it("a node throwing a TypeError: an internal error id in wb run, --json and --events, the trace in .wb/logs and node_runs", async () => {
    const cwd = tempDir()
    const file = pipelineFile("ok-throw.ts")

    const plain = await wb(["run", file], { cwd })
    expect(plain.code).toBe(1)
    expect(plain.stdout + plain.stderr).not.toMatch(FRAME)
    expect(plain.stdout).toMatch(
      /^ {2}✗ boom +fixture\.throws +failed after .*: internal error [0-9a-f]{8}: TypeError: Cannot read properties of undefined \(reading 'detail'\)$/m
    )
    expect(plain.stdout).toMatch(/the full trace is in \.wb\/logs\/[0-9a-f]{8}\.log and in the run log/)
    expect(plain.stdout).toMatch(/^ {2}even +fixture\.split +20 → 10 .* ran/m) // the other branch still ran
    const [plainId] = expectLogged(cwd, plain)

    const json = await wb(["run", file, "--json"], { cwd })
    expect(json.code).toBe(1)
    expect(json.stdout + json.stderr).not.toMatch(FRAME)
    const boom = (
      JSON.parse(json.stdout) as { nodes: Array<{ name: string; failure?: Record<string, string> }> }
    ).nodes.find((n) => n.name === "boom")!
    expect(boom.failure).toEqual({
      _tag: "InternalError",
      id: expect.stringMatching(/^[0-9a-f]{8}$/),
      message: "TypeError: Cannot read properties of undefined (reading 'detail')",
      log: `.wb/logs/${boom.failure!["id"]}.log`
    })
    expectLogged(cwd, json)

    const events = await wb(["run", file, "--events"], { cwd })
    expect(events.code).toBe(1)
    expect(events.stdout + events.stderr).not.toMatch(FRAME)
    const failed = decodeAll(events.stdout).flatMap((e) =>
      e._tag === "NodeFinished" && e.report.status === "failed" ? [e.report] : []
    )
    expect(failed.map((r) => [r.name, r.failure?._tag])).toEqual([["boom", "InternalError"]])
    expectLogged(cwd, events)

    // three runs, three ids; the run log keeps each trace beside the id the user was shown
    const meta = await DuckDBInstance.create(join(cwd, ".wb", "meta.duckdb"), { access_mode: "READ_ONLY" })
    const con = await meta.connect()
    const rows = (
      await con.runAndReadAll(
        "SELECT error, trace FROM node_runs WHERE node = 'boom' AND status = 'failed' ORDER BY finished"
      )
    ).getRowObjectsJS() as Array<{ error: string; trace: string }>
    con.closeSync()
    meta.closeSync()
    expect(rows).toHaveLength(3)
    expect(rows[0]!.error).toContain(`internal error ${plainId}:`)
    expect(rows[0]!.error).not.toMatch(FRAME)
    for (const r of rows) expect(r.trace).toMatch(/TypeError: Cannot read properties of undefined[\s\S]*\n\s+at /)
  })

  it("a contract function throwing while the graph is built: wb validate and wb ls print an id, not ERROR (#1) and a stack", async () => {
    const cwd = tempDir()
    for (const command of ["validate", "ls"]) {
      const result = await wb([command, pipelineFile("bad-contract.ts")], { cwd })
      expect(result.code).toBe(1)
      expect(result.stdout).toBe("")
      expect(result.stderr).not.toMatch(FRAME)
      expect(result.stderr).not.toContain("ERROR (#")
      expect(result.stderr).toMatch(
        /^wb: internal error [0-9a-f]{8}: TypeError: Cannot read properties of undefined \(reading 'columns'\)\n {2}this is a bug in wb or in a node kind it loaded/
      )
      expect(result.stderr).toMatch(/ {2}the full trace is in \.wb\/logs\/[0-9a-f]{8}\.log\n/)
      const [id] = idsIn(result.stderr)
      expect(readFileSync(join(cwd, ".wb", "logs", `${id}.log`), "utf8")).toMatch(
        /while: wb .*bad-contract\.ts[\s\S]*defect-nodes\.ts/
      )
    }
  })
})
