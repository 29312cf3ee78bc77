/** Decontamination's eval set: empty eval prompts are ignored and counted, never matched. */
import { describe, expect, it } from "vitest"
import { dedupe } from "../../nodes/dedupe/index.js"
import { pairsTable, runDedupeEach } from "./dedupe-helpers.js"

const CATS = "real eval question here about cats"
const SETUP =
  pairsTable("p", [
    ["", "a", "b", null, null, "s", 0],
    ["   ", "c", "d", null, null, "s", 1],
    ["\n\t", "c2", "d2", null, null, "s", 2],
    ["ok prompt", "c", "d", null, null, "s", 3],
    [CATS, "e", "f", null, null, "s", 4]
  ]) + `CREATE TABLE e AS SELECT * FROM (VALUES (''), ('${CATS}'), ('  '), (NULL), (chr(10))) t(prompt);`

describe("decontamination against an eval set with empty prompts", () => {
  it.each([
    ["exact only", { near: false }],
    ["exact and near", {}],
    ["normalize none", { normalize: "none", near: false }]
  ] as const)("never matches an empty or whitespace-only prompt (%s)", async (_, params) => {
    const [r] = await runDedupeEach(dedupe.decontaminate, [params], SETUP, { pairs: "p", against: "e" })
    expect(r!.pairs.map((x) => x["source_row"])).toEqual([0, 1, 2, 3])
    expect(r!.removed.map((x) => [x["source_row"], x["reason"]])).toEqual([[4, "contaminated"]])
    expect(r!.stats).toMatchObject({ contaminated: 1, eval_prompts: 5, eval_prompts_empty: 4 })
    expect(r!.pairs.length + r!.removed.length).toBe(r!.rowsIn)
  })

  it("dedupe.pairs counts the ignored eval prompts too", async () => {
    const [r] = await runDedupeEach(dedupe.pairs, [{}], SETUP, { pairs: "p", against: "e" })
    expect(r!.removed.map((x) => [x["source_row"], x["reason"]])).toEqual([[4, "contaminated"]])
    expect(r!.stats).toMatchObject({ eval_prompts: 5, eval_prompts_empty: 4 })
  })
})
