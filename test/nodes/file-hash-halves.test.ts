// A big input is hashed as two halves at once (XXH64, the second on a worker thread): the fingerprint
// must still be a pure function of the bytes (the same on every machine) and change with any byte of
// either half. xxh64Range itself is held to xxhsum in xxh64.test.ts.
import { createHash } from "node:crypto"
import { mkdtempSync, openSync, closeSync, writeSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { hashFile } from "../../nodes/lib/file-fingerprint.js"
import { xxh64Range } from "../../nodes/lib/xxh64.js"

const sha1 = (b: Buffer) => createHash("sha1").update(b).digest("hex")

describe("hashFile", () => {
  it("names a file of 64 MiB or more by the XXH64 of each half, and sees a byte flipped in either", () => {
    const dir = mkdtempSync(join(tmpdir(), "wb-hash-halves-"))
    const file = join(dir, "big.jsonl")
    const size = 64 * 1024 * 1024 + 12_345 // odd, so the halves differ in length
    const bytes = Buffer.alloc(size)
    for (let i = 0; i < size; i++) bytes[i] = (i * 2654435761) >>> 24
    writeFileSync(file, bytes)
    const half = Math.floor(size / 2)
    const whole = hashFile(file)
    const fd0 = openSync(file, "r")
    const halves = `xxh64x2:${xxh64Range(fd0, 0, half)}.${xxh64Range(fd0, half, size)}`
    closeSync(fd0)
    expect(whole).toBe(halves)
    expect(hashFile(file)).toBe(whole)
    for (const at of [17, size - 5]) {
      const fd = openSync(file, "r+")
      writeSync(fd, Buffer.from([bytes[at]! ^ 1]), 0, 1, at)
      closeSync(fd)
      expect(hashFile(file)).not.toBe(whole)
      const back = openSync(file, "r+")
      writeSync(back, Buffer.from([bytes[at]!]), 0, 1, at)
      closeSync(back)
      expect(hashFile(file)).toBe(whole)
    }
  })

  it("keeps one sha1 over the whole file below 64 MiB", () => {
    const file = join(mkdtempSync(join(tmpdir(), "wb-hash-small-")), "small.csv")
    writeFileSync(file, "prompt,response_a,response_b,label\np,x,y,a\n")
    expect(hashFile(file)).toBe(`sha1:${sha1(Buffer.from("prompt,response_a,response_b,label\np,x,y,a\n"))}`)
  })
})
