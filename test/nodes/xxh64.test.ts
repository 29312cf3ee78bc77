// The input fingerprint's XXH64 (nodes/lib/xxh64.wat) against the reference implementation: known
// answers from `xxhsum -H64` (xxHash 0.8.1, Debian's xxhash package) for bytes made by the rule
// below, at lengths that take every path (empty, the 1-, 4- and 8-byte tails, whole 32-byte stripes, a
// file read in several 4 MiB chunks with a carry between them), and the compiled bytes in the package.
import { closeSync, mkdtempSync, openSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { xxh64Range } from "../../nodes/lib/xxh64.js"
import { XXH64_WASM_BASE64 } from "../../nodes/lib/xxh64-wasm.js"
import { compiledWat } from "../support/wat.js"

/** Byte i of a test input: the top byte of i · 2654435761 (32-bit). */
const bytesOf = (n: number) => {
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) b[i] = Math.imul(i, 2654435761) >>> 24
  return b
}

// length → xxhsum -H64 of bytesOf(length)
const KNOWN: ReadonlyArray<readonly [number, string]> = [
  [0, "ef46db3751d8e999"],
  [1, "e934a84adb052768"],
  [3, "a9cf36b41f9e7d09"],
  [4, "435f59a33b7eb3d1"],
  [7, "651c1bb8102d53ea"],
  [8, "538cac3b18f9ef8e"],
  [9, "8205bfaa3589d37e"],
  [31, "4071dd1310fa5da9"],
  [32, "13ee8a64346f0691"],
  [33, "f75619499e2e2e99"],
  [63, "63a89bd4f10c9d1e"],
  [64, "fb24d94de825912f"],
  [100, "8a5b7a72e578e053"],
  [1000, "8420addb9882cc1b"],
  [4194304, "6867d6ba595cff91"],
  [4194341, "fdf5c39caa60d8ec"],
  [9000011, "3cb9f508d374b236"]
]

describe("xxh64Range", () => {
  it("gives xxhsum's XXH64 for every tail and chunk path", () => {
    const dir = mkdtempSync(join(tmpdir(), "wb-xxh64-"))
    const file = join(dir, "bytes.bin")
    const all = bytesOf(9_000_011)
    writeFileSync(file, all)
    const fd = openSync(file, "r")
    try {
      for (const [n, hex] of KNOWN) expect(xxh64Range(fd, 0, n), `length ${n}`).toBe(hex)
      // a range that starts inside the file hashes those bytes alone
      writeFileSync(join(dir, "tail.bin"), all.subarray(1000))
      const tail = openSync(join(dir, "tail.bin"), "r")
      expect(xxh64Range(fd, 1000, 4_194_341)).toBe(xxh64Range(tail, 0, 4_194_341 - 1000))
      closeSync(tail)
    } finally {
      closeSync(fd)
    }
  })

  it("is what xxh64.wat compiles to (regenerate: node scripts/wasm-kernels.mjs)", async () => {
    expect(await compiledWat(new URL("../../nodes/lib/xxh64.wat", import.meta.url))).toBe(XXH64_WASM_BASE64)
  })
})
