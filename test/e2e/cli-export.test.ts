// pipelines/export-trl.ts (quickstart data -> dedupe -> split -> export.trl) and `wb export`, run as a user runs them (real processes, a project of its own):
// the TRL file loads back with load.trl as the cleaned pairs, and `wb export` writes every row with a card.
import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs"
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
})
