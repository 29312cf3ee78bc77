// split.hash on the quickstart data (HH-RLHF + PandaLM, deduplicated: 3,145 pairs): seeded and
// deterministic, no prompt in two splits, fractions met to within a group, strata kept in proportion.
import { Effect } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { dedupe } from "../../nodes/dedupe/index.js"
import { load } from "../../nodes/load/index.js"
import { split } from "../../nodes/split/index.js"
import { buildGraph } from "../../workbench/core/graph.js"
import { pipeline } from "../../workbench/core/pipeline.js"
import { type PipelineResult, runPipeline } from "../../workbench/run-pipeline.js"
import { readParquet } from "../support/sql.js"

type Row = Record<string, unknown>
type Parts = { train: Array<Row>; validation: Array<Row>; test: Array<Row> }

const splits = {
  seed0: { seed: 0 },
  seed0list: { seed: 0, groupBy: ["prompt"] },
  seed1: { seed: 1 },
  byLabel: { seed: 0, stratify: "label", groupBy: "pair_id" },
  byLabelPrompt: { seed: 0, stratify: "label" },
  bySource: { seed: 0, stratify: "source", fractions: { train: 0.7, validation: 0.2, test: 0.1 } },
  twoWay: { seed: 5, fractions: { train: 0.75, test: 0.25 } }
} as const

const quickstartSplits = pipeline("split", (p) => {
  const hh = p.node("hh", load.hhRlhf({ path: "data/hh-rlhf-harmless-base/test.jsonl.gz" }))
  const panda = p.node("panda", load.pandalm({ path: "data/pandalm-testset", maxRejectRate: 0.01 }))
  const clean = p.node("clean", dedupe.pairs({ normalize: "none" }), { pairs: [hh, panda] })
  for (const [name, params] of Object.entries(splits)) p.node(name, split.hash(params), { pairs: clean })
})

const notes: Array<string> = []
const run = () =>
  runPipeline(quickstartSplits, {
    workspace: join(mkdtempSync(join(tmpdir(), "wb-split-")), ".wb"),
    threads: 2,
    onEvent: (e) => {
      if (e._tag === "NodeNote") notes.push(`${e.node}: ${e.text}`)
    }
  })

const partsOf = async (result: PipelineResult, node: string): Promise<Parts> => {
  const t = result.nodes[node]!.tables
  return {
    train: [...(await readParquet(t["train"]!))],
    validation: [...(await readParquet(t["validation"]!))],
    test: [...(await readParquet(t["test"]!))]
  }
}

const ids = (rows: ReadonlyArray<Row>) => rows.map((r) => r["pair_id"] as string)
const count = (rows: ReadonlyArray<Row>, key: string, value: unknown) => rows.filter((r) => r[key] === value).length

let first: PipelineResult
let clean: Array<Row>
let parts: Record<keyof typeof splits, Parts>

beforeAll(async () => {
  first = await run()
  expect(first.report.status).toBe("ok")
  clean = [...(await readParquet(first.nodes["clean"]!.tables["pairs"]!))]
  parts = Object.fromEntries(
    await Promise.all(Object.keys(splits).map(async (n) => [n, await partsOf(first, n)] as const))
  ) as typeof parts
}, 120_000)

