// Table-driven graph validation: each case is a pipeline and the problems it must produce.
import { Effect, Exit, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { input, output, outputLike } from "../../workbench/core/contract.js"
import { buildGraph, topologicalOrder } from "../../workbench/core/graph.js"
import { defineNode, registryOf } from "../../workbench/core/node.js"
import { pipeline, type PipelineDefinition } from "../../workbench/core/pipeline.js"

const source = defineNode({
  kind: "t.source",
  version: 1,
  summary: "source",
  params: Schema.Struct({ rows: Schema.Int.check(Schema.isGreaterThan(0)) }),
  inputs: {},
  outputs: {
    pairs: output("main", { prompt: "utf8", score: "float64" }),
    rejects: output("rejects", { reason: "utf8" })
  },
  run: () => Effect.die("not run in these tests")
})
const needsLabel = defineNode({
  kind: "t.needs-label",
  version: 1,
  summary: "needs label",
  params: Schema.Struct({}),
  inputs: { pairs: input({ prompt: "utf8", label: "utf8" }) },
  outputs: { pairs: outputLike("main", "pairs") },
  run: () => Effect.die("not run")
})
const needsScoreText = defineNode({
  kind: "t.needs-text-score",
  version: 1,
  summary: "needs score as text",
  params: Schema.Struct({}),
  inputs: { pairs: input({ score: "utf8" }) },
  outputs: { pairs: outputLike("main", "pairs") },
  run: () => Effect.die("not run")
})
const pass = defineNode({
  kind: "t.pass",
  version: 1,
  summary: "pass",
  params: Schema.Struct({}),
  inputs: { pairs: input({ prompt: "utf8" }) },
  outputs: { pairs: outputLike("main", "pairs", { add: { label: "utf8" } }) },
  run: () => Effect.die("not run")
})
const registry = registryOf([source, needsLabel, needsScoreText, pass])

const problemsOf = (def: PipelineDefinition): Array<string> => {
  const exit = Effect.runSyncExit(Effect.flip(buildGraph(def, registry)))
  return Exit.isSuccess(exit) ? exit.value.problems.map((p) => `${p._tag}: ${p.message}`) : []
}

const cases: Array<{ name: string; def: PipelineDefinition; expect: Array<RegExp> }> = [
  {
    name: "valid chain",
    def: pipeline("ok", (p) => {
      const s = p.node("s", source({ rows: 3 }))
      const t = p.node("t", pass(), { pairs: s })
      p.node("u", needsLabel(), { pairs: t })
    }),
    expect: []
  },
  {
    name: "unknown kind with did-you-mean",
    def: {
      _tag: "PipelineDefinition",
      name: "typo",
      nodes: [{ name: "s", spec: { kind: "t.sorce", params: {} }, inputs: {} }]
    },
    expect: [/UnknownNodeKindError: node "s" uses unknown node kind "t.sorce"; did you mean "t.source"\?/]
  },
  {
    name: "bad param: path, value, expected",
    def: pipeline("bad", (p) => void p.node("s", source({ rows: -1 }))),
    expect: [
      /ParamDecodeError: node "s" \(t.source\) has invalid params\n {2}param rows: found -1; expected a value greater than 0/
    ]
  },
  {
    name: "unknown param key",
    def: pipeline("bad", (p) => void p.node("s", source({ rows: 1, colour: "red" } as never))),
    expect: [/param colour: found an unknown param; expected one of the declared params/]
  },
  {
    name: "missing column names the producer and its columns",
    def: pipeline("missing", (p) => {
      const s = p.node("s", source({ rows: 3 }))
      p.node("u", needsLabel(), { pairs: s })
    }),
    expect: [
      /ColumnMissingError: node "u" \(t.needs-label\) needs column label \(utf8\) on input "pairs"\n {2}its input comes from "s" \(t.source\), whose pairs table has: prompt \(utf8\), score \(float64\)/
    ]
  },
  {
    name: "mistyped column",
    def: pipeline("typed", (p) => {
      const s = p.node("s", source({ rows: 3 }))
      p.node("u", needsScoreText(), { pairs: s })
    }),
    expect: [
      /ColumnTypeError: node "u" \(t.needs-text-score\) needs column score on input "pairs" as utf8\n {2}"s" \(t.source\), whose pairs table gives it as float64/
    ]
  },
  {
    name: "unknown input reference with did-you-mean",
    def: pipeline("ref", (p) => {
      p.node("source1", source({ rows: 3 }))
      p.node("u", pass(), { pairs: "sourc1" })
    }),
    expect: [
      /UnknownInputError: node "u" input "pairs" refers to "sourc1", which is not a node or table of this pipeline; did you mean "source1"\?/
    ]
  },
  {
    name: "unknown table of a known node",
    def: pipeline("ref", (p) => {
      p.node("s", source({ rows: 3 }))
      p.node("u", pass(), { pairs: "s.pears" })
    }),
    expect: [/refers to "s.pears".*did you mean "s.pairs"\?/]
  },
  {
    name: "cycle is printed",
    def: pipeline("loop", (p) => {
      p.node("a", pass(), { pairs: "c" })
      p.node("b", pass(), { pairs: "a" })
      p.node("c", pass(), { pairs: "b" })
    }),
    expect: [/CycleError: the pipeline has a cycle: a -> b -> c -> a/]
  },
  {
    name: "duplicate names",
    def: pipeline("dup", (p) => {
      p.node("s", source({ rows: 1 }))
      p.node("s", source({ rows: 2 }))
    }),
    expect: [/DuplicateNodeError: node name "s" is used more than once/]
  },
  {
    name: "missing and misnamed inputs",
    def: pipeline("inputs", (p) => {
      const s = p.node("s", source({ rows: 1 }))
      p.node("u", pass(), { pears: s } as never)
    }),
    expect: [
      /InputNameError: node "u" \(t.pass\) has no input named "pears"; did you mean "pairs"\?/,
      /InputMissingError: node "u" \(t.pass\) needs input "pairs"/
    ]
  },
  {
    name: "two tables into a single-table input",
    def: pipeline("arity", (p) => {
      const a = p.node("a", source({ rows: 1 }))
      const b = p.node("b", source({ rows: 1 }))
      p.node("u", pass(), { pairs: [a, b] })
    }),
    expect: [/InputArityError: node "u" \(t.pass\) input "pairs" takes one table, but 2 are connected/]
  }
]

describe("buildGraph", () => {
  for (const c of cases) {
    it(c.name, () => {
      const problems = problemsOf(c.def)
      expect(problems.length).toBe(c.expect.length)
      c.expect.forEach((re, i) => expect(problems[i]).toMatch(re))
    })
  }

  it("orders nodes after their inputs", () => {
    const graph = Effect.runSync(
      buildGraph(
        pipeline("order", (p) => {
          p.node("u", needsLabel(), { pairs: "t" })
          p.node("t", pass(), { pairs: "s" })
          p.node("s", source({ rows: 1 }))
        }),
        registry
      )
    )
    expect(graph.nodes.map((n) => n.name)).toEqual(["s", "t", "u"])
    expect(graph.nodes[0]!.params).toEqual({ rows: 1 })
  })

  it("topologicalOrder returns the cycle as a closed path", () => {
    const parents: Record<string, Array<string>> = { a: ["b"], b: ["a"], c: [] }
    expect(topologicalOrder(["c", "a", "b"], (n) => parents[n]!)).toEqual({ _tag: "Cycle", path: ["a", "b", "a"] })
  })
})
