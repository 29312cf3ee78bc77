/**
 * `outputLike(role, input)` copies the columns of one of the kind's inputs. An input name that the
 * kind does not declare (a typo) used to give an output of unknown columns without a word, so every
 * node downstream went unchecked. The compiler now refuses it (the @ts-expect-error below fails
 * `tsc -p .` if it stops doing so), and the graph build refuses it for kinds written in plain JS.
 */
import { Effect, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { input, outputLike } from "../../workbench/core/contract.js"
import { buildGraph } from "../../workbench/core/graph.js"
import { defineNode } from "../../workbench/core/node.js"
import { pipeline } from "../../workbench/core/pipeline.js"
import { Sql } from "../../workbench/core/services.js"

const copy = (rel: string) => Effect.flatMap(Sql, (sql) => sql.create("t", `SELECT * FROM ${rel}`))

const source = defineNode({
  kind: "like.source",
  version: 1,
  summary: "rows",
  params: Schema.Struct({}),
  inputs: { rows: input({ x: "int64" }, { optionalInput: true }) },
  outputs: { rows: outputLike("main", "rows") },
  run: ({ inputs }) =>
    Effect.map(copy(inputs.rows?.relation ?? "(SELECT 1::BIGINT AS x)"), (rows) => ({ tables: { rows } }))
})

const typo = defineNode({
  kind: "like.typo",
  version: 1,
  summary: "its output copies an input it does not have",
  params: Schema.Struct({}),
  inputs: { pairs: input({ x: "int64" }) },
  // @ts-expect-error -- "pears" is not an input of the kind
  outputs: { pairs: outputLike("main", "pears") },
  // @ts-expect-error -- tsc then checks `run` without what it infers from run itself (as for any mistake in a declaration)
  run: ({ inputs }) => Effect.map(copy(inputs.pairs.relation), (pairs) => ({ tables: { pairs } }))
})

describe("outputLike naming an input the kind does not declare", () => {
  it("is refused when the graph is built, naming the kind, the output and the inputs it has", async () => {
    const def = pipeline("like", (p) => {
      const rows = p.node("rows", source())
      p.node("t", typo(), { pairs: rows })
    })
    const error = await Effect.runPromise(Effect.flip(buildGraph(def)))
    expect(error.message).toBe(
      'pipeline "like" is invalid\n' +
        '  node "t" (like.typo) output "pairs": declared outputLike(…, "pears"), but the kind has no input "pears"\n' +
        "    expected: an input of the kind: pairs\n" +
        '    fix: correct the input name in outputLike in the definition of like.typo: did you mean "pairs"?'
    )
  })
})
