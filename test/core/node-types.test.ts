// The node contract as types: `tsc -p .` checks this file (npm test runs it first). Each
// `@ts-expect-error` is a mistake the compiler must catch; if it stopped catching one, tsc would fail
// on the unused directive. The vitest part checks the same nodes at run time.
import { Context, Effect, Schema } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { input, output, outputLike } from "../../workbench/core/contract.js"
import { DataError } from "../../workbench/core/errors.js"
import { defineNode, type InputTable } from "../../workbench/core/node.js"
import { param } from "../../workbench/core/params.js"
import { pipeline } from "../../workbench/core/pipeline.js"
import { Sql } from "../../workbench/core/services.js"
import { runPipeline } from "../../workbench/run-pipeline.js"
import { readParquet } from "../support/sql.js"

class Unlisted extends Context.Service<Unlisted, { readonly n: number }>()("test/Unlisted") {}

/** A family's own error: Schema-based, so it serializes; the runner reports its message. */
class TooFewRowsError extends Schema.TaggedError<TooFewRowsError>()("TooFewRowsError", {
  node: Schema.String,
  rows: Schema.Number,
  minimum: Schema.Number
}) {
  override get message() {
    return `node "${this.node}" got ${this.rows} rows; expected at least ${this.minimum}\n  fix: lower minRows`
  }
}

const rows = defineNode({
  kind: "types.rows",
  version: 1,
  summary: "n rows",
  params: Schema.Struct({ n: param(Schema.Int, 3, "how many rows") }),
  inputs: {},
  outputs: { rows: output("main", { x: "int64" }) },
  run: ({ params }) =>
    Effect.gen(function* () {
      const sql = yield* Sql
      return { tables: { rows: yield* sql.create("rows", `SELECT range AS x FROM range(${params.n})`) } }
    })
})

const join2 = defineNode({
  kind: "types.join",
  version: 1,
  summary: "left rows, with right rows when connected",
  params: Schema.Struct({ minRows: param(Schema.Int, 0, "fail below this many left rows") }),
  inputs: { left: input({ x: "int64" }), right: input({ x: "int64" }, { optionalInput: true }) },
  outputs: { joined: outputLike("main", "left", { add: { matched: "bool" } }), count: output("aux", { n: "int64" }) },
  run: ({ node, kind, params, inputs }) =>
    Effect.gen(function* () {
      // typed inputs: `left` is an InputTable, `right` may be missing (optionalInput)
      const left: InputTable = inputs.left
      const right: InputTable | undefined = inputs.right
      // @ts-expect-error -- an optional input may be undefined: no `.relation` without a check
      void (() => inputs.right.relation)
      // @ts-expect-error -- no input named "nope" is declared
      void (() => inputs.nope)
      if (left.rows < params.minRows)
        return yield* new TooFewRowsError({ node: `${node} (${kind})`, rows: left.rows, minimum: params.minRows })
      const sql = yield* Sql
      const joined = yield* sql.create(
        "joined",
        right === undefined
          ? `SELECT x, false AS matched FROM ${left.relation}`
          : `SELECT l.x, r.x IS NOT NULL AS matched FROM ${left.relation} l LEFT JOIN ${right.relation} r USING (x) ORDER BY l.x`
      )
      return { tables: { joined, count: yield* sql.create("count", `SELECT count(*) AS n FROM ${joined}`) } }
    })
})

// Mistakes that must not compile (never run: they exist for tsc).
export const mistakes = [
  defineNode({
    kind: "types.wrong-name",
    version: 1,
    summary: "returns a table under a name it did not declare",
    params: Schema.Struct({}),
    inputs: {},
    outputs: { rows: output("main", { x: "int64" }) },
    // @ts-expect-error -- "row" is not the declared output "rows"
    run: () => Effect.succeed({ tables: { row: "t" } })
  }),
  defineNode({
    kind: "types.extra",
    version: 1,
    summary: "returns one table more than it declares",
    params: Schema.Struct({}),
    inputs: {},
    outputs: { rows: output("main", { x: "int64" }) },
    // @ts-expect-error -- "debug" is not a declared output
    run: () => Effect.succeed({ tables: { rows: "t", debug: "u" } })
  }),
  defineNode({
    kind: "types.unlisted-service",
    version: 1,
    summary: "uses a service it does not list in requires",
    params: Schema.Struct({}),
    inputs: {},
    outputs: { rows: output("main", { x: "int64" }) },
    // @ts-expect-error -- Unlisted is used but not in `requires`, so the engine could not check it is provided
    run: () => Unlisted.use((u) => Effect.succeed({ tables: { rows: `t${u.n}` } }))
  }),
  defineNode({
    kind: "types.listed-service",
    version: 1,
    summary: "the same, listed: compiles",
    params: Schema.Struct({}),
    inputs: {},
    outputs: { rows: output("main", { x: "int64" }) },
    requires: [Unlisted],
    run: () => Unlisted.use((u) => Effect.succeed({ tables: { rows: `t${u.n}` } }))
  })
]
// @ts-expect-error -- params are typed from the schema: n is an integer, not text
export const badParams = rows({ n: "three" })

describe("typed node contract at run time", () => {
  const root = mkdtempSync(join(tmpdir(), "wb-types-"))

  it("typed inputs: a required input and an optional one, connected or not", async () => {
    const result = await runPipeline(
      pipeline("types", (p) => {
        const a = p.node("a", rows({ n: 4 }))
        const b = p.node("b", rows({ n: 2 }))
        p.node("both", join2(), { left: a, right: b })
        p.node("alone", join2(), { left: a })
      }),
      { root, threads: 1 }
    )
    expect(result.report.status).toBe("ok")
    const both = await readParquet(result.nodes["both"]!.tables["joined"]!)
    expect(both.map((r) => [Number(r["x"]), r["matched"]])).toEqual([
      [0, true],
      [1, true],
      [2, false],
      [3, false]
    ])
    const alone = await readParquet(result.nodes["alone"]!.tables["joined"]!)
    expect(alone.map((r) => r["matched"])).toEqual([false, false, false, false])
  })

  it("a family's own Schema.TaggedError fails the node with its message (naming ctx.kind), and encodes as data", async () => {
    const result = await runPipeline(
      pipeline("types-fail", (p) => {
        p.node("few", join2({ minRows: 10 }), { left: p.node("a", rows()) })
      }),
      { root, threads: 1 }
    )
    const few = result.report.nodes.find((n) => n.name === "few")!
    expect(few.status).toBe("failed")
    expect(few.error).toBe(`node "few (types.join)" got 3 rows; expected at least 10\n  fix: lower minRows`)
    // Schema-based: it round-trips through JSON, which is how it crosses to a browser
    const encoded = Schema.encodeSync(TooFewRowsError)(new TooFewRowsError({ node: "few", rows: 3, minimum: 10 }))
    expect(JSON.parse(JSON.stringify(encoded))).toEqual({ _tag: "TooFewRowsError", node: "few", rows: 3, minimum: 10 })
    expect(Schema.decodeUnknownSync(TooFewRowsError)(encoded)).toBeInstanceOf(TooFewRowsError)
  })

  it("the engine's errors still serve nodes (DataError), and the runner accepts any tagged error", () => {
    const e: { readonly _tag: string; readonly message: string } = new DataError({
      where: "w",
      found: "f",
      expected: "e",
      fix: "x"
    })
    expect(e.message).toBe("w: f\n  expected: e\n  fix: x")
  })
})
