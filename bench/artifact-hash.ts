/**
 * Which content hash for artifact integrity: MB/s of node's crypto hashes, a JS XXH32 and DuckDB's
 * md5/sha256 over `read_blob`, on one file (default: 200 MiB of random bytes, made if absent).
 *
 *   node --import tsx bench/artifact-hash.ts [FILE]
 *
 * In memory = the hash alone over a buffer already read; streamed = what the store does (1 MiB reads
 * from the page cache plus the hash). XXH32 is the cheapest xxHash in plain JS (only 32-bit multiplies);
 * XXH64/XXH3 in JS need 64-bit multiplies emulated with four Math.imul each, so they are slower still.
 */
import { DuckDBInstance } from "@duckdb/node-api"
import { createHash } from "node:crypto"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { randomBytes } from "node:crypto"
import { hashFile } from "../workbench/io/artifact-integrity.js"

const file = process.argv[2] ?? join(tmpdir(), "wb-hash-bench-200m.bin")
if (!existsSync(file)) writeFileSync(file, randomBytes(200 * 1024 * 1024))
const data = readFileSync(file)
const mb = data.length / (1024 * 1024)

const P1 = 0x9e3779b1,
  P2 = 0x85ebca77,
  P3 = 0xc2b2ae3d,
  P4 = 0x27d4eb2f,
  P5 = 0x165667b1
const rotl = (x: number, r: number) => (x << r) | (x >>> (32 - r))
/** XXH32, seed 0; the 16-byte stripe loop is inlined on purpose (this is the hot loop). */
function xxh32(buf: Buffer): number {
  const n = buf.length
  const words = new Uint32Array(buf.buffer, buf.byteOffset, Math.floor(n / 4)) // aligned: Buffer pool offset is 0 for big files
  let i = 0
  let h: number
  if (n >= 16) {
    let v1 = (P1 + P2) | 0,
      v2 = P2,
      v3 = 0,
      v4 = -P1 | 0
    const stripes = Math.floor(n / 16) * 4
    for (; i < stripes; i += 4) {
      v1 = Math.imul(rotl((v1 + Math.imul(words[i]!, P2)) | 0, 13), P1)
      v2 = Math.imul(rotl((v2 + Math.imul(words[i + 1]!, P2)) | 0, 13), P1)
      v3 = Math.imul(rotl((v3 + Math.imul(words[i + 2]!, P2)) | 0, 13), P1)
      v4 = Math.imul(rotl((v4 + Math.imul(words[i + 3]!, P2)) | 0, 13), P1)
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0
  } else h = P5
  h = (h + n) | 0
  let p = i * 4
  for (; p + 4 <= n; p += 4) h = Math.imul(rotl((h + Math.imul(buf.readUInt32LE(p), P3)) | 0, 17), P4)
  for (; p < n; p++) h = Math.imul(rotl((h + Math.imul(buf[p]!, P5)) | 0, 11), P1)
  h = Math.imul(h ^ (h >>> 15), P2)
  h = Math.imul(h ^ (h >>> 13), P3)
  return (h ^ (h >>> 16)) >>> 0
}

const time = async (label: string, f: () => unknown) => {
  let best = Infinity
  for (let r = 0; r < 3; r++) {
    const t = performance.now()
    await f()
    best = Math.min(best, performance.now() - t)
  }
  console.log(
    `${label.padEnd(34)} ${(mb / (best / 1000)).toFixed(0).padStart(6)} MB/s  (${best.toFixed(0)} ms for ${mb.toFixed(0)} MiB)`
  )
}

console.log(`${file}: ${mb.toFixed(0)} MiB, best of 3`)
if (xxh32(Buffer.from("")) !== 0x02cc5d05 || xxh32(Buffer.from("abc")) !== 0x32d153ff) throw new Error("xxh32 is wrong")
for (const algo of ["sha256", "sha1", "md5", "sha512", "blake2b512", "blake2s256"]) {
  await time(`node crypto ${algo} (in memory)`, () => createHash(algo).update(data).digest("hex"))
}
await time("JS XXH32 (in memory)", () => xxh32(data))
await time("store: sha256 streamed from file", () => hashFile(file))
const db = await DuckDBInstance.create(":memory:", { threads: "2" })
const con = await db.connect()
for (const f of ["md5", "sha256"]) {
  await time(`DuckDB ${f}(read_blob)`, () =>
    con.run(`SELECT ${f}(content) FROM read_blob('${file.replaceAll("'", "''")}')`)
  )
}
con.closeSync()
db.closeSync()
