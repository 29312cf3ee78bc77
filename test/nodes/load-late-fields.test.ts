/**
 * Pass-through columns are typed over every record, not the first 20,480: later values the sampled
 * type cannot hold widen the column, fields first seen late are kept, and a label field that first
 * appears late is found. Real files, real DuckDB.
 */
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { load } from "../../nodes/load/index.js"
import { STRUCTURE_SAMPLE } from "../../nodes/load/extras.js"
import { runLoad } from "./load-helpers.js"

const dir = mkdtempSync(join(tmpdir(), "wb-late-"))
/** STRUCTURE_SAMPLE records {prompt, chosen, rejected, ...early(i)}, then the `late` ones. */
function lateFile(name: string, early: (i: number) => object, late: ReadonlyArray<object>) {
  const lines: Array<string> = []
  for (let i = 0; i < STRUCTURE_SAMPLE; i++)
    lines.push(JSON.stringify({ prompt: `p${i}`, chosen: "c", rejected: "r", ...early(i) }))
  for (const [j, l] of late.entries())
    lines.push(JSON.stringify({ prompt: `late${j}`, chosen: "c", rejected: "r", ...l }))
  const path = join(dir, name)
  // "__BIG__" stands for an integer a JS number cannot hold
  writeFileSync(path, lines.join("\n").replaceAll('"__BIG__"', "12345678901234567") + "\n")
  return path
}
const tail = <T>(xs: ReadonlyArray<T>, n: number) => xs.slice(xs.length - n)

describe.each([
  ["load.table", load.table],
  ["load.trl", load.trl]
] as const)("%s: fields beyond the sample", (_, kind) => {
  it("widens an integer column to JSON for a later string, keeping every value", async () => {
    const path = lateFile("id-string.jsonl", (i) => ({ id: i }), [{ id: "abc-1", newfield: "hello" }, { id: 2.5 }])
    const r = await runLoad(kind as typeof load.table, { path })
    expect(r.pairs).toHaveLength(STRUCTURE_SAMPLE + 2)
    expect(r.pairTypes).toMatchObject({ id: "JSON", newfield: "VARCHAR" })
    expect(tail(r.pairs, 3).map((p) => [p["id"], p["newfield"]])).toEqual([
      [String(STRUCTURE_SAMPLE - 1), null],
      ['"abc-1"', "hello"],
      ["2.5", null]
    ])
    expect(r.pairs[0]!["id"]).toBe("0")
  })

  it("widens an integer column to DOUBLE for a later fraction, never rounding it", async () => {
    const path = lateFile("id-double.jsonl", (i) => ({ id: i, ok: i % 2 === 0 }), [
      { id: 2.5, ok: true },
      { id: -7, ok: "maybe" }
    ])
    const r = await runLoad(kind as typeof load.table, { path })
    expect(r.pairTypes).toMatchObject({ id: "DOUBLE", ok: "JSON" })
    expect(tail(r.pairs, 2).map((p) => [p["id"], p["ok"]])).toEqual([
      [2.5, "true"],
      [-7, '"maybe"']
    ])
  })

  it("keeps integers a DOUBLE would round as JSON", async () => {
    const path = lateFile("big.jsonl", (i) => ({ n: i }), [{ n: 1.5 }, { n: "__BIG__" }])
    const r = await runLoad(kind as typeof load.table, { path })
    expect(r.pairTypes).toMatchObject({ n: "JSON" })
    expect(tail(r.pairs, 2).map((p) => p["n"])).toEqual(["1.5", "12345678901234567"])
  })

  it("keeps the sampled types when every value fits them", async () => {
    const path = lateFile("fits.jsonl", (i) => ({ n: i, x: i / 2, b: true }), [
      { n: -3, x: 1e300, b: false, late_obj: { a: [1] } }
    ])
    const r = await runLoad(kind as typeof load.table, { path })
    expect(r.pairTypes).toMatchObject({ n: "BIGINT", x: "DOUBLE", b: "BOOLEAN", late_obj: "JSON" })
    expect(tail(r.pairs, 1).map((p) => [p["n"], p["x"], p["b"], p["late_obj"]])).toEqual([
      [-3, 1e300, false, '{"a":[1]}']
    ])
  })
})

describe("load.table: a label field first seen late", () => {
  it("is found and mapped", async () => {
    const lines: Array<string> = []
    for (let i = 0; i < STRUCTURE_SAMPLE; i++)
      lines.push(JSON.stringify({ prompt: `p${i}`, response_a: "a", response_b: "b" }))
    lines.push(JSON.stringify({ prompt: "L", response_a: "a", response_b: "b", label: "b" }))
    const path = join(dir, "late-label.jsonl")
    writeFileSync(path, lines.join("\n") + "\n")
    const r = await runLoad(load.table, { path })
    expect(r.out.stats).toMatchObject({ mode: "sides", label_b: 1, label_none: STRUCTURE_SAMPLE })
    expect(tail(r.pairs, 1).map((p) => [p["prompt"], p["label"]])).toEqual([["L", "b"]])
    expect(r.pairTypes).not.toHaveProperty("src_label")
  })
})
