// load.arrow on in-memory apache-arrow Tables: Arrow types land as the engine's types, the column
// mapping and rejects follow load.table, unsupported or mistyped columns fail with a message, and
// the digest (the cache key's stand-in for the table) follows the content, not the batching.
import {
  Binary,
  Bool,
  DateDay,
  Dictionary,
  Field,
  Float32,
  Float64,
  Int32,
  Int64,
  Int8,
  List,
  makeData,
  Null,
  RecordBatch,
  Schema as ArrowSchema,
  Struct,
  Table,
  TimestampMillisecond,
  Uint32,
  Utf8,
  type DataType,
  vectorFromArray
} from "apache-arrow"
import { Effect, Schema } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { tableDigest } from "../../nodes/load/arrow-columns.js"
import { load } from "../../nodes/load/index.js"
import { Progress } from "../../workbench/core/services.js"
import { runWithSql } from "../support/sql.js"
import { count, expectComplete, runLoad, runLoadError, writeJsonl } from "./load-helpers.js"

const v = (values: ReadonlyArray<unknown>, type: DataType) => vectorFromArray(values as Array<unknown>, type)
const text = (values: ReadonlyArray<string | null>) => v(values, new Utf8())
const QA = {
  prompt: ["Is 91 prime?", "Capital of Australia?", "2 + 2?"],
  chosen: ["No: 91 = 7 × 13.", "Canberra.", "4"],
  rejected: ["Yes.", "Sydney.", "5"]
}
const qaTable = (extra: Record<string, ReturnType<typeof v>> = {}) =>
  new Table({ prompt: text(QA.prompt), chosen: text(QA.chosen), rejected: text(QA.rejected), ...extra })

