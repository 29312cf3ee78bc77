// Arrow in and out for library users: an in-memory apache-arrow Table of real HH-RLHF pairs with
// planted exact duplicates goes through load.arrow -> dedupe.pairs with runPipeline, and the clean
// table comes back as Arrow with exactly the expected rows and types; a second run with the same
// rows (batched differently, a new object) is cached; one changed cell re-runs; streamed batches
// add up to the same table.
import {
  Bool,
  DateDay,
  Dictionary,
  Field,
  Float64,
  Int32,
  Int64,
  List,
  type RecordBatch,
  Table,
  tableFromArrays,
  TimestampMillisecond,
  Utf8,
  vectorFromArray
} from "apache-arrow"
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { gunzipSync } from "node:zlib"
import { describe, expect, it } from "vitest"
import { dedupe, load } from "../../nodes/index.js"
import { pipeline, runPipeline } from "../../workbench/index.js"

interface Source {
  readonly id: bigint
  readonly prompt: string
  readonly chosen: string
  readonly rejected: string
  readonly score: number | null
  readonly flag: boolean
  readonly tags: ReadonlyArray<string>
}

const ASSISTANT = "\n\nAssistant:"
const norm = (s: string) => s.replace(/\s+/g, " ").trim()

/**
 * The first 200 HH-RLHF test records whose chosen and rejected transcripts share the prompt, split at
 * the last assistant turn. Skipped: records dedupe.pairs would remove by itself (an empty or identical
 * side, a twin after whitespace normalisation), so that the planted duplicates are all it removes.
 */
function hhRows(): Array<Source> {
  const lines = gunzipSync(readFileSync("data/hh-rlhf-harmless-base/test.jsonl.gz")).toString("utf8").split("\n")
  const rows: Array<Source> = []
  const seen = new Set<string>()
  for (const line of lines) {
    if (rows.length === 200) break
    if (line.trim() === "") continue
    const r = JSON.parse(line) as { chosen: string; rejected: string }
    const cut = r.chosen.lastIndexOf(ASSISTANT)
    const prompt = r.chosen.slice(0, cut)
    if (cut < 0 || r.rejected.lastIndexOf(ASSISTANT) !== cut || r.rejected.slice(0, cut) !== prompt) continue
    const chosen = r.chosen.slice(cut + ASSISTANT.length).trim(),
      rejected = r.rejected.slice(cut + ASSISTANT.length).trim()
    const key = JSON.stringify([norm(prompt), ...[norm(chosen), norm(rejected)].sort()])
    if (chosen === "" || rejected === "" || norm(chosen) === norm(rejected) || seen.has(key)) continue
    seen.add(key)
    const i = rows.length
    rows.push({
      id: BigInt(1000 + i),
      prompt,
      chosen,
      rejected,
      score: i % 7 === 0 ? null : i / 4,
      flag: i % 2 === 0,
      tags: i % 3 === 0 ? [] : [`t${i % 5}`, "hh"]
    })
  }
  return rows
}

const REAL = hhRows()
// rows 3 and 10 planted again at the end (10 twice), with their own extras: exact duplicates
const PLANTED: Array<Source> = [3, 10, 10].map((i, k) => ({
  ...REAL[i]!,
  id: BigInt(9000 + k),
  score: -1,
  flag: false,
  tags: ["planted"]
}))
const ALL = [...REAL, ...PLANTED]

/** An apache-arrow Table of `rows`, split into record batches of `batch` rows. */
function arrowTable(rows: ReadonlyArray<Source>, batch = rows.length): Table {
  const parts: Array<Table> = []
  for (let start = 0; start < rows.length; start += batch) {
    const part = rows.slice(start, start + batch)
    parts.push(
      new Table({
        prompt: vectorFromArray(
          part.map((r) => r.prompt),
          new Utf8()
        ),
        chosen: vectorFromArray(
          part.map((r) => r.chosen),
          new Utf8()
        ),
        rejected: vectorFromArray(
          part.map((r) => r.rejected),
          new Utf8()
        ),
        id: vectorFromArray(
          part.map((r) => r.id),
          new Int64()
        ),
        score: vectorFromArray(
          part.map((r) => r.score),
          new Float64()
        ),
        flag: vectorFromArray(
          part.map((r) => r.flag),
          new Bool()
        ),
        tags: vectorFromArray(
          part.map((r) => [...r.tags]),
          new List(new Field("item", new Utf8(), true))
        ),
        // a pairs column's name: passes through as src_source
        source: vectorFromArray(
          part.map(() => "hh-arrow"),
          new Dictionary(new Utf8(), new Int32())
        )
      })
    )
  }
  return parts.reduce((a, b) => a.concat(b))
}

const quickPipeline = (table: Table) =>
  pipeline("arrow-library", (p) => {
    const pairs = p.node(
      "pairs",
      load.arrow({ table, columns: { prompt: "prompt", chosen: "chosen", rejected: "rejected" } })
    )
    p.node("clean", dedupe.pairs(), { pairs, votes: pairs.votes })
  })

