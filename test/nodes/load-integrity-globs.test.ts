/**
 * Several files as one load: a list of paths, or patterns with `glob: true`, expanded by us (never
 * by DuckDB) in name order. Each file is read literally and on its own, so rejects name their file and
 * line, pairs keep what loading their file alone gives, gzip and line-ending checks apply per file,
 * and the cache key covers every file matched. Real files, real DuckDB, the real runner.
 */
import { copyFileSync, mkdirSync, mkdtempSync, utimesSync, writeFileSync } from "node:fs"
import { gzipSync } from "node:zlib"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { expandBraces, expandGlob, segmentRegex } from "../../nodes/load/glob.js"
import { load } from "../../nodes/load/index.js"
import { Sql } from "../../workbench/core/services.js"
import { pipeline } from "../../workbench/core/pipeline.js"
import { runPipeline } from "../../workbench/run-pipeline.js"
import { runWithSql } from "../support/sql.js"
import { type Row, runLoad, runLoadError, writeJsonl } from "./load-helpers.js"

const root = mkdtempSync(join(tmpdir(), "wb-globs-"))
mkdirSync(join(root, "in"))
const record = (prompt: string) => ({ prompt, chosen: `${prompt} yes`, rejected: `${prompt} no` })
const jsonl = (name: string, prompts: ReadonlyArray<string>) => writeJsonl(join(root, "in"), name, prompts.map(record))
const promptsOf = (r: { pairs: ReadonlyArray<Row> }) => r.pairs.map((p) => p["prompt"])

describe("glob patterns (our matcher)", () => {
  it("expands braces, classes, ? and ** in name order, skipping dot files and folders", () => {
    expect(expandBraces("a{b,c{d,e}}f")).toEqual(["abf", "acdf", "acef"])
    expect(expandBraces("x{1}.jsonl")).toEqual(["x{1}.jsonl"]) // no comma: literal, as in a shell
    expect(expandBraces("[{]a,b}")).toEqual(["[{]a,b}"]) // a brace inside a class is a member
    expect(segmentRegex("x[!0-9]?.json*").test("xa1.jsonl")).toBe(true)
    expect(segmentRegex("x[!0-9]?.json*").test("x11.jsonl")).toBe(false)
    expect(segmentRegex("[[]1].csv").test("[1].csv")).toBe(true)
    const dir = mkdtempSync(join(tmpdir(), "wb-glob-tree-"))
    for (const f of ["a/1.jsonl", "a/b/2.jsonl", "a/.hid/3.jsonl", "a/b/.4.jsonl", "c.jsonl", "a/b/5.csv"]) {
      mkdirSync(join(dir, f, ".."), { recursive: true })
      writeFileSync(join(dir, f), "")
    }
    const names = (pattern: string) => expandGlob(dir, pattern).map((p) => p.slice(dir.length + 1))
    expect(names("**/*.jsonl")).toEqual(["a/1.jsonl", "a/b/2.jsonl", "c.jsonl"])
    expect(names("a/**")).toEqual(["a/1.jsonl", "a/b/2.jsonl", "a/b/5.csv"])
    expect(names("a/b/.*")).toEqual(["a/b/.4.jsonl"])
    expect(names("{c,a/1}.jsonl")).toEqual(["a/1.jsonl", "c.jsonl"])
    expect(names("a/*")).toEqual(["a/1.jsonl"]) // folders do not match
  })
})