describe("load.arrow", () => {
  it("loads each Arrow type as the engine type, values intact, extras after the pair columns", async () => {
    const table = qaTable({
      tiny: v([1, null, -3], new Int8()),
      n32: v([1, 2, null], new Int32()),
      n64: v([2n ** 40n, null, -1n], new Int64()),
      u32: v([4_000_000_000, 0, 1], new Uint32()),
      f32: v([0.5, null, 2], new Float32()),
      ok: v([true, false, null], new Bool()),
      day: v([Date.UTC(2024, 1, 29), null, 0], new DateDay()),
      at: v([Date.UTC(2024, 0, 2, 3, 4, 5, 678), null, 0], new TimestampMillisecond()),
      tags: v([["x", "y"], [], null], new List(new Field("item", new Utf8(), true))),
      meta: v(
        [{ k: "a", n: 1 }, null, { k: null, n: 3 }],
        new Struct([new Field("k", new Utf8(), true), new Field("n", new Int32(), true)])
      ),
      cat: v(["u", "v", "u"], new Dictionary(new Utf8(), new Int32())),
      nothing: v([null, null, null], new Null()),
      doc: new Table({ d: vectorFromArray(['{"a": [1, 2]}', null, "{}"], new Utf8()) }).getChild("d")!
    })
    // the Utf8 column marked as JSON, as toArrow() writes json columns
    const schema = new ArrowSchema(
      table.schema.fields.map((f) =>
        f.name === "doc" ? new Field("doc", f.type, true, new Map([["ARROW:extension:name", "arrow.json"]])) : f
      )
    )
    const marked = new Table(table.batches.map((b) => new RecordBatch(schema, b.data)))
    const r = await runLoad(load.arrow, { table: marked })
    expectComplete(r, 3)
    expect(Object.keys(r.pairTypes)).toEqual([
      "pair_id",
      "prompt",
      "response_a",
      "response_b",
      "label",
      "label_source",
      "source",
      "source_row",
      "tiny",
      "n32",
      "n64",
      "u32",
      "f32",
      "ok",
      "day",
      "at",
      "tags",
      "meta",
      "cat",
      "nothing",
      "doc"
    ])
    expect(r.pairTypes).toMatchObject({
      tiny: "INTEGER",
      n32: "INTEGER",
      n64: "BIGINT",
      u32: "BIGINT",
      f32: "DOUBLE",
      ok: "BOOLEAN",
      day: "DATE",
      at: "TIMESTAMP",
      tags: "JSON",
      meta: "JSON",
      cat: "VARCHAR",
      nothing: "VARCHAR",
      doc: "JSON"
    })
    const cols = (name: string) => r.pairs.map((p) => p[name])
    expect(cols("tiny")).toEqual([1, null, -3])
    expect(cols("n64")).toEqual([2 ** 40, null, -1])
    expect(cols("u32")).toEqual([4_000_000_000, 0, 1])
    expect(cols("f32")).toEqual([0.5, null, 2])
    expect(cols("ok")).toEqual([true, false, null])
    expect(cols("tags").map((x) => (x === null ? null : JSON.parse(x as string)))).toEqual([["x", "y"], [], null])
    expect(cols("meta").map((x) => (x === null ? null : JSON.parse(x as string)))).toEqual([
      { k: "a", n: 1 },
      null,
      { k: null, n: 3 }
    ])
    expect(cols("cat")).toEqual(["u", "v", "u"])
    expect(cols("doc").map((x) => (x === null ? null : JSON.parse(x as string)))).toEqual([{ a: [1, 2] }, null, {}])
    expect(cols("source")).toEqual(["arrow", "arrow", "arrow"])
    expect(cols("source_row")).toEqual([0, 1, 2])
    expect((r.pairs[0]!["at"] as Date).toISOString()).toBe("2024-01-02T03:04:05.678Z")
    expect((r.pairs[0]!["day"] as Date).toISOString()).toBe("2024-02-29T00:00:00.000Z")
    expect(r.pairs[1]!["at"]).toBeNull()
  })

  it("gives the same pair ids and sides as load.table on the same records", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wb-arrow-"))
    const path = writeJsonl(
      dir,
      "qa.jsonl",
      QA.prompt.map((prompt, i) => ({ prompt, chosen: QA.chosen[i], rejected: QA.rejected[i] }))
    )
    const fromFile = await runLoad(load.table, { path, seed: 7 })
    const fromArrow = await runLoad(load.arrow, { table: qaTable(), seed: 7 })
    const ids = (rows: ReadonlyArray<Record<string, unknown>>) =>
      rows.map((p) => [p["pair_id"], p["label"], p["response_a"]])
    expect(ids(fromArrow.pairs)).toEqual(ids(fromFile.pairs))
    expect(count(fromArrow.pairs, (p) => p["label"] === "b")).toBeGreaterThan(0)
  })

  it("rejects rows with a NULL side or an unknown label, keeps the row as JSON, and counts rows in = out + rejected", async () => {
    const table = new Table({
      q: text(["a?", "b?", "c?", null, "e?"]),
      x: text(["1", null, "3", "4", "5"]),
      y: text(["one", "two", "three", "four", "five"]),
      winner: text(["A", "b", "maybe", "tie", null]),
      n: v([1n, 2n, 3n, 4n, 5n], new Int64())
    })
    const r = await runLoad(load.arrow, {
      table,
      columns: { prompt: "q", response_a: "x", response_b: "y", label: "winner" },
      maxRejectRate: 0.8,
      labelSource: "human"
    })
    expectComplete(r, 5)
    expect(r.pairs.map((p) => [p["source_row"], p["label"], p["label_source"], p["n"]])).toEqual([
      [0, "a", "human", 1],
      [4, null, null, 5]
    ])
    expect(r.rejects.map((x) => x["reason"])).toEqual([
      "x: expected a string, got null",
      'winner: unknown value "maybe" (known: a, b, tie, model_a, model_b, tie (bothbad); see the labels param)',
      "q: expected a string, got null"
    ])
    expect(r.rejects.map((x) => [x["file"], x["index"]])).toEqual([
      ["(arrow table)", 1],
      ["(arrow table)", 2],
      ["(arrow table)", 3]
    ])
    expect(JSON.parse(r.rejects[1]!["raw"] as string)).toEqual({ q: "c?", x: "3", y: "three", winner: "maybe", n: 3 })
  })

  it("over maxRejectRate: the message speaks of the table's rows, not of a file", async () => {
    const e = await runLoadError(load.arrow, {
      table: new Table({ prompt: text(["a", null]), chosen: text(["x", "y"]), rejected: text(["z", "w"]) })
    })
    expect(e.message).toBe(
      'node "n" (load.arrow) param table: 1 of 2 records rejected (50.0%): index 1: prompt: expected a string, got null\n' +
        "  expected: a reject rate of at most 0% (maxRejectRate: 0)\n" +
        "  fix: fix those rows of the table, or set maxRejectRate to 0.5 or more to load the other records; " +
        "the rejects table then lists every rejected record with its reason"
    )
  })

  it("renders a prompt column of {role, content} message lists and keeps the list in messages", async () => {
    const msg = new Struct([new Field("role", new Utf8(), true), new Field("content", new Utf8(), true)])
    const table = new Table({
      prompt: v(
        [
          [
            { role: "user", content: "Hi" },
            { role: "assistant", content: "Hello!" },
            { role: "user", content: "2 + 2?" }
          ],
          [{ role: "user", content: "Name a colour." }],
          [{ role: "user", content: null }]
        ],
        new List(new Field("item", msg, true))
      ),
      chosen: text(["4", "Blue.", "x"]),
      rejected: text(["5", "Seven.", "y"])
    })
    const r = await runLoad(load.arrow, { table, maxRejectRate: 0.5 })
    expectComplete(r, 3)
    expect(r.pairs.map((p) => p["prompt"])).toEqual([
      "Human: Hi\n\nAssistant: Hello!\n\nHuman: 2 + 2?",
      "Name a colour."
    ])
    expect(JSON.parse(r.pairs[1]!["messages"] as string)).toEqual([{ role: "user", content: "Name a colour." }])
    expect(r.rejects.map((x) => x["reason"])).toEqual([
      expect.stringMatching(/^prompt\[0\]\.content: expected (a )?string, got (NULL|null)$/)
    ])
  })

  it("loads NaN as NULL and says so", async () => {
    const notes: Array<string> = []
    const table = qaTable({ score: v([1.5, Number.NaN, Number.NaN], new Float64()) })
    const rows = await runWithSql(
      Effect.gen(function* () {
        const params = Schema.decodeUnknownSync(load.arrow.definition.params)({ table })
        yield* load.arrow.definition.run({ node: "n", kind: "load.arrow", params, inputs: {} }).pipe(
          Effect.provideService(Progress, {
            rows: () => Effect.void,
            note: (t) => Effect.sync(() => void notes.push(t)),
            metrics: () => Effect.void
          })
        )
        return notes
      })
    )
    expect(rows).toEqual(["column score: 2 NaN value(s) loaded as NULL"])
  })

  it("fails naming the column, its Arrow type and what to do, for a type it cannot load", async () => {
    const e = await runLoadError(load.arrow, {
      table: qaTable({ blob: v([new Uint8Array([1]), null, null], new Binary()) })
    })
    expect(e.tag).toBe("DataError")
    expect(e.message).toBe(
      'node "n" (load.arrow) param table, column "blob": Arrow type Binary\n' +
        "  expected: Utf8 (or a dictionary of it), Int8-64, Uint8-32, Float16-64, Bool, Date, Timestamp, or List/Struct/Map (kept as JSON)\n" +
        '  fix: convert column "blob" before loading (e.g. decimals to Float64, binary to base64 Utf8), or leave it out with table.select([...])'
    )
  })

  it("fails when a mapped column has the wrong type or is missing, naming the table's columns", async () => {
    const wrong = await runLoadError(load.arrow, {
      table: new Table({ prompt: text(["p"]), chosen: v([1n], new Int64()), rejected: text(["r"]) })
    })
    expect(wrong.message).toBe(
      'node "n" (load.arrow) param columns.chosen: column "chosen" is Int64\n' +
        "  expected: a column of utf8\n" +
        '  fix: map columns.chosen to another column, or convert "chosen" to Utf8 before loading'
    )
    const missing = await runLoadError(load.arrow, {
      table: qaTable(),
      columns: { prompt: "question", chosen: "chosen", rejected: "rejected" }
    })
    expect(missing.message).toMatch(
      /^node "n" \(load\.arrow\) param columns\.prompt: the table has no field "question"; its fields: prompt, chosen, rejected\n/
    )
  })

  it("refuses a table without columns, and one with two columns of one name (which would load one of them unseen)", async () => {
    const empty = await runLoadError(load.arrow, { table: new Table() })
    expect(empty).toEqual({
      tag: "DataError",
      message:
        'node "n" (load.arrow) param table: the table has no columns\n' +
        "  expected: columns prompt, chosen, rejected, or prompt, response_a, response_b (and optionally label)\n" +
        "  fix: pass the table that holds the pairs (tableFromArrays({ prompt, chosen, rejected }) builds one)"
    })
    const fields = ["prompt", "chosen", "rejected", "prompt"].map((n) => new Field(n, new Utf8(), true))
    const children = [["p"], ["c"], ["r"], ["another prompt"]].map((xs) => text(xs).data[0]!)
    const data = makeData({ type: new Struct(fields), length: 1, nullCount: 0, children })
    const twice = await runLoadError(load.arrow, { table: new Table([new RecordBatch(new ArrowSchema(fields), data)]) })
    expect(twice).toEqual({
      tag: "DataError",
      message:
        'node "n" (load.arrow) param table: column "prompt" appears 2 times (columns 0, 3); its columns: prompt, chosen, rejected, prompt\n' +
        "  expected: each column name once\n" +
        '  fix: rename or drop the repeated "prompt" columns before loading (e.g. with table.selectAt([...]))'
    })
  })

  it("refuses a value that is not an Arrow table when the params are decoded", () => {
    expect(() => Schema.decodeUnknownSync(load.arrow.definition.params)({ table: "data/qa.arrow" })).toThrow(
      /an apache-arrow Table \(load\.arrow is for TypeScript programs; YAML cannot hold one: use load\.table\)/
    )
  })
})

