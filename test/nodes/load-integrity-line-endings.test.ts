/**
 * Valid JSON Lines and CSV whose lines mix CRLF and LF endings load, with every line numbered as in
 * the file (DuckDB alone fails: "CSV Parser state machine reached an invalid state"), and a CR inside
 * a quoted CSV field keeps its text. A CR that ends no line is named by its line. Real files, DuckDB.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { gzipSync } from "node:zlib"
import { describe, expect, it } from "vitest"
import { load } from "../../nodes/load/index.js"
import { linesFrom, normalizeLineEndings } from "../../nodes/load/read-stream.js"
import { expectComplete, runLoad, runLoadError } from "./load-helpers.js"

const root = mkdtempSync(join(tmpdir(), "wb-crlf-"))
const write = (name: string, text: string | Buffer) => {
  writeFileSync(join(root, name), text)
  return name
}
const line = (i: number) => JSON.stringify({ prompt: `q${i}`, chosen: `yes ${i}`, rejected: `no ${i}` })
const crOf = (r: { pairs: ReadonlyArray<Record<string, unknown>> }) =>
  r.pairs.map((p) => [p["source_row"], p["prompt"], p["label"] === "a" ? p["response_a"] : p["response_b"]])

describe("mixed CRLF/LF line endings", () => {
  it("load as JSON Lines, numbered line by line", async () => {
    // CRLF, LF, CRLF, a malformed line, LF, a blank CRLF line, LF
    const text = `${line(0)}\r\n${line(1)}\n${line(2)}\r\n{"prompt": broken\r\n${line(4)}\n\r\n${line(6)}\n`
    const r = await runLoad(load.trl, { path: write("mixed.jsonl", text), maxRejectRate: 0.2 }, root)
    expect(crOf(r)).toEqual([
      [0, "q0", "yes 0"],
      [1, "q1", "yes 1"],
      [2, "q2", "yes 2"],
      [4, "q4", "yes 4"],
      [6, "q6", "yes 6"]
    ])
    expect(r.rejects.map((x) => [x["line"], x["reason"], x["raw"]])).toEqual([
      [4, "malformed JSON", '{"prompt": broken']
    ])
    expect(r.out.stats).toMatchObject({ records: 6, rejected: 1, blank_lines: 1 })
    expectComplete(r, 6)
    // gzip'd, the same rows
    const gz = await runLoad(load.trl, { path: write("mixed.jsonl.gz", gzipSync(text)), maxRejectRate: 0.2 }, root)
    expect(crOf(gz)).toEqual(crOf(r))
  })

  it("load as CSV, keeping a CRLF inside a quoted field as it is", async () => {
    const text = 'prompt,chosen,rejected\r\np0,"two\r\nlines",r0\np1,c1,r1\r\n"p\n2",c2,r2\np3,c3,r3\n'
    const r = await runLoad(load.table, { path: write("mixed.csv", text) }, root)
    expect(crOf(r)).toEqual([
      [0, "p0", "two\r\nlines"],
      [1, "p1", "c1"],
      [2, "p\n2", "c2"],
      [3, "p3", "c3"]
    ])
    expect(r.rejects).toEqual([])
    expectComplete(r, 4)
    const tsv = await runLoad(
      load.table,
      { path: write("mixed.tsv", "prompt\tchosen\trejected\r\np0\tc0\tr0\np1\tc1\tr1\r\n") },
      root
    )
    expect(crOf(tsv)).toEqual([
      [0, "p0", "c0"],
      [1, "p1", "c1"]
    ])
  })

  it("fail on a carriage return that ends no line, naming the line", async () => {
    const text = `${line(0)}\r\n${line(1)}\n{"prompt": "q2",\r"chosen": "c", "rejected": "r"}\n`
    const e = await runLoadError(load.trl, { path: write("stray-cr.jsonl", text), maxRejectRate: 1 }, root)
    expect(e.message).toBe(
      `node "n" (load.trl) file stray-cr.jsonl: line 3 holds a carriage return (CR) that ends no line, in a file whose lines end in LF or CRLF\n` +
        `  expected: lines ending in LF or CRLF (mixing the two is fine); a lone CR only inside a quoted CSV field\n` +
        `  fix: remove the stray CR on line 3 (or every CR: \`tr -d '\\r'\`), or end each line with LF or CRLF`
    )
  })
})

describe("the byte passes behind them", () => {
  // files are read in 1 MiB chunks: put a CRLF, and the lines an unclosed quote swallows, across a chunk boundary
  const MiB = 1 << 20

  it("rewrite a CRLF split between two chunks as one LF, and find a lone CR after it", async () => {
    const head = "x".repeat(MiB - 1) // the CR is the last byte of the first chunk, its LF the first of the next
    write("split.txt", `${head}\r\nafter\r\nlone\rcr\n`)
    const out = join(root, "split.out")
    const { loneCr } = await normalizeLineEndings(join(root, "split.txt"), "none", out)
    expect(readFileSync(out, "utf8")).toBe(`${head}\nafter\nlone\rcr\n`)
    expect(loneCr).toBe(3)
  })

  it("number the lines from a byte offset to the end, across chunks", async () => {
    const lines = Array.from({ length: 5 }, (_, i) => `${i}`.repeat(MiB / 2)) // 5 lines of 512 KiB
    write("long.txt", `${lines.join("\n")}\n\n`)
    const offset = 2 * (MiB / 2 + 1) + 10 // inside line 3
    const r = await linesFrom(join(root, "long.txt"), "none", offset)
    expect(r.firstLine).toBe(3)
    expect(r.lines.map((l) => [l.line, l.text.slice(0, 1), l.text.length > 10_000])).toEqual([
      [3, "2", true],
      [4, "3", true],
      [5, "4", true]
    ])
    expect(r.lines[0]!.text).toMatch(/… \(524288 bytes\)$/)
  })
})
