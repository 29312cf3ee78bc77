// list<int32>, list<float32> and blob columns: a node loads them from JS (typed arrays and plain
// arrays) through sql.load, declares them in its output contract, a second node requires them, the
// run writes them to Parquet, and result.table().toArrow() gives back List<Int32>, List<Float32> and
// Binary with the same values (nulls stay null); the DuckDB type names map both ways, and a contract that asks for
// list<int32> refuses a list<float32> column.
import { Effect, Schema } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { isAssignable } from "../../workbench/core/column-type.js"
import { defineNode, input, output, pipeline, runPipeline, Sql } from "../../workbench/index.js"
import { columnTypeOf, duckTypeOf } from "../../workbench/io/duckdb.js"

const ids = [new Int32Array([3, 262_143, 0]), [], [7], null]
const vectors = [new Float32Array([0.5, -1.25, 3e-8]), [1, 2, 3], new Float32Array([0, 0, 0.1]), null]
const blobs = [new Uint8Array([0, 255, 7]), new Uint8Array([]), new Uint8Array([1]), null]

const columns = { id: "utf8", ids: "list<int32>", vec: "list<float32>", raw: "blob" } as const

const make = defineNode({
  kind: "test.make-lists",
  version: 1,
  summary: "rows with list and blob columns",
  params: Schema.Struct({}),
  inputs: {},
  outputs: { rows: output("main", columns) },
  run: () =>
    Effect.gen(function* () {
      const sql = yield* Sql
      const rows = sql.tempName("rows")
      yield* sql.load(
        rows,
        Object.entries(columns).map(([name, type]) => ({ name, type })),
        [["r0", "r1", "r2", "r3"], ids, vectors, blobs]
      )
      return { tables: { rows } }
    })
})

const sums = defineNode({
  kind: "test.sum-lists",
  version: 1,
  summary: "reads the list columns in SQL",
  params: Schema.Struct({}),
  inputs: { rows: input(columns) },
  outputs: { sums: output("main", { id: "utf8", n: "int64", total: "float64", bytes: "int64" }) },
  run: ({ inputs }) =>
    Effect.gen(function* () {
      const sql = yield* Sql
      const sums = yield* sql.create(
        "sums",
        `SELECT id, len(ids)::BIGINT AS n, list_sum(vec)::DOUBLE AS total, octet_length(raw)::BIGINT AS bytes FROM ${inputs.rows.relation}`
      )
      return { tables: { sums } }
    })
})

describe("list<int32>, list<float32> and blob columns", () => {
  it("map to DuckDB INTEGER[], FLOAT[] and BLOB and back", () => {
    expect([duckTypeOf("list<int32>"), duckTypeOf("list<float32>"), duckTypeOf("blob")]).toEqual([
      "INTEGER[]",
      "FLOAT[]",
      "BLOB"
    ])
    expect([columnTypeOf("INTEGER[]"), columnTypeOf("FLOAT[]"), columnTypeOf("BLOB")]).toEqual([
      "list<int32>",
      "list<float32>",
      "blob"
    ])
    expect(isAssignable("list<float32>", "list<int32>")).toBe(false)
    expect(isAssignable("list<int32>", "list<int32>")).toBe(true)
  })

  it("round-trip through sql.load, a contract check, Parquet and toArrow()", async () => {
    const p = pipeline("lists", (b) => {
      const rows = b.node("rows", make())
      b.node("sums", sums(), { rows })
    })
    const result = await runPipeline(p, { workspace: mkdtempSync(join(tmpdir(), "wb-lists-")), root: process.cwd() })
    expect(result.report.nodes.map((n) => n.status)).toEqual(["ran", "ran"])

    const table = await result.table("rows").toArrow()
    expect(Object.fromEntries(table.schema.fields.map((f) => [f.name, String(f.type)]))).toEqual({
      id: "Utf8",
      ids: "List<Int32>",
      vec: "List<Float32>",
      raw: "Binary"
    })
    const got = table.toArray().map((r) => {
      const j = r.toJSON() as {
        ids: { toArray(): Int32Array } | null
        vec: { toArray(): Float32Array } | null
        raw: Uint8Array | null
      }
      return {
        ids: j.ids && [...j.ids.toArray()],
        vec: j.vec && [...j.vec.toArray()],
        raw: j.raw && [...j.raw]
      }
    })
    expect(got).toEqual([
      { ids: [3, 262_143, 0], vec: [0.5, -1.25, Math.fround(3e-8)], raw: [0, 255, 7] },
      { ids: [], vec: [1, 2, 3], raw: [] },
      { ids: [7], vec: [0, 0, Math.fround(0.1)], raw: [1] },
      { ids: null, vec: null, raw: null }
    ])

    const s = await result.table("sums").toArrow()
    expect(s.toArray().map((r) => ({ ...r.toJSON() }))).toEqual([
      { id: "r0", n: 3n, total: 0.5 - 1.25 + Math.fround(3e-8), bytes: 3n },
      { id: "r1", n: 0n, total: 6, bytes: 0n },
      { id: "r2", n: 1n, total: Math.fround(0.1), bytes: 1n },
      { id: "r3", n: null, total: null, bytes: null }
    ])
  })
})
