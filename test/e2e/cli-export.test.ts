// pipelines/export-trl.ts (quickstart data -> dedupe -> split -> export.trl) and `wb export`, run as a user runs them (real processes, a project of its own):
// the TRL file loads back with load.trl as the cleaned pairs, and `wb export` writes every row with a card.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  utimesSync,
  writeFileSync
} from "node:fs"
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { load } from "../../nodes/load/index.js"
import { readJsonl, type Row, triples } from "../nodes/export-helpers.js"
import { runLoad } from "../nodes/load-helpers.js"
import { REPO, tempDir, wb } from "./cli-spawn.js"

describe("pipelines/export-trl.ts and wb export", () => {
  // a project of its own (package.json, the repository's data), so the exports land in it
  const project = tempDir("wb-export-e2e-")
  const inProject = (...p: Array<string>) => join(project, ...p)
  const wbHere = (args: ReadonlyArray<string>) => wb(args, { cwd: project })
  const PIPELINE = "pipelines/export-trl.ts"

  beforeAll(() => {
    writeFileSync(inProject("package.json"), "{}\n")
    symlinkSync(join(REPO, "data"), inProject("data"))
    mkdirSync(inProject("pipelines"))
    copyFileSync(join(REPO, PIPELINE), inProject(PIPELINE))
  })

  it("wb export refuses a node that has not run, saying how to run it, and writes nothing", async () => {
    const r = await wbHere(["export", PIPELINE, "clean", "--to", "out/clean.jsonl"])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('node "clean" (dedupe.pairs): it has not run yet, so there is nothing to export')
    expect(r.stderr).toContain(`fix: run it first: wb run ${PIPELINE} --only clean`)
    expect(existsSync(inProject("out"))).toBe(false)
  })

  it("runs: quickstart data -> dedupe -> split -> export.trl, ties left out with their reason in the card", async () => {
    const r = await wbHere(["run", PIPELINE, "--json"])
    expect(r.code, r.stderr).toBe(0)
    const nodes = (JSON.parse(r.stdout) as { nodes: Array<Row> }).nodes
    const node = (name: string) => nodes.find((n) => n["name"] === name)!
    expect(node("train")).toMatchObject({ status: "ran", rowsIn: 2829, rowsOut: 2780, removed: 49 })
    expect(node("test")).toMatchObject({ status: "ran", rowsIn: 316, rowsOut: 288, removed: 28 })
    expect(r.stderr).toContain("wrote 2,780 rows to exports/hh-trl/train.jsonl")
    expect(r.stderr).toContain("wrote 288 rows to exports/hh-trl/test.jsonl")
    const card = readFileSync(inProject("exports", "hh-trl", "README.md"), "utf8")
    expect(card).toContain("## test.jsonl\n\nJSON Lines, 288 rows")
    expect(card).toContain("Rows: 2,829 in = 2,780 written + 49 left out.")
    expect(card).toContain("| left out because | rows |\n|---|---|\n| `tie` | 49 |")
    expect(card).toContain("HH turn markers restored on 2,120 prompts")
    expect(card).toMatch(/- node `split`, table `train`, artifact `[0-9a-f]+`/)
    expect(card).toMatch(/- node `split`, table `test`, artifact `[0-9a-f]+`/)
  })

  it("wb export writes every row of a table (no truncation) with its data card", async () => {
    const r = await wbHere(["export", PIPELINE, "clean", "--to", "out/clean.jsonl"])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toBe("wrote 3,145 rows of clean.pairs to out/clean.jsonl (JSON Lines); data card: out/README.md\n")
    expect(readJsonl(inProject("out", "clean.jsonl")).length).toBe(3145)
    const removed = await wbHere(["export", PIPELINE, "clean.removed", "--to", "out/removed.csv"])
    expect(removed.code, removed.stderr).toBe(0)
    expect(removed.stdout).toContain("wrote 160 rows of clean.removed to out/removed.csv (CSV with a header)")
    const card = readFileSync(inProject("out", "README.md"), "utf8")
    expect(card).toContain("## clean.jsonl\n\nJSON Lines, 3,145 rows")
    expect(card).toContain("## removed.csv\n\nCSV with a header, 160 rows")
    expect(card).toContain(
      "node `clean` itself left out 160 rows (its `removed` table): exact-duplicate 97, mirrored-duplicate 35, empty-side 28"
    )
    expect(card).toMatch(/- node `clean`, table `removed`, artifact `[0-9a-f]+`/)
  })

  // wb export writes through the export nodes' ExportFiles: their guards, their messages, with --to for `to`
  it("wb export refuses a --to inside the workspace, and writes nothing there", async () => {
    const r = await wbHere(["export", PIPELINE, "clean", "--to", ".wb/clean.jsonl"])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(
      `wb export --to .wb/clean.jsonl: .wb/clean.jsonl is inside the workspace ${inProject(".wb")}, which holds wb's run log and artifacts\n` +
        "  expected: a path outside the workspace\n" +
        "  fix: write the export elsewhere, e.g. --to exports/clean.jsonl\n"
    )
    expect(existsSync(inProject(".wb", "clean.jsonl"))).toBe(false)
    expect(existsSync(inProject(".wb", "README.md"))).toBe(false)
  })

  it("wb export refuses to replace a file no wb export wrote, and leaves it as it was; its own files it replaces", async () => {
    mkdirSync(inProject("mine"))
    writeFileSync(inProject("mine", "notes.jsonl"), '{"mine": true}\n')
    const r = await wbHere(["export", PIPELINE, "clean", "--to", "mine/notes.jsonl"])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(
      "wb export --to mine/notes.jsonl: mine/notes.jsonl exists and was not written by a wb export (no record of it in the workspace, " +
        "and no data card beside it names it)\n" +
        "  expected: a path that is free, or a file a wb export wrote\n" +
        "  fix: pick another --to path (e.g. --to exports/notes.jsonl), or move the file away if it should be replaced\n"
    )
    expect(readFileSync(inProject("mine", "notes.jsonl"), "utf8")).toBe('{"mine": true}\n')
    expect(readdirSync(inProject("mine"))).toEqual(["notes.jsonl"])
    // out/clean.jsonl was written by wb export (the test above): exporting over it again is allowed
    writeFileSync(inProject("out", "clean.jsonl"), "edited\n")
    const again = await wbHere(["export", PIPELINE, "clean", "--to", "out/clean.jsonl"])
    expect(again.code, again.stderr).toBe(0)
    expect(readJsonl(inProject("out", "clean.jsonl")).length).toBe(3145)
  })

  it("the exported TRL files load with load.trl as the cleaned pairs (ties left out, HH markers restored)", async () => {
    const clean = readJsonl(inProject("out", "clean.jsonl"))
    const side = (p: Row, s: "chosen" | "rejected") =>
      String(p[(p["label"] === "a") === (s === "chosen") ? "response_a" : "response_b"])
    const hh = (p: Row) => p["prompt_format"] === "hh-turn" || p["prompt_format"] === "hh-dialogue"
    const expected = clean
      .filter((p) => p["label"] === "a" || p["label"] === "b")
      .map(
        (p) =>
          [
            p["prompt_format"] === "hh-turn"
              ? `\n\nHuman: ${p["prompt"]}\n\nAssistant:`
              : hh(p)
                ? `\n\n${p["prompt"]}\n\nAssistant:`
                : p["prompt"],
            `${hh(p) ? " " : ""}${side(p, "chosen")}`,
            `${hh(p) ? " " : ""}${side(p, "rejected")}`
          ] as const
      )
    const files = ["train.jsonl", "test.jsonl"].map((f) => inProject("exports", "hh-trl", f))
    const loaded = await Promise.all(files.map((f) => runLoad(load.trl, { path: f }, project)))
    for (const back of loaded) expect(back.rejects.length).toBe(0)
    expect(loaded.map((b) => b.pairs.length)).toEqual([2780, 288])
    const chosen = (p: Row) => (p["label"] === "a" ? p["response_a"] : p["response_b"])
    const rejected = (p: Row) => (p["label"] === "a" ? p["response_b"] : p["response_a"])
    const all = loaded.flatMap((b) => b.pairs)
    expect(triples(all.map((p) => [p["prompt"], chosen(p), rejected(p)]))).toEqual(triples(expected))
    // split by prompt: no prompt in both files
    const trainPrompts = new Set(loaded[0]!.pairs.map((p) => p["prompt"]))
    expect(loaded[1]!.pairs.filter((p) => trainPrompts.has(p["prompt"]))).toEqual([])
  })
  it("wb export hashes the table it writes out: bit rot that keeps size and mtime is refused, not exported", async () => {
    const artifacts = inProject(".wb", "artifacts")
    const key = readdirSync(artifacts).find(
      (k) =>
        (JSON.parse(readFileSync(join(artifacts, k, "manifest.json"), "utf8")) as { node: string }).node === "clean"
    )!
    const manifest = JSON.parse(readFileSync(join(artifacts, key, "manifest.json"), "utf8")) as {
      tables: Record<string, { file: string }>
    }
    const file = join(artifacts, key, manifest.tables["pairs"]!.file)
    // a whole-second mtime, recorded by a run (which hashes the file once); then a bit flips and the mtime stays
    const when = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000)
    utimesSync(file, when, when)
    expect((await wbHere(["run", PIPELINE])).code).toBe(0)
    const bytes = readFileSync(file)
    bytes[Math.floor(bytes.length / 2)]! ^= 0x10
    writeFileSync(file, bytes)
    utimesSync(file, when, when)
    const r = await wbHere(["export", PIPELINE, "clean", "--to", "rot/clean.jsonl"])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`node "clean" (dedupe.pairs): artifact ${key} in `)
    expect(r.stderr).toMatch(
      /the artifact is damaged, so it is not read: pairs\.[0-9a-f.]*parquet: found content hash sha256:[0-9a-f]{16}…/
    )
    expect(r.stderr).toContain(`fix: recompute it: wb run ${PIPELINE} --only clean --verify, then export again`)
    expect(existsSync(inProject("rot"))).toBe(false)
    // the fix it gives works: the artifact is recomputed, and the export writes every row
    expect((await wbHere(["run", PIPELINE, "--only", "clean", "--verify"])).code).toBe(0)
    const again = await wbHere(["export", PIPELINE, "clean", "--to", "rot/clean.jsonl"])
    expect(again.code, again.stderr).toBe(0)
    expect(readFileSync(inProject("rot", "clean.jsonl"), "utf8")).toBe(
      readFileSync(inProject("out", "clean.jsonl"), "utf8")
    )
  })
})
