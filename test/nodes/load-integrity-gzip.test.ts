/**
 * Compressed inputs are verified end to end before DuckDB reads them: a gzip stream cut short (even
 * exactly at a line boundary, where DuckDB reads 10 of 20 lines without a word) or damaged inside
 * (a CRC error, where DuckDB splices text from two records) fails the node whatever maxRejectRate
 * says. Real files, real DuckDB, real zlib.
 */
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { constants, createGzip, gzipSync } from "node:zlib"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { load } from "../../nodes/load/index.js"
import { canVerify } from "../../nodes/load/read-stream.js"
import { Sql } from "../../workbench/core/services.js"
import { runWithSql } from "../support/sql.js"
import { runLoad, runLoadError } from "./load-helpers.js"

const root = mkdtempSync(join(tmpdir(), "wb-gzip-"))
const LINES = Array.from({ length: 20 }, (_, i) =>
  JSON.stringify({ prompt: `prompt ${i} ${"x".repeat(i * 3)}`, chosen: `chosen ${i}`, rejected: `rejected ${i}` })
)
const TEXT = LINES.map((l) => `${l}\n`).join("")
const write = (name: string, bytes: Buffer | string) => {
  writeFileSync(join(root, name), bytes)
  return name
}

/** A gzip stream of `LINES` that ends, without its trailer, right after line `n` (a full flush there). */
async function gzipCutAfter(n: number): Promise<Buffer> {
  const z = createGzip()
  const chunks: Array<Buffer> = []
  z.on("data", (c: Buffer) => chunks.push(c))
  z.write(
    LINES.slice(0, n)
      .map((l) => `${l}\n`)
      .join("")
  )
  await new Promise<void>((res) => z.flush(constants.Z_FULL_FLUSH, () => res()))
  const cut = Buffer.concat(chunks)
  z.end()
  return cut
}

/** What DuckDB alone makes of a file: its line count (the damage these tests guard against). */
const duckLines = (name: string) =>
  runWithSql(
    Effect.gen(function* () {
      const [r] = yield* (yield* Sql).rows<{
        n: number
      }>(`SELECT count(*)::INTEGER AS n FROM read_csv('${join(root, name)}',
      columns = {'line': 'VARCHAR'}, header = false, auto_detect = false, delim = chr(1), quote = '', escape = '', ignore_errors = true)`)
      return r!.n
    })
  )

