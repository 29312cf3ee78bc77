// A big input is hashed as two halves at once (XXH64, the second on a worker thread): the fingerprint
// must still be a pure function of the bytes (the same on every machine) and change with any byte of
// either half. xxh64Range itself is held to xxhsum in xxh64.test.ts.
import { createHash } from "node:crypto"
import { mkdtempSync, openSync, closeSync, writeSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { spawnSync } from "node:child_process"
import { hashFile } from "../../nodes/lib/file-fingerprint.js"
import { xxh64Range } from "../../nodes/lib/xxh64.js"

const sha1 = (b: Buffer) => createHash("sha1").update(b).digest("hex")

/** A file of 64 MiB + 12,345 bytes (odd, so the halves differ in length), with its expected halves name. */
function bigFile(): { file: string; bytes: Buffer; size: number; halves: string } {
  const dir = mkdtempSync(join(tmpdir(), "wb-hash-halves-"))
  const file = join(dir, "big.jsonl")
  const size = 64 * 1024 * 1024 + 12_345
  const bytes = Buffer.alloc(size)
  for (let i = 0; i < size; i++) bytes[i] = (i * 2654435761) >>> 24
  writeFileSync(file, bytes)
  const half = Math.floor(size / 2)
  const fd = openSync(file, "r")
  const halves = `xxh64x2:${xxh64Range(fd, 0, half)}.${xxh64Range(fd, half, size)}`
  closeSync(fd)
  return { file, bytes, size, halves }
}

describe("hashFile", () => {
  it("names a file of 64 MiB or more by the XXH64 of each half, and sees a byte flipped in either", () => {
    const { file, bytes, size, halves } = bigFile()
    const whole = hashFile(file)
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

  it("gives the same name when the worker fails at start or never starts: this thread hashes both halves", () => {
    const { file, halves } = bigFile()
    // an error before the worker's try would, unheard, end the process; a silent worker would stall it
    expect(hashFile(file, () => `throw new Error("no worker today")`)).toBe(halves)
    const started = Date.now()
    expect(hashFile(file, () => `setInterval(() => {}, 1000)`)).toBe(halves)
    const waited = Date.now() - started
    expect(waited).toBeGreaterThanOrEqual(5_000) // it gave the worker its start time …
    expect(waited).toBeLessThan(20_000) // … not the 30 s meant for a worker that has started
  }, 60_000)

  it("falls back to one sha1 where WebAssembly is missing (node --jitless)", () => {
    const { file, bytes } = bigFile()
    const r = spawnSync(
      process.execPath,
      [
        "--jitless",
        "--import",
        "tsx",
        "-e",
        `import("./nodes/lib/file-fingerprint.ts").then((m) => console.log(m.hashFile(${JSON.stringify(file)})))`
      ],
      { encoding: "utf8" }
    )
    // node's own note about the flag, nothing else
    expect(r.stderr.replace("Warning: disabling flag --expose_wasm due to conflicting flags", "").trim()).toBe("")
    expect(r.stdout.trim()).toBe(`sha1:${sha1(bytes)}`)
  }, 60_000)

  it("keeps one sha1 over the whole file below 64 MiB", () => {
    const file = join(mkdtempSync(join(tmpdir(), "wb-hash-small-")), "small.csv")
    writeFileSync(file, "prompt,response_a,response_b,label\np,x,y,a\n")
    expect(hashFile(file)).toBe(`sha1:${sha1(Buffer.from("prompt,response_a,response_b,label\np,x,y,a\n"))}`)
  })
})