describe("split.hash on the quickstart data", () => {
  it("puts every row in exactly one split, in input order, with the input's columns", () => {
    expect(clean.length).toBe(3145)
    const order = new Map(clean.map((r, i) => [`${r["pair_id"]}#${r["source"]}#${r["source_row"]}`, i]))
    for (const [name, p] of Object.entries(parts)) {
      const all = [...p.train, ...p.validation, ...p.test]
      expect(all.length, name).toBe(clean.length)
      expect(new Set(all.map((r) => `${r["pair_id"]}#${r["source"]}#${r["source_row"]}`)).size, name).toBe(clean.length)
      for (const rows of [p.train, p.validation, p.test]) {
        const at = rows.map((r) => order.get(`${r["pair_id"]}#${r["source"]}#${r["source_row"]}`)!)
        expect(at, name).toEqual([...at].sort((a, b) => a - b))
      }
      expect(Object.keys(p.train[0]!)).toEqual(Object.keys(clean[0]!))
    }
  })

  it("says every split's rows: the summary's rows out count train, the main table, only", () => {
    const seed0 = first.report.nodes.find((n) => n.name === "seed0")!
    expect(seed0.rowsOut).toBe(parts.seed0.train.length)
    const [train, validation, test] = [parts.seed0.train.length, parts.seed0.validation.length, parts.seed0.test.length]
    const n = (x: number) => x.toLocaleString("en-US")
    expect(notes).toContain(`seed0: 3,145 rows split: train ${n(train)}, validation ${n(validation)}, test ${n(test)}`)
    expect(notes).toContain(
      `twoWay: 3,145 rows split: train ${n(parts.twoWay.train.length)}, validation 0, test ${n(parts.twoWay.test.length)}`
    )
  })

  it("never puts one prompt (or, grouped by pair_id, one pair_id) in two splits", () => {
    for (const [name, p] of Object.entries(parts)) {
      const key = name === "byLabel" ? "pair_id" : "prompt"
      const where = new Map<string, string>()
      for (const s of ["train", "validation", "test"] as const) {
        for (const r of p[s]) {
          const value = r[key] as string
          expect(where.get(value) ?? s, `${name}: ${value.slice(0, 40)}`).toBe(s)
          where.set(value, s)
        }
      }
      expect(where.size, name).toBe(new Set(clean.map((r) => r[key])).size)
    }
  })

  it("meets the fractions to within 1% of the rows (cuts fall between whole prompts)", () => {
    const n = clean.length
    for (const name of ["seed0", "seed1", "byLabel", "byLabelPrompt"] as const) {
      expect(Math.abs(parts[name].train.length / n - 0.8), name).toBeLessThan(0.01)
      expect(Math.abs(parts[name].validation.length / n - 0.1), name).toBeLessThan(0.01)
      expect(Math.abs(parts[name].test.length / n - 0.1), name).toBeLessThan(0.01)
    }
    expect(Math.abs(parts.twoWay.train.length / n - 0.75)).toBeLessThan(0.01)
    expect(parts.twoWay.validation).toEqual([]) // a split without a fraction is empty
    const s = first.report.nodes.find((r) => r.name === "seed0")!
    expect(s).toMatchObject({ rowsIn: n, rowsOut: parts.seed0.train.length })
    expect(s.stats).toMatchObject({
      train_rows: parts.seed0.train.length,
      validation_rows: parts.seed0.validation.length,
      test_rows: parts.seed0.test.length
    })
  })

  it("is deterministic: the same seed gives the same split (another run, the list form of groupBy); another seed another", async () => {
    const again = await run()
    const replay = await partsOf(again, "seed0")
    for (const s of ["train", "validation", "test"] as const) {
      expect(ids(replay[s])).toEqual(ids(parts.seed0[s]))
      expect(ids(parts.seed0list[s])).toEqual(ids(parts.seed0[s]))
    }
    const train0 = new Set(ids(parts.seed0.test))
    const shared = ids(parts.seed1.test).filter((id) => train0.has(id)).length
    // independent draws of 10% each share about 10% of a test set; the same draw would share all of it
    expect(shared / parts.seed1.test.length).toBeLessThan(0.3)
  }, 120_000)

  it("stratify keeps each stratum's proportions in every split", () => {
    for (const label of ["a", "b", "tie"]) {
      const total = count(clean, "label", label)
      expect(total, label).toBeGreaterThan(50)
      for (const [s, f] of [
        ["train", 0.8],
        ["validation", 0.1],
        ["test", 0.1]
      ] as const) {
        expect(Math.abs(count(parts.byLabel[s], "label", label) / total - f), `${label} ${s}`).toBeLessThan(0.01)
      }
    }
    for (const source of ["hh-rlhf", "pandalm"]) {
      const total = count(clean, "source", source)
      expect(Math.abs(count(parts.bySource.train, "source", source) / total - 0.7), source).toBeLessThan(0.015)
      expect(Math.abs(count(parts.bySource.validation, "source", source) / total - 0.2), source).toBeLessThan(0.015)
    }
    const stats = first.report.nodes.find((r) => r.name === "bySource")!.stats
    expect(stats).toMatchObject({ strata: 2, mixed_groups: 0 })
  })

  it("counts the groups whose rows span strata (they go with their most common value)", () => {
    // PandaLM pairs one prompt with ~6 response pairs of different labels: grouped by prompt, such a group
    // cannot follow every label; the stat says how many there are
    const labels = new Map<string, Set<unknown>>()
    for (const r of clean)
      labels.set(r["prompt"] as string, (labels.get(r["prompt"] as string) ?? new Set()).add(r["label"]))
    const mixed = [...labels.values()].filter((l) => l.size > 1).length
    expect(mixed).toBeGreaterThan(0)
    expect(first.report.nodes.find((r) => r.name === "byLabelPrompt")!.stats).toMatchObject({
      strata: 3,
      mixed_groups: mixed
    })
  })
})

describe("split.hash params", () => {
  const invalid = (params: Record<string, unknown>) =>
    Effect.runPromise(
      Effect.flip(
        buildGraph(
          pipeline("bad", (p) => {
            const hh = p.node("hh", load.hhRlhf({ path: "data/hh-rlhf-harmless-base/test.jsonl.gz" }))
            p.node("parts", split.hash(params as never), { pairs: hh })
          }),
          new Map(),
          { services: "any" }
        )
      )
    ).then((e) => e.message)

  it("refuses fractions that do not sum to 1, saying what they sum to", async () => {
    expect(await invalid({ fractions: { train: 0.8, validation: 0.1 } })).toBe(
      'pipeline "bad" is invalid\n' +
        '  node "parts" (split.hash) has invalid params\n' +
        '    param fractions: found {"train":0.8,"validation":0.1}; expected fractions that sum to 1; these sum to 0.9 (train 0.8 + validation 0.1)\n' +
        "    fix: correct the params, or run `wb nodes split.hash` to see each param, its type and default"
    )
    expect(await invalid({ fractions: { train: 0.7, validation: 0.2, test: 0.2 } })).toContain(
      "these sum to 1.1 (train 0.7 + validation 0.2 + test 0.2)"
    )
  })

  it("refuses split names other than the node's output tables, and says how to get more parts", async () => {
    expect(await invalid({ fractions: { train: 0.8, dev: 0.2 } })).toContain(
      'param fractions: found {"train":0.8,"dev":0.2}; expected split names among train, validation and test, ' +
        "the node's output tables (dev is not one; for more parts, split one of them again with another split.hash node)"
    )
  })

  it("refuses a fraction outside 0-1 and an empty groupBy list", async () => {
    expect(await invalid({ fractions: { train: 1.2, test: -0.2 } })).toContain(
      "param fractions.train: found 1.2; expected a value between 0 and 1"
    )
    expect(await invalid({ groupBy: [] })).toContain("param groupBy")
  })
})