describe("tableDigest", () => {
  const rows = Array.from({ length: 100 }, (_, i) => `row ${i}`)
  const whole = new Table({
    s: text(rows),
    n: v(
      rows.map((_, i) => BigInt(i)),
      new Int64()
    )
  })
  it("is the same for the same rows however they are batched", () => {
    const split = whole.slice(0, 30).concat(whole.slice(30, 31), whole.slice(31))
    expect(split.batches.length).toBe(3)
    expect(tableDigest(split)).toEqual(tableDigest(whole))
  })
  it("changes with one cell, with a value moved across a boundary, and with a column's type", () => {
    const base = tableDigest(whole).sha256
    const edited = new Table({ s: text(rows.map((r, i) => (i === 57 ? `${r}!` : r))), n: whole.getChild("n")! })
    expect(tableDigest(edited).sha256).not.toBe(base)
    const a = tableDigest(new Table({ x: text(["ab"]), y: text(["c"]) })).sha256
    expect(tableDigest(new Table({ x: text(["a"]), y: text(["bc"]) })).sha256).not.toBe(a)
    const dict = new Table({ s: v(rows, new Dictionary(new Utf8(), new Int32())), n: whole.getChild("n")! })
    expect(tableDigest(dict).sha256).not.toBe(base)
    expect(tableDigest(whole)).toMatchObject({ rows: 100, columns: ["s: Utf8", "n: Int64"] })
  })
})
