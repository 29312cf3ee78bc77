// A node that runs reads its upstream's cached artifact only after checking that artifact's content
// hash. A plain run checks a cached artifact's sizes (and hashes a file whose mtime moved), so bit rot
// that keeps size and mtime passes the cache hit; reading it into a node that re-runs would compute
// from wrong rows and store the result under the key of the right ones (the key holds the hash the
// manifest recorded, not the one of the bytes read), where even `--verify` never finds it.
import { Effect, Schema } from "effect"
import { mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { input, output, outputLike } from "../../workbench/core/contract.js"
import { defineNode } from "../../workbench/core/node.js"
import { pipeline } from "../../workbench/core/pipeline.js"
import type { Manifest } from "../../workbench/core/report.js"
import { Sql } from "../../workbench/core/services.js"
import { runPipeline } from "../../workbench/run-pipeline.js"

const calls: Array<string> = []

/** 50,000 rows of text: a flipped bit lands in a data page. */
const source = defineNode({
  kind: "integrity.source",
  version: 1,
  summary: "rows of text",
  params: Schema.Struct({}),
  inputs: {},
  outputs: { rows: output("main", { t: "utf8" }) },
  run: ({ node }) =>
    Effect.gen(function* () {
      calls.push(node)
      const t = (yield* Sql).tempName("source")
      yield* (yield* Sql).run(
        `CREATE TABLE ${t} AS SELECT 'row ' || range || ' of the source text' AS t FROM range(50000)`
      )
      return { tables: { rows: t } }
    })
})

const copy = defineNode({
  kind: "integrity.copy",
  version: 1,
  summary: "the rows as they are",
  params: Schema.Struct({}),
  inputs: { rows: input({ t: "utf8" }) },
  outputs: { rows: outputLike("main", "rows") },
  run: ({ node, inputs }) =>
    Effect.gen(function* () {
      calls.push(node)
      const t = (yield* Sql).tempName("copy")
      yield* (yield* Sql).run(`CREATE TABLE ${t} AS SELECT * FROM ${inputs.rows.relation}`)
      return { tables: { rows: t } }
    })
})

const def = pipeline("integrity", (p) => {
  const src = p.node("src", source())
  p.node("copy", copy(), { rows: src })
})

/** The artifact directory of `node` and its manifest. */
function artifactOf(root: string, node: string) {
  const artifacts = join(root, ".wb", "artifacts")
  for (const key of readdirSync(artifacts)) {
    const manifest = JSON.parse(readFileSync(join(artifacts, key, "manifest.json"), "utf8")) as Manifest
    if (manifest.node === node) return { dir: join(artifacts, key), manifest }
  }
  throw new Error(`no artifact of ${node}`)
}

const run = async (root: string, options: { from?: string; verify?: boolean } = {}) => {
  calls.length = 0
  const r = await runPipeline(def, { root, threads: 2, ...options })
  return {
    report: r.report,
    statuses: Object.fromEntries(r.report.nodes.map((n) => [n.name, n.status])),
    ran: [...calls]
  }
}

describe("a running node's cached inputs", () => {
  it("are hashed before they are read: bit rot that keeps size and mtime fails the node, stores nothing, and --verify mends it", async () => {
    const root = mkdtempSync(join(tmpdir(), "wb-read-integrity-"))
    expect((await run(root)).statuses).toEqual({ src: "ran", copy: "ran" })
    const src = artifactOf(root, "src")
    const file = join(src.dir, src.manifest.tables["rows"]!.file)
    const copyBefore = readFileSync(
      join(artifactOf(root, "copy").dir, artifactOf(root, "copy").manifest.tables["rows"]!.file)
    )
    // a whole-second mtime can be put back exactly: set one, and let a run record it (it hashes the file once)
    const when = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000)
    utimesSync(file, when, when)
    expect((await run(root)).statuses).toEqual({ src: "cached", copy: "cached" })
    // bit rot: one bit flips, size and mtime stay
    const bytes = readFileSync(file)
    bytes[Math.floor(bytes.length / 2)]! ^= 0x10
    writeFileSync(file, bytes)
    utimesSync(file, when, when)

    const rerun = await run(root, { from: "copy" })
    expect(rerun.statuses).toEqual({ src: "cached", copy: "failed" })
    expect(rerun.ran).toEqual([]) // copy never read the damaged file
    const failure = rerun.report.nodes.find((n) => n.name === "copy")!.failure as Record<string, string>
    expect(failure["_tag"]).toBe("DataError")
    expect(failure["where"]).toBe(`node "copy" (integrity.copy) input rows`)
    expect(failure["found"]).toMatch(
      new RegExp(
        `^the cached artifact ${src.manifest.key} of node "src" it reads is damaged \\(rows\\.parquet: found content hash sha256:[0-9a-f]{16}…, the manifest recorded sha256:[0-9a-f]{16}…\\)$`
      )
    )
    expect(failure["fix"]).toContain("run again with --verify")
    // nothing was stored from the damaged rows: copy's artifact is the one of the first run
    const copyAfter = artifactOf(root, "copy")
    expect(readFileSync(join(copyAfter.dir, copyAfter.manifest.tables["rows"]!.file))).toEqual(copyBefore)

    // the fix the message gives: --verify finds src damaged and recomputes it; copy's artifact is intact
    const mended = await run(root, { verify: true })
    expect(mended.statuses).toEqual({ src: "ran", copy: "cached" })
    expect((await run(root, { from: "copy" })).statuses).toEqual({ src: "cached", copy: "ran" })
  })
})
