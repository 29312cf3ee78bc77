/**
 * In-process checks of what the CLI draws and loads: the live run view on a TTY (through a tiny
 * terminal emulator), the YAML/TS twins building the same graph, and params docs from a Schema.
 */
import { Effect, Schema } from "effect"
import { describe, expect, it } from "vitest"
import type { RunEvent } from "../../workbench/core/events.js"
import { buildGraph } from "../../workbench/core/graph.js"
import type { NodeReport } from "../../workbench/core/report.js"
import { computeRecipes } from "../../workbench/core/cache-key.js"
import { describeKind } from "../../workbench/cli/nodes.js"
import { describeParams } from "../../workbench/core/params-doc.js"
import { RunView } from "../../workbench/cli/render-run.js"
import { definitionOrProblem, loadPipelineFile } from "../../workbench/io/pipeline-file.js"
import { registry } from "../fixtures/nodes.js"
import { pipelineFile } from "./cli-spawn.js"

/** Apply the ANSI subset the view uses (CPL `ESC[nF`, EL `ESC[2K`, ED `ESC[J`) and return the screen. */
function screen(output: string): string {
  const lines = [""]
  let row = 0
  for (let i = 0; i < output.length; ) {
    const m = /^\x1b\[(\d*)([A-Za-z])/.exec(output.slice(i))
    if (m !== null) {
      const n = Number(m[1] || 1)
      if (m[2] === "F") row = Math.max(0, row - n)
      else if (m[2] === "K") lines[row] = ""
      else if (m[2] === "J") {
        lines.splice(row + 1)
        lines[row] = ""
      }
      i += m[0].length
      continue
    }
    if (output[i] === "\n") {
      row++
      if (row >= lines.length) lines.push("")
    } else lines[row] = `${lines[row] ?? ""}${output[i] ?? ""}`
    i++
  }
  return lines.join("\n")
}

const report = (r: Partial<NodeReport> & Pick<NodeReport, "name" | "kind" | "status">): NodeReport => ({
  rowsIn: 0,
  rowsOut: 0,
  rejected: 0,
  removed: 0,
  seconds: 0,
  ...r
})

describe("the live run view", () => {
  const start: RunEvent = {
    _tag: "RunStarted",
    pipeline: "helpful-rm",
    runId: "r1",
    seq: 0,
    time: "2026-01-01T00:00:00.000Z",
    nodes: [
      { name: "hh", kind: "load.hh-rlhf", selected: true },
      { name: "clean", kind: "dedupe.pairs", selected: true },
      { name: "ai", kind: "judge.llm", selected: true },
      { name: "rm", kind: "train.reward-model", selected: true }
    ]
  }

  it("redraws one block in place on a TTY: done, running with a bar, rate and eta, waiting", () => {
    let out = ""
    let now = 0
    const view = new RunView({ write: (t) => void (out += t), isTTY: true, columns: 120 }, ".wb/", () => now)
    view.onEvent(start)
    view.onEvent({
      _tag: "NodeFinished",
      report: report({ name: "hh", kind: "load.hh-rlhf", status: "cached", rowsOut: 2312 })
    })
    view.onEvent({ _tag: "NodeStarted", node: "clean", kind: "dedupe.pairs" })
    now = 400
    view.onEvent({ _tag: "NodeNote", node: "clean", text: "14 near-dup prompts" })
    view.onEvent({
      _tag: "NodeFinished",
      report: report({
        name: "clean",
        kind: "dedupe.pairs",
        status: "ran",
        rowsIn: 2312,
        rowsOut: 2298,
        removed: 14,
        seconds: 0.4
      })
    })
    view.onEvent({ _tag: "NodeStarted", node: "ai", kind: "judge.llm" })
    now = 400 + 40_000
    view.onEvent({ _tag: "NodeProgress", node: "ai", done: 1530, total: 4596, unit: "calls" })
    view.stop() // draws the current frame
    expect(screen(out)).toBe(
      [
        "helpful-rm · 4 nodes · workspace .wb/",
        "  ✓ hh     load.hh-rlhf        2,312 rows          cached",
        "  ✓ clean  dedupe.pairs        2,312 → 2,298       0.4 s   14 removed   (14 near-dup prompts)",
        "  ⠋ ai     judge.llm           ████░░░░░░░░ 1,530/4,596 calls · 38/s · eta 1m20s",
        "  · rm     train.reward-model  waiting",
        ""
      ].join("\n")
    )
    expect(out).toContain("\x1b[4F") // moved back up over the 4 node lines, not appended
  })

  it("without a TTY, a heartbeat shows each running node's progress so a CI log sees it move", () => {
    let out = ""
    let now = 0
    const view = new RunView({ write: (t) => void (out += t), isTTY: false }, ".wb/", () => now)
    view.onEvent(start)
    view.onEvent({ _tag: "NodeStarted", node: "hh", kind: "load.hh-rlhf" })
    view.heartbeat()
    now = 20_000
    view.onEvent({ _tag: "NodeProgress", node: "hh", done: 500_000, total: 1_000_000, unit: "rows" })
    view.heartbeat()
    view.stop()
    const lines = out.split("\n")
    expect(lines[1]).toBe("  ▸ hh     load.hh-rlhf        running 0s")
    expect(lines[2]).toBe("  ▸ hh     load.hh-rlhf        running 0s")
    expect(lines[3]).toBe("  ▸ hh     load.hh-rlhf        ██████░░░░░░ 500,000/1,000,000 rows · 25,000/s · eta 20s")
    expect(lines).toHaveLength(5)
  })

  it("writes one plain line per state change when not a TTY", () => {
    let out = ""
    const view = new RunView({ write: (t) => void (out += t), isTTY: false }, ".wb/", () => 0)
    view.onEvent(start)
    view.onEvent({ _tag: "NodeStarted", node: "hh", kind: "load.hh-rlhf" })
    view.onEvent({ _tag: "NodeProgress", node: "hh", done: 5, total: 10, unit: "rows" })
    view.onEvent({
      _tag: "NodeFinished",
      report: report({
        name: "hh",
        kind: "load.hh-rlhf",
        status: "failed",
        seconds: 1.25,
        error: "file missing\n  fix: x"
      })
    })
    view.onEvent({
      _tag: "NodeFinished",
      report: report({ name: "clean", kind: "dedupe.pairs", status: "skipped", error: 'upstream "hh" failed' })
    })
    expect(out).toBe(
      [
        "helpful-rm · 4 nodes · workspace .wb/",
        "  ▸ hh     load.hh-rlhf        running 0s",
        "  ✗ hh     load.hh-rlhf        failed after 1.3 s: file missing",
        '  – clean  dedupe.pairs        skipped: upstream "hh" failed',
        ""
      ].join("\n")
    )
  })
})

describe("pipeline files", () => {
  it("the YAML and TS twins build the same validated graph, with the same cache key recipes", async () => {
    const shape = (file: string) =>
      Effect.runPromise(
        Effect.gen(function* () {
          const def = yield* loadPipelineFile(pipelineFile(file))
          const graph = yield* buildGraph(def, registry)
          return {
            name: graph.name,
            nodes: graph.nodes.map((n) => ({
              name: n.name,
              kind: n.definition.kind,
              params: n.params,
              inputs: n.inputs
            })),
            recipes: [...computeRecipes(graph, "/root").entries()]
          }
        })
      )
    const ts = await shape("ok-numbers.ts")
    expect(await shape("ok-numbers.yaml")).toEqual(ts)
    expect(ts.nodes[2]).toEqual({
      name: "by4",
      kind: "fixture.split",
      params: { modulo: 4 },
      inputs: { numbers: [{ node: "even", table: "kept" }] }
    })
  })

  it("YAML shape problems carry the path inside the document", () => {
    const problem = definitionOrProblem({ pipeline: "p", nodes: { a: { use: "x", in: { pairs: 3 } } } })
    expect(problem).toMatchObject({ at: "nodes.a.in.pairs", found: "3" })
    expect(definitionOrProblem({ nodes: {} })).toMatchObject({ at: "pipeline" })
  })
})

describe("params docs", () => {
  it("shows types, defaults and descriptions, also inside nested structs", () => {
    const params = Schema.Struct({
      near: Schema.Struct({
        threshold: Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 1 }))
          .pipe(Schema.withDecodingDefaultKey(Effect.succeed(0.85)))
          .annotate({ description: "Jaccard cut-off" }),
        bands: Schema.Int.pipe(Schema.withDecodingDefaultKey(Effect.succeed(16)))
      }).pipe(Schema.withDecodingDefaultKey(Effect.succeed({}))),
      mode: Schema.Literals(["exact", "near"]).annotate({ description: "which pass" }),
      columns: Schema.optionalKey(Schema.Array(Schema.String))
    })
    expect(describeParams(params)).toEqual([
      { path: "near", type: "object", required: false, default: '{"threshold":0.85,"bands":16}' },
      {
        path: "near.threshold",
        type: "number (between 0 and 1)",
        required: false,
        default: "0.85",
        description: "Jaccard cut-off"
      },
      { path: "near.bands", type: "integer", required: false, default: "16" },
      { path: "mode", type: '"exact" | "near"', required: true, description: "which pass" },
      { path: "columns", type: "array of string", required: false }
    ])
  })

  it("describes a kind's inputs and outputs, pass-through columns marked with …", () => {
    expect(describeKind(registry.get("fixture.split")!).join("\n")).toBe(
      [
        "fixture.split · version 1",
        "  Keeps multiples of a number, removes the rest",
        "",
        "inputs",
        "  numbers · rows to split",
        "    needs: n (int64)",
        "",
        "outputs",
        "  kept (main)",
        "    columns: n (int64), …",
        "  removed (removed) · rows that were not kept, with why",
        "    columns: n (int64), reason (utf8), …",
        "",
        "params",
        "  param   type                      default  description",
        "  modulo  integer (greater than 0)  2"
      ].join("\n")
    )
  })
})
