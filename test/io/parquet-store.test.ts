/**
 * The Parquet artifact store with a real DuckDB and real files: what the manifest records, what a
 * lookup finds after a file is damaged, and what a failed or killed publish leaves behind.
 */
import { Effect } from "effect"
import { createHash } from "node:crypto"
import { mkdtempSync, readdirSync, readFileSync, statSync, truncateSync, utimesSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import type { Manifest } from "../../workbench/core/report.js"
import { ArtifactStore, Database } from "../../workbench/core/services.js"
import { DuckDbLive } from "../../workbench/io/duckdb.js"
import { ParquetStoreLive } from "../../workbench/io/parquet-store.js"

const base = (key: string): Omit<Manifest, "tables"> => ({
  key,
  node: "numbers",
  kind: "test.numbers",
  version: 1,
  params: {},
  inputs: {},
  stats: {},
  rowsIn: 0,
  seconds: 0,
  createdAt: new Date().toISOString()
})

/** Publish `rows` rows (main) and their squares (aux) under `key` in workspace `dir`. */
const publish = (dir: string, key: string, rows: number) =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const sql = yield* (yield* Database).connect
        const store = yield* ArtifactStore
        return yield* store.publish(sql, base(key), {
          numbers: { relation: `(SELECT range AS n, 'row ' || range AS label FROM range(${rows}))`, role: "main" },
          squares: { relation: `(SELECT range * range AS sq FROM range(${rows}))`, role: "aux" }
        })
      })
    ).pipe(Effect.provide([DuckDbLive({ tempDirectory: join(dir, "tmp"), threads: 1 }), ParquetStoreLive(dir)]))
  )

const lookup = (dir: string, key: string, verify = false) =>
  Effect.runPromise(
    Effect.gen(function* () {
      return yield* (yield* ArtifactStore).lookup(key, { verify })
    }).pipe(Effect.provide(ParquetStoreLive(dir)))
  )

const sha256 = (file: string) => `sha256:${createHash("sha256").update(readFileSync(file)).digest("hex")}`
const artifactFiles = (dir: string, key: string) => readdirSync(join(dir, "artifacts", key)).sort()
const manifestOf = (dir: string, key: string) =>
  JSON.parse(readFileSync(join(dir, "artifacts", key, "manifest.json"), "utf8")) as Manifest
const snapshot = (dir: string, key: string) =>
  Object.fromEntries(artifactFiles(dir, key).map((f) => [f, sha256(join(dir, "artifacts", key, f))]))

