// Two exports with one `to` would each rewrite the file on every run (it flips between them, unseen):
// the graph build (`wb validate`, `wb run`) refuses the pipeline before anything runs.
import { Cause, Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import { exportTo } from "../../nodes/export/index.js"
import { load } from "../../nodes/load/index.js"
import { normalizePath } from "../../workbench/core/file-writers.js"
import { buildGraph } from "../../workbench/core/graph.js"
import { pipeline } from "../../workbench/core/pipeline.js"

/** A pipeline with one loader and an export to each of `targets`: [node name, preset, to]. */
const withExports = (targets: ReadonlyArray<readonly [string, "table" | "trl", string]>) =>
  pipeline("same-file", (p) => {
    const hh = p.node("hh", load.hhRlhf({ path: "data/hh-rlhf-harmless-base/test.jsonl.gz" }))
    for (const [name, preset, to] of targets) {
      if (preset === "table") p.node(name, exportTo.table({ to }), { table: hh })
      else p.node(name, exportTo.trl({ to }), { pairs: hh })
    }
  })

/** The build's failure message, or "built" when it builds. */
const build = async (targets: ReadonlyArray<readonly [string, "table" | "trl", string]>) => {
  const exit = await Effect.runPromiseExit(buildGraph(withExports(targets)))
  if (Exit.isSuccess(exit)) return "built"
  const error = Cause.squash(exit.cause)
  return error instanceof Error ? error.message : String(error)
}

const expected = (given: string) =>
  'pipeline "same-file" is invalid\n' +
  `  nodes "a" (export.table) param to and "b" (export.table) param to both write out/x.jsonl${given}\n` +
  "    expected: one writer per file (with two, every run rewrites it twice and it holds whichever ran last)\n" +
  '    fix: give each its own `to` (e.g. "out/x-b.jsonl" for "b"), or export one table'

describe("one writer per file", () => {
  it("refuses two export.table nodes with the same `to`, naming both nodes, the param and the file", async () => {
    expect(
      await build([
        ["a", "table", "out/x.jsonl"],
        ["b", "table", "out/x.jsonl"]
      ])
    ).toBe(expected(""))
  })

  it('refuses "out/x.jsonl" and "./out/x.jsonl": the same file written two ways', async () => {
    expect(
      await build([
        ["a", "table", "out/x.jsonl"],
        ["b", "table", "./out/x.jsonl"]
      ])
    ).toBe(expected(' (given as "out/x.jsonl" and "./out/x.jsonl")'))
  })

  it("refuses it across export kinds, and names each later writer against the first", async () => {
    const message = await build([
      ["a", "trl", "out//train.jsonl.gz"],
      ["b", "table", "out/sub/../train.jsonl.gz"],
      ["c", "table", "out/train.jsonl.gz"]
    ])
    expect(message).toContain(
      'nodes "a" (export.trl) param to and "b" (export.table) param to both write out/train.jsonl.gz ' +
        '(given as "out//train.jsonl.gz" and "out/sub/../train.jsonl.gz")\n'
    )
    expect(message).toContain('"a" (export.trl) param to and "c" (export.table) param to both write out/train.jsonl.gz')
    expect(message).toContain('fix: give each its own `to` (e.g. "out/train-c.jsonl.gz" for "c"), or export one table')
    expect(message.match(/both write/g)).toHaveLength(2)
  })

  it("builds exports to distinct files, those in different folders with one name included", async () => {
    expect(
      await build([
        ["a", "table", "out/x.jsonl"],
        ["b", "table", "out/x.csv"],
        ["c", "trl", "out/train/x.jsonl"],
        ["d", "table", "x.jsonl"]
      ])
    ).toBe("built")
  })

  it("normalises paths lexically as posix does, without a file system", () => {
    expect(
      [
        "./out/x.jsonl",
        "out//x.jsonl",
        "out/./a/../x.jsonl",
        "out/x/",
        "../up/x",
        "a/../../x",
        "/abs/../../x",
        ".",
        "./"
      ].map(normalizePath)
    ).toEqual(["out/x.jsonl", "out/x.jsonl", "out/x.jsonl", "out/x", "../up/x", "../x", "/x", ".", "."])
  })
})