const statuses = (r: Awaited<ReturnType<typeof runPipeline>>) =>
  Object.fromEntries(r.report.nodes.map((n) => [n.name, n.status]))
const plain = (v: unknown): unknown => (typeof v === "bigint" ? Number(v) : v)
const rowsOf = (t: Table) =>
  t.toArray().map((r) => Object.fromEntries(Object.entries(r.toJSON()).map(([k, v]) => [k, plain(v)])))

describe("load.arrow -> dedupe.pairs through runPipeline, read back as Arrow", () => {
  // each test its own workspace: none relies on another's cache or order
  const fresh = () => ({ workspace: mkdtempSync(join(tmpdir(), "wb-arrow-lib-")), root: process.cwd() })

  it("keeps every real row with its extras and types, and removes exactly the planted duplicates", async () => {
    expect(REAL.length).toBe(200)
    const result = await runPipeline(quickPipeline(arrowTable(ALL)), fresh())
    expect(statuses(result)).toEqual({ pairs: "ran", clean: "ran" })
    expect(result.report.nodes[0]).toMatchObject({ rowsIn: 203, rowsOut: 203, rejected: 0 })
    expect(result.report.nodes[1]).toMatchObject({ rowsIn: 203, rowsOut: 200, removed: 3 })

    const clean = await result.table("clean").toArrow()
    expect(clean.numRows).toBe(200)
    const types = Object.fromEntries(clean.schema.fields.map((f) => [f.name, String(f.type)]))
    expect(types).toMatchObject({
      pair_id: "Utf8",
      prompt: "Utf8",
      response_a: "Utf8",
      response_b: "Utf8",
      label: "Utf8",
      source: "Utf8",
      source_row: "Int64",
      id: "Int64",
      score: "Float64",
      flag: "Bool",
      tags: "Utf8",
      src_source: "Utf8"
    })
    expect(clean.schema.fields.find((f) => f.name === "tags")!.metadata.get("ARROW:extension:name")).toBe("arrow.json")

    const got = rowsOf(clean).sort((a, b) => (a["source_row"] as number) - (b["source_row"] as number))
    expect(
      got.map((r) => ({
        id: r["id"],
        prompt: r["prompt"],
        source: r["source"],
        source_row: r["source_row"],
        chosen: r["label"] === "a" ? r["response_a"] : r["response_b"],
        rejected: r["label"] === "a" ? r["response_b"] : r["response_a"],
        score: r["score"],
        flag: r["flag"],
        tags: JSON.parse(r["tags"] as string),
        src_source: r["src_source"]
      }))
    ).toEqual(
      REAL.map((s, i) => ({
        id: Number(s.id),
        prompt: s.prompt,
        source: "arrow",
        source_row: i,
        chosen: s.chosen,
        rejected: s.rejected,
        score: s.score,
        flag: s.flag,
        tags: s.tags,
        src_source: "hh-arrow"
      }))
    )

    // each planted row is recorded as removed, merged into the real row it copies
    const removed = rowsOf(await result.table("clean.removed").toArrow())
    const idOf = new Map(got.map((r) => [r["pair_id"], r["id"]]))
    expect(removed.map((r) => [r["id"], r["reason"], idOf.get(r["kept_pair_id"])]).sort()).toEqual([
      [9000, "exact-duplicate", 1003],
      [9001, "exact-duplicate", 1010],
      [9002, "exact-duplicate", 1010]
    ])
  })

  it("serves the same rows from cache, though batched differently and in a new Table object", async () => {
    const options = fresh()
    expect(statuses(await runPipeline(quickPipeline(arrowTable(ALL)), options))).toEqual({ pairs: "ran", clean: "ran" })
    const again = arrowTable(ALL, 64)
    expect(again.batches.length).toBe(4)
    const result = await runPipeline(quickPipeline(again), options)
    expect(statuses(result)).toEqual({ pairs: "cached", clean: "cached" })
    // the manifest records the table's digest, never the table
    const manifest = JSON.parse(
      readFileSync(join(options.workspace, "artifacts", result.report.nodes[0]!.key!, "manifest.json"), "utf8")
    )
    expect(manifest.params.table).toEqual({
      rows: 203,
      columns: expect.any(Array),
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/)
    })
    expect(manifest.params.table.columns).toContain("source: Dictionary<Int32, Utf8>")
  })

  it("re-runs the loader and dedupe when one cell changes, and the change arrives", async () => {
    const options = fresh()
    await runPipeline(quickPipeline(arrowTable(ALL)), options)
    const changed = ALL.map((r, i) => (i === 42 ? { ...r, rejected: `${r.rejected} (edited)` } : r))
    const result = await runPipeline(quickPipeline(arrowTable(changed)), options)
    expect(statuses(result)).toEqual({ pairs: "ran", clean: "ran" })
    const rows = rowsOf(await result.table("clean").toArrow())
    const row = rows.find((r) => r["id"] === 1042)!
    expect([row["response_a"], row["response_b"]]).toContain(`${REAL[42]!.rejected} (edited)`)
  })

  it("streams record batches that concatenate to the same table", async () => {
    const result = await runPipeline(quickPipeline(arrowTable(ALL)), fresh())
    const clean = result.table("clean")
    const batches: Array<RecordBatch> = []
    for await (const batch of clean.toArrowBatches({ batchRows: 48 })) batches.push(batch)
    expect(batches.map((b) => b.numRows)).toEqual([48, 48, 48, 48, 8])
    const whole = await clean.toArrow()
    const streamed = new Table(batches)
    expect(streamed.schema.fields.map((f) => `${f.name}: ${f.type}`)).toEqual(
      whole.schema.fields.map((f) => `${f.name}: ${f.type}`)
    )
    expect(rowsOf(streamed)).toEqual(rowsOf(whole))
    // stopping early closes the reader and leaves the table readable
    for await (const batch of clean.toArrowBatches({ batchRows: 10 })) {
      expect(batch.numRows).toBe(10)
      break
    }
    expect((await clean.toArrow()).numRows).toBe(200)
  })

  it("runs the README example: a tableFromArrays table (dictionary columns) in, one row out", async () => {
    const table = tableFromArrays({ prompt: ["2+2?", "2+2?"], chosen: ["4", "4"], rejected: ["5", "5"] })
    const def = pipeline("mine", (p) => {
      const pairs = p.node("pairs", load.arrow({ table }))
      p.node("clean", dedupe.pairs(), { pairs, votes: pairs.votes })
    })
    const result = await runPipeline(def, fresh())
    const clean = rowsOf(await result.table("clean").toArrow())
    expect(clean.map((r) => [r["prompt"], r["label"] === "a" ? r["response_a"] : r["response_b"]])).toEqual([
      ["2+2?", "4"]
    ])
    const removed: Array<RecordBatch> = []
    for await (const batch of result.table("clean.removed").toArrowBatches()) removed.push(batch)
    expect(removed.map((b) => b.numRows)).toEqual([1])
  })

  it("names what exists when a result table is not there", async () => {
    const result = await runPipeline(quickPipeline(arrowTable(ALL)), fresh())
    expect(() => result.table("cleen")).toThrow(
      /result\.table\("cleen"\): pipeline "arrow-library" has no node "cleen"\n {2}expected: one of: pairs, clean/
    )
    expect(() => result.table("clean.kept")).toThrow(
      /node "clean" has no table "kept"\n {2}expected: one of its tables: pairs, votes, removed, conflicts, report/
    )
    const empty = await result.table("pairs.rejects").toArrow()
    expect(empty.numRows).toBe(0)
    expect(empty.schema.fields.map((f) => f.name)).toEqual(expect.arrayContaining(["file", "reason", "raw"]))
  })

  it("round-trips every loadable type: Arrow in, the engine's types, Arrow out with the same values", async () => {
    const table = new Table({
      prompt: vectorFromArray(["p1", "p2"], new Utf8()),
      chosen: vectorFromArray(["c1", "c2"], new Utf8()),
      rejected: vectorFromArray(["r1", "r2"], new Utf8()),
      small: vectorFromArray([7, null], new Int32()),
      big: vectorFromArray([2n ** 53n + 1n, -5n], new Int64()),
      at: vectorFromArray([Date.UTC(2024, 0, 2, 3, 4, 5, 678), null], new TimestampMillisecond()),
      day: vectorFromArray([Date.UTC(2024, 1, 29), 0], new DateDay()),
      tags: vectorFromArray([["x"], null], new List(new Field("item", new Utf8(), true)))
    })
    const result = await runPipeline(
      pipeline("types", (p) => void p.node("pairs", load.arrow({ table }))),
      fresh()
    )
    const out = await result.table("pairs").toArrow()
    const extras = ["small", "big", "at", "day", "tags"]
    expect(out.schema.fields.filter((f) => extras.includes(f.name)).map((f) => `${f.name}: ${f.type}`)).toEqual([
      "small: Int32",
      "big: Int64",
      "at: Timestamp<MILLISECOND>",
      "day: Date32<DAY>",
      "tags: Utf8"
    ])
    const col = (name: string) => [...out.getChild(name)!]
    expect(col("small")).toEqual([7, null])
    expect(col("big")).toEqual([2n ** 53n + 1n, -5n]) // exact: not through a JS number
    expect(col("at")).toEqual([Date.UTC(2024, 0, 2, 3, 4, 5, 678), null])
    expect(col("day")).toEqual([Date.UTC(2024, 1, 29), 0])
    expect(col("tags")).toEqual(['["x"]', null])
    // fed back in, the JSON-marked column is JSON again, and the table's content is unchanged
    const again = await runPipeline(
      pipeline("back", (p) => void p.node("pairs", load.arrow({ table: out }))),
      fresh()
    )
    expect(again.report.nodes[0]!.status).toBe("ran")
    const back = await again.table("pairs").toArrow()
    expect(back.schema.fields.find((f) => f.name === "tags")!.metadata.get("ARROW:extension:name")).toBe("arrow.json")
    for (const name of [...extras, "pair_id", "label"])
      expect([...back.getChild(name)!], name).toEqual([...out.getChild(name)!])
  })
})
