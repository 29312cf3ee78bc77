// featurize.language: hand-written prompts in eight languages get their ISO 639-3 codes, short and
// null texts get 'und' (minLength), `languages` narrows, speaker labels are stripped the choice, `text` picks the column, and on the real
// HH-RLHF harmless-base split (load.hh-rlhf -> featurize.language through runPipeline) almost every
// prompt is English, with the counts in the stats equal to the output's.
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { featurize, load } from "../../nodes/index.js"
import { pipeline, runPipeline } from "../../workbench/index.js"
import { readParquet } from "../support/sql.js"
import { runNode, runNodeError } from "./aggregate-helpers.js"

const PROMPTS: ReadonlyArray<readonly [string, string]> = [
  ["eng", "How do I bake a loaf of sourdough bread at home without a special oven?"],
  ["deu", "Wie backe ich zu Hause ein Sauerteigbrot, wenn ich keinen besonderen Ofen habe?"],
  ["fra", "Comment puis-je faire cuire un pain au levain à la maison sans four spécial ?"],
  ["spa", "¿Cómo puedo hornear un pan de masa madre en casa sin un horno especial?"],
  ["rus", "Как испечь хлеб на закваске дома, если у меня нет специальной печи?"],
  ["jpn", "特別なオーブンがなくても、家でサワードウのパンを焼くにはどうすればいいですか？"],
  ["cmn", "没有专门的烤箱，我怎样在家里烤一条酸面包？请告诉我详细的步骤和需要注意的事情。"],
  ["arb", "كيف يمكنني خبز رغيف من خبز العجين المخمر في المنزل بدون فرن خاص؟"]
]

const sqlText = (s: string | null) => (s === null ? "NULL::VARCHAR" : `'${s.replaceAll("'", "''")}'`)

const table = (rows: ReadonlyArray<readonly [string, string | null, string]>) =>
  `CREATE TABLE p AS SELECT * FROM (VALUES ${rows
    .map(([id, prompt, a]) => `('${id}', ${sqlText(prompt)}, ${sqlText(a)}, 'b')`)
    .join(", ")}) t(pair_id, prompt, response_a, response_b)`

describe("featurize.language", () => {
  it("names the language of hand-written prompts; short and null texts are 'und'", async () => {
    const rows = [
      ...PROMPTS.map(([code, text]) => [code, text, "Sure."] as const),
      ["short", "Hi there", "x"] as const,
      ["null", null, "x"] as const
    ]
    const r = await runNode(featurize.language, table(rows), { pairs: "p" })
    const got = r.tables["pairs"]!.map((x) => [x["pair_id"], x["language"]])
    expect(got).toEqual([...PROMPTS.map(([code]) => [code, code]), ["short", "und"], ["null", "und"]])
    expect(r.stats).toMatchObject({ languages: PROMPTS.length + 1, und: 2 })
    expect(Object.keys(r.tables["pairs"]![0]!)).toEqual(["pair_id", "prompt", "response_a", "response_b", "language"])
  })

  it("reads the column `text` names, honours minLength, languages and stripRoles", async () => {
    const rows = [["r1", "Hello", "Guten Morgen, wie geht es dir heute? Ich hoffe, es geht dir gut."] as const]
    const a = await runNode(featurize.language, table(rows), { pairs: "p" }, { text: "response_a" })
    expect(a.tables["pairs"]![0]!["language"]).toBe("deu")
    const shortOk = await runNode(featurize.language, table(rows), { pairs: "p" }, { minLength: 3 })
    expect(shortOk.tables["pairs"]![0]!["language"]).not.toBe("und")
    const only = await runNode(
      featurize.language,
      table(rows),
      { pairs: "p" },
      { text: "response_a", languages: ["eng", "nld"] }
    )
    expect(["eng", "nld"]).toContain(only.tables["pairs"]![0]!["language"])
    // a German conversation with English speaker labels
    const chat = [
      [
        "c",
        "\n\nHuman: Wie backe ich Brot?\n\nAssistant: Mit Mehl, Wasser und Salz.\n\nHuman: Und Sauerteig?",
        "x"
      ] as const
    ]
    const stripped = await runNode(featurize.language, table(chat), { pairs: "p" })
    expect(stripped.tables["pairs"]![0]!["language"]).toBe("deu")
  })

  it("says which column is missing", async () => {
    const message = await runNodeError(
      featurize.language,
      "CREATE TABLE p AS SELECT 'x' AS pair_id, 'y' AS prompt",
      { pairs: "p" },
      { text: "response_b" }
    )
    expect(message).toMatch(/param text[\s\S]*no column response_b[\s\S]*pair_id, prompt/)
  })

  it("tags the real HH-RLHF harmless-base prompts: English, in input order", async () => {
    const p = pipeline("lang-hh", (b) => {
      const pairs = b.node("pairs", load.hhRlhf({ path: "data/hh-rlhf-harmless-base/test.jsonl.gz" }))
      b.node("lang", featurize.language(), { pairs })
    })
    const result = await runPipeline(p, { workspace: mkdtempSync(join(tmpdir(), "wb-lang-")), root: process.cwd() })
    const node = result.report.nodes.find((n) => n.name === "lang")!
    expect(node.status).toBe("ran")
    const rows = await readParquet(result.table("lang").file)
    const source = await readParquet(result.table("pairs").file)
    expect(rows.map((r) => r["pair_id"])).toEqual(source.map((r) => r["pair_id"]))
    const eng = rows.filter((r) => r["language"] === "eng").length
    // HH is English; short one-line prompts are where trigrams fail (measured 93% eng with the defaults;
    // "Is it possible to download a car?" reads as Portuguese)
    expect(eng / rows.length).toBeGreaterThan(0.9)
    expect(String(node.stats?.["top"])).toMatch(new RegExp(`^eng ${eng}`))
    console.log(`featurize.language on HH harmless-base: ${JSON.stringify(node.stats)}`)
  })
})