describe("parquet store integrity", () => {
  const saved = process.env["WB_FAULT_PUBLISH"]
  afterEach(() => {
    if (saved === undefined) delete process.env["WB_FAULT_PUBLISH"]
    else process.env["WB_FAULT_PUBLISH"] = saved
  })

  it("records each file's size, sha256 and mtime, and a lookup finds the artifact", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wb-store-"))
    const manifest = await publish(dir, "k1", 5000)
    expect(artifactFiles(dir, "k1")).toEqual(["manifest.json", "numbers.parquet", "squares.parquet"])
    for (const t of Object.values(manifest.tables)) {
      const file = join(dir, "artifacts", "k1", t.file)
      expect(t.size).toBe(statSync(file).size)
      expect(t.hash).toBe(sha256(file)) // what `sha256sum` prints
      expect(t.mtimeMs).toBe(statSync(file).mtimeMs)
    }
    expect(manifestOf(dir, "k1").tables).toEqual(manifest.tables)
    expect(await lookup(dir, "k1")).toEqual({ _tag: "Found", manifest })
    expect(await lookup(dir, "absent")).toEqual({ _tag: "Missing" })
  })

  it("a truncated file is damaged (size); a bit flip is damaged when the mtime moved, or with verify", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wb-store-"))
    const manifest = await publish(dir, "k1", 5000)
    const file = join(dir, "artifacts", "k1", "numbers.parquet")
    const size = manifest.tables["numbers"]!.size!
    const bytes = readFileSync(file)

    truncateSync(file, Math.floor(size / 2))
    expect(await lookup(dir, "k1")).toEqual({
      _tag: "Damaged",
      problem: `numbers.parquet: found ${Math.floor(size / 2).toLocaleString("en-US")} bytes, the manifest recorded ${size.toLocaleString("en-US")} bytes`
    })

    // intact again, at a whole-second mtime (a lookup records it), so that it can be put back exactly
    writeFileSync(file, bytes)
    const when = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000)
    utimesSync(file, when, when)
    expect((await lookup(dir, "k1"))._tag).toBe("Found")
    expect(manifestOf(dir, "k1").tables["numbers"]!.mtimeMs).toBe(when.getTime())
    // one bit flipped in place, mtime put back as it was: sizes match, only a full verify sees it
    const flipped = Buffer.from(bytes)
    flipped[Math.floor(size / 2)]! ^= 0x01
    writeFileSync(file, flipped)
    utimesSync(file, when, when)
    expect((await lookup(dir, "k1"))._tag).toBe("Found")
    const verified = await lookup(dir, "k1", true)
    expect(verified._tag).toBe("Damaged")
    expect(verified._tag === "Damaged" && verified.problem).toMatch(
      /^numbers\.parquet: found content hash sha256:[0-9a-f]{16}…, the manifest recorded sha256:[0-9a-f]{16}…$/
    )
    // the same flip with the mtime a rewrite leaves: found without --verify
    utimesSync(file, new Date(), new Date(Date.now() + 5000))
    expect((await lookup(dir, "k1"))._tag).toBe("Damaged")
  })

  it("an intact file with a new mtime (touched, copied) is hashed once, and its new mtime recorded", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wb-store-"))
    await publish(dir, "k1", 100)
    const file = join(dir, "artifacts", "k1", "squares.parquet")
    const later = new Date(Date.now() + 60_000)
    utimesSync(file, later, later)
    const found = await lookup(dir, "k1")
    expect(found._tag).toBe("Found")
    expect(manifestOf(dir, "k1").tables["squares"]!.mtimeMs).toBe(statSync(file).mtimeMs)
  })

  it("a manifest without size and hash records (an older wb) is damaged, not trusted", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wb-store-"))
    const manifest = await publish(dir, "k1", 100)
    const legacy = {
      ...manifest,
      tables: Object.fromEntries(
        Object.entries(manifest.tables).map(([n, t]) => [
          n,
          { file: t.file, rows: t.rows, role: t.role, columns: t.columns }
        ])
      )
    }
    writeFileSync(join(dir, "artifacts", "k1", "manifest.json"), JSON.stringify(legacy))
    expect(await lookup(dir, "k1")).toEqual({
      _tag: "Damaged",
      problem:
        "manifest.json has no size and content hash records (written by an older wb), so its files cannot be checked"
    })
  })

  it("re-publishing writes beside the old version, swaps the manifest, then deletes the old files", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wb-store-"))
    await publish(dir, "k1", 100)
    // what a publish killed after its renames but before its swap leaves: unreferenced files
    writeFileSync(join(dir, "artifacts", "k1", "numbers.0badf00d.parquet"), "half")
    writeFileSync(join(dir, "artifacts", "k1", "numbers.parquet.123.abcd.tmp"), "half")
    const second = await publish(dir, "k1", 200)
    const files = artifactFiles(dir, "k1")
    expect(files).toHaveLength(3)
    expect(files).toEqual(["manifest.json", second.tables["numbers"]!.file, second.tables["squares"]!.file].sort())
    expect(second.tables["numbers"]!.file).toMatch(/^numbers\.[0-9a-f]{8}\.parquet$/)
    expect(second.tables["numbers"]!.rows).toBe(200)
    expect(await lookup(dir, "k1", true)).toEqual({ _tag: "Found", manifest: second })
    // and back to the plain names the time after
    const third = await publish(dir, "k1", 300)
    expect(third.tables["numbers"]!.file).toBe("numbers.parquet")
    expect(artifactFiles(dir, "k1")).toEqual(["manifest.json", "numbers.parquet", "squares.parquet"])
  })

  it("a full disk while re-publishing leaves the previous artifact byte for byte, and says where and how much", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wb-store-"))
    const first = await publish(dir, "k1", 5000)
    const before = snapshot(dir, "k1")
    process.env["WB_FAULT_PUBLISH"] = "enospc"
    const failure = await publish(dir, "k1", 5000).then(
      () => undefined,
      (e: unknown) => e as { _tag: string; message: string }
    )
    expect(failure?._tag).toBe("DataError")
    const total = Object.values(first.tables).reduce((s, t) => s + t.size!, 0)
    const target = join(dir, "artifacts", "k1")
    expect(failure?.message).toContain(
      `node "numbers" (test.numbers), writing table numbers of its artifact: no space left on the disk holding ${target}`
    )
    expect(failure?.message).toMatch(/after [\d.]+ (bytes|KB) of the new artifact; [\d.]+ [KMGT]?B free there now/)
    expect(failure?.message).toContain(
      `expected: about ${total < 1000 ? `${total} bytes` : `${(total / 1000).toFixed(total < 10_000 ? 1 : 0)} KB`} free for the new artifact (the size of the one it replaces)`
    )
    expect(failure?.message).toContain("The previous artifact of this node was kept as it was")
    expect(snapshot(dir, "k1")).toEqual(before)
    delete process.env["WB_FAULT_PUBLISH"]
    expect(await lookup(dir, "k1", true)).toEqual({ _tag: "Found", manifest: first })
  })
})