describe("gzip inputs are verified before they are read", () => {
  it("loads an intact stream, and one whose name does not say it is gzip", async () => {
    const r = await runLoad(load.trl, { path: write("ok.jsonl.gz", gzipSync(TEXT)) }, root)
    expect(r.pairs).toHaveLength(20)
    // compression is told from the bytes, not the name
    const misnamed = await runLoad(load.trl, { path: write("misnamed.jsonl", gzipSync(TEXT)) }, root)
    expect(misnamed.pairs).toEqual(r.pairs)
  })

  it("fails on a stream cut exactly at a line boundary (20-row file cut to 10 rows), whatever maxRejectRate says", async () => {
    const name = write("cut.jsonl.gz", await gzipCutAfter(10))
    expect(await duckLines(name)).toBe(10) // DuckDB alone: 10 rows, no error
    const after = Buffer.byteLength(
      LINES.slice(0, 10)
        .map((l) => `${l}\n`)
        .join("")
    )
    for (const maxRejectRate of [0, 1]) {
      const e = await runLoadError(load.trl, { path: name, maxRejectRate }, root)
      expect(e.tag).toBe("DataError")
      expect(e.message.split("\n")[0]).toBe(
        `node "n" (load.trl): cut.jsonl.gz: gzip stream is truncated (after ${after.toLocaleString("en-US")} bytes): ` +
          `the file ends before its stream does (10 complete line(s) decompressed; zlib: unexpected end of file)`
      )
      expect(e.message).toContain(
        "  fix: the file is damaged (a cut-short download or copy?): fetch or copy it again; `gzip -t cut.jsonl.gz` checks a file"
      )
    }
  })

  it("fails on a CRC error (10 bytes at offset 150 XORed with 0xFF) at maxRejectRate 0.2, where DuckDB splices records", async () => {
    const bytes = gzipSync(TEXT)
    for (let i = 150; i < 160; i++) bytes[i] = bytes[i]! ^ 0xff
    const name = write("crc.jsonl.gz", bytes)
    expect(await duckLines(name)).not.toBe(20) // DuckDB alone: a different number of lines, no error
    const e = await runLoadError(load.trl, { path: name, maxRejectRate: 0.2 }, root)
    expect(e.message).toMatch(
      /^node "n" \(load\.trl\): crc\.jsonl\.gz: gzip stream is corrupt \(after [\d,]+ bytes\): its data does not decompress to what its checksum says \(zlib: [^)]+\)\n/
    )
  })

  it("fails on a stream cut inside a line, and on .json.gz and .csv.gz alike", async () => {
    const whole = gzipSync(TEXT)
    const mid = write("mid.jsonl.gz", whole.subarray(0, Math.floor(whole.length / 2)))
    expect((await runLoadError(load.trl, { path: mid, maxRejectRate: 1 }, root)).message).toMatch(
      /^node "n" \(load\.trl\): mid\.jsonl\.gz: gzip stream is truncated \(after [\d,]+ bytes\)/
    )
    const array = gzipSync(`[${LINES.join(",\n")}]`)
    const json = write("cut.json.gz", array.subarray(0, array.length - 8)) // the trailer (CRC, length) cut off
    expect((await runLoadError(load.table, { path: json, maxRejectRate: 1 }, root)).message).toMatch(
      /^node "n" \(load\.table\): cut\.json\.gz: gzip stream is truncated/
    )
    const csv = gzipSync(["prompt,chosen,rejected", ...LINES.map((_, i) => `p${i},c${i},r${i}`)].join("\n") + "\n")
    const csvName = write("cut.csv.gz", csv.subarray(0, csv.length - 8))
    expect((await runLoadError(load.table, { path: csvName, maxRejectRate: 1 }, root)).message).toMatch(
      /^node "n" \(load\.table\): cut\.csv\.gz: gzip stream is truncated/
    )
  })

  it("fails on bytes after the end of the stream (zero padding, garbage), saying so, not blaming permissions or the checksum", async () => {
    const whole = gzipSync(TEXT)
    // `gzip -t` says "decompression OK, trailing zero bytes ignored" (exit 2); DuckDB refuses both files
    for (const [name, tail] of [
      ["zeros.jsonl.gz", Buffer.alloc(10)],
      ["garbage.jsonl.gz", Buffer.from("garbage!")]
    ] as const) {
      const e = await runLoadError(
        load.trl,
        { path: write(name, Buffer.concat([whole, tail])), maxRejectRate: 1 },
        root
      )
      expect(e.tag).toBe("DataError")
      expect(e.message.split("\n")[0]).toMatch(
        new RegExp(
          `^node "n" \\(load\\.trl\\): ${name.replace(".", "\\.")}: gzip stream is followed by data that is not gzip: ` +
            `bytes after the end of the compressed stream \\(zlib: [^)]+\\)$`
        )
      )
      expect(e.message).toContain(
        `fix: the file has bytes after its gzip stream (padding, or a file joined to it?): check what it should hold; \`zcat ${name} | gzip > ${name.replace(".jsonl.gz", ".fixed.jsonl.gz")}\` keeps the gzip part`
      )
    }
  })

  it("verifies zstd where this Node can decode it, and refuses it unread where it cannot", async () => {
    const name = "z.jsonl.zst"
    await runWithSql(
      Effect.gen(function* () {
        yield* (yield* Sql).run(`COPY (SELECT 'p' || i AS prompt, 'c' || i AS chosen, 'r' || i AS rejected FROM range(20) t(i))
        TO '${join(root, name)}' (FORMAT json, COMPRESSION zstd)`)
      })
    )
    if (canVerify("zstd")) {
      expect((await runLoad(load.trl, { path: name }, root)).pairs).toHaveLength(20)
    } else {
      const e = await runLoadError(load.trl, { path: name }, root)
      expect(e.message.split("\n")[0]).toBe(
        `node "n" (load.trl): z.jsonl.zst is zstd-compressed, and this Node (${process.version}) has no zstd decoder to verify it with`
      )
    }
  })
})