describe("load with several files", () => {
  it("reads star*.jsonl as the one file so named, and with glob: true as every match in name order", async () => {
    jsonl("star*.jsonl", ["literal star"])
    jsonl("star1.jsonl", ["one a", "one b"])
    jsonl("star2.jsonl", ["two"])
    jsonl("other.jsonl", ["other"])
    expect(promptsOf(await runLoad(load.trl, { path: "in/star*.jsonl" }, root))).toEqual(["literal star"])
    const r = await runLoad(load.trl, { path: "in/star*.jsonl", glob: true }, root)
    // "*" (0x2a) sorts before "1": the literal star file is itself a match
    expect(promptsOf(r)).toEqual(["literal star", "one a", "one b", "two"])
    expect(r.pairs.map((p) => p["source_row"])).toEqual([0, 0, 1, 0])
    expect(r.out.stats).toMatchObject({ files: 3, records: 4, pairs: 4 })
    expect(r.out.rowsIn).toBe(4)
    // glob: false keeps reading an existing name with glob characters literally; glob: true makes it a pattern
    jsonl("x[1].jsonl", ["bracket"])
    jsonl("x1.jsonl", ["plain"])
    expect(promptsOf(await runLoad(load.trl, { path: "in/x[1].jsonl" }, root))).toEqual(["bracket"])
    expect(promptsOf(await runLoad(load.trl, { path: "in/x[1].jsonl", glob: true }, root))).toEqual(["plain"])
  })

  it("loads a list of two files (JSONL and CSV) in list order, each pair as loading its file alone gives it", async () => {
    jsonl("l-b.jsonl", ["b first", "b second"])
    writeFileSync(join(root, "in", "l-a.csv"), "prompt,chosen,rejected\na only,a yes,a no\n")
    const both = await runLoad(load.table, { path: ["in/l-b.jsonl", "in/l-a.csv"] }, root)
    const alone = [
      await runLoad(load.table, { path: "in/l-b.jsonl" }, root),
      await runLoad(load.table, { path: "in/l-a.csv" }, root)
    ]
    expect(both.pairs).toEqual(alone.flatMap((r) => r.pairs))
    expect(both.pairs.map((p) => [p["prompt"], p["source"], p["source_row"]])).toEqual([
      ["b first", "l-b", 0],
      ["b second", "l-b", 1],
      ["a only", "l-a", 0]
    ])
    // UltraFeedback draws each record's rejected completion by its record number: still per file
    copyFileSync("test/fixtures/data/ultrafeedback.jsonl", join(root, "in", "uf1.jsonl"))
    copyFileSync("test/fixtures/data/ultrafeedback.jsonl", join(root, "in", "uf2.jsonl"))
    const uf = await runLoad(load.ultrafeedback, { path: "in/uf{1,2}.jsonl", glob: true, maxRejectRate: 0.5 }, root)
    const one = await runLoad(load.ultrafeedback, { path: "in/uf1.jsonl", maxRejectRate: 0.5 }, root)
    expect(uf.pairs).toEqual([...one.pairs, ...one.pairs])
    expect(uf.removed).toEqual([...one.removed, ...one.removed])
    expect(uf.rejects.map((x) => [x["file"], x["line"]])).toEqual([
      ...one.rejects.map((x) => ["in/uf1.jsonl", x["line"]]),
      ...one.rejects.map((x) => ["in/uf2.jsonl", x["line"]])
    ])
    expect(uf.out.rowsIn).toBe(2 * one.out.rowsIn!)
  })

  it("names each reject's own file and line, and checks the reject rate over all files", async () => {
    writeFileSync(join(root, "in", "r-a.jsonl"), `${JSON.stringify(record("a1"))}\n{"prompt": \n`)
    writeJsonl(join(root, "in"), "r-b.jsonl", [
      record("b1"),
      record("b2"),
      { prompt: "b3", chosen: 7, rejected: "no" },
      record("b4")
    ])
    const r = await runLoad(load.trl, { path: "in/r-*.jsonl", glob: true, maxRejectRate: 0.4 }, root)
    expect(r.rejects.map((x) => [x["file"], x["line"], x["reason"]])).toEqual([
      ["in/r-a.jsonl", 2, "malformed JSON"],
      ["in/r-b.jsonl", 3, expect.stringMatching(/^chosen: .*got a number/)]
    ])
    // r-a.jsonl alone is 50% rejects, the load 2 of 6 (33%): maxRejectRate 0.4 passes
    expect(promptsOf(r)).toEqual(["a1", "b1", "b2", "b4"])
    const e = await runLoadError(load.trl, { path: "in/r-*.jsonl", glob: true }, root)
    expect(e.message).toContain('node "n" (load.trl) file in/r-a.jsonl, in/r-b.jsonl: 2 of 6 records rejected (33.3%)')
    expect(e.message).toContain("in/r-a.jsonl line 2: malformed JSON; in/r-b.jsonl line 3: chosen:")
  })

  it("verifies gzip and mends mixed line endings in each file", async () => {
    writeFileSync(
      join(root, "in", "g1.jsonl"),
      `${JSON.stringify(record("lf"))}\r\n${JSON.stringify(record("crlf"))}\n`
    )
    const full = gzipSync(Buffer.from([1, 2, 3, 4].map((i) => JSON.stringify(record(`gz ${i}`)) + "\n").join("")))
    writeFileSync(join(root, "in", "g2.jsonl.gz"), full)
    expect(promptsOf(await runLoad(load.trl, { path: ["in/g1.jsonl", "in/g2.jsonl.gz"] }, root))).toEqual([
      "lf",
      "crlf",
      "gz 1",
      "gz 2",
      "gz 3",
      "gz 4"
    ])
    writeFileSync(join(root, "in", "g2.jsonl.gz"), full.subarray(0, full.length - 8)) // the trailer cut off
    const e = await runLoadError(load.trl, { path: "in/g*.jsonl*", glob: true, maxRejectRate: 1 }, root)
    expect(e.message).toMatch(/in\/g2\.jsonl\.gz: gzip stream is truncated \(after \d+ bytes\)/)
  })

  it("fails a pattern matching nothing, or a missing list entry, saying what is there", async () => {
    const none = await runLoadError(load.trl, { path: "in/stra*.jsonl", glob: true }, root)
    expect(none.message).toMatch(
      /^node "n" \(load\.trl\) param path: no file matches the pattern in\/stra\*\.jsonl; in\/ has: .*star1\.jsonl/
    )
    expect(none.message).toContain("expected: a pattern matching at least one file")
    expect(none.message).toMatch(/fix: did you mean "star.*"\? correct the pattern, or set glob: false/)
    const folder = await runLoadError(load.trl, { path: "nowhere/*.jsonl", glob: true }, root)
    expect(folder.message).toContain("no file matches the pattern nowhere/*.jsonl; nowhere/ does not exist, and")
    const entry = await runLoadError(load.trl, { path: ["in/star1.jsonl", "in/stra1.jsonl"] }, root)
    expect(entry.message).toMatch(/param path\[1\]: no such file: in\/stra1\.jsonl .*fix: did you mean "star1\.jsonl"/s)
    // a literal name with glob characters that does not exist, but would match as a pattern
    const literal = await runLoadError(load.trl, { path: "in/star?.jsonl" }, root)
    expect(literal.message).toMatch(
      /no such file: in\/star\?\.jsonl.*set glob: true \(it matches in\/star\*\.jsonl, in\/star1\.jsonl, in\/star2\.jsonl\)/s
    )
  })

  it("gives load.alpaca-eval patterns too: a pattern's matches load as the same files listed", async () => {
    const dir = "data/alpaca-eval-gpt-3.5-turbo-0301"
    const globbed = await runLoad(load.alpacaEval, { path: `${dir}/*gpt4_turbo_fn.annotations.json.gz`, glob: true })
    const listed = await runLoad(load.alpacaEval, {
      path: [
        `${dir}/alpaca_eval_cot_gpt4_turbo_fn.annotations.json.gz`,
        `${dir}/alpaca_eval_gpt4_turbo_fn.annotations.json.gz`
      ]
    })
    expect(globbed.out.stats).toMatchObject({ files: 2, judges: 2 })
    expect(globbed.pairs).toEqual(listed.pairs)
    expect(globbed.votes).toEqual(listed.votes)
    const none = await runLoadError(load.alpacaEval, { path: `${dir}/*.jsonl`, glob: true })
    expect(none.message).toContain(
      `no file matches the pattern ${dir}/*.jsonl; ${dir}/ has: README.md, alpaca_eval_cot`
    )
  })

  it("reads only a sample run's first N records over the files, in order", async () => {
    const rows = await runWithSql(
      Effect.gen(function* () {
        const def = load.trl.definition
        const params = Schema.decodeUnknownSync(def.params as never)({ path: "in/star[12].jsonl", glob: true })
        const out = yield* def.run({ node: "n", kind: def.kind, params, inputs: {}, sample: 2 })
        return yield* (yield* Sql).rows<Row>(`SELECT prompt FROM ${out.tables["pairs"]}`)
      }),
      root
    )
    expect(rows.map((p) => p["prompt"])).toEqual(["one a", "one b"])
  })

  it("re-runs when a new file matches the pattern, not when a matched file is touched (real runner)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wb-globs-run-"))
    mkdirSync(join(dir, "in"))
    writeJsonl(join(dir, "in"), "d1.jsonl", [record("d1")])
    writeJsonl(join(dir, "in"), "d2.jsonl", [record("d2 a"), record("d2 b")])
    const def = pipeline("globs", (p) => {
      p.node("d", load.trl({ path: "in/d*.jsonl", glob: true }))
    })
    const opts = { root: dir, workspace: join(dir, ".wb"), threads: 2 }
    expect((await runPipeline(def, opts)).report.nodes[0]).toMatchObject({ status: "ran", rowsIn: 3, rowsOut: 3 })
    utimesSync(join(dir, "in", "d1.jsonl"), new Date(), new Date(Date.now() + 5000))
    writeJsonl(join(dir, "in"), "e.jsonl", [record("not matched")])
    expect((await runPipeline(def, opts)).report.nodes[0]!.status).toBe("cached")
    writeJsonl(join(dir, "in"), "d3.jsonl", [record("d3")])
    expect((await runPipeline(def, opts)).report.nodes[0]).toMatchObject({ status: "ran", rowsIn: 4, rowsOut: 4 })
    expect((await runPipeline(def, opts)).report.nodes[0]!.status).toBe("cached")
  })
})
