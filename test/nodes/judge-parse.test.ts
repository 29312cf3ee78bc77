/**
 * Strict verdict parsing, on real recorded judge outputs: PandaLM's gpt-3.5-turbo and PandaLM-7B
 * results (with the 25 "garbage" answers), AlpacaEval 2's function-call answers (ordered_models, with
 * the CoT judge's explanations) and its weighted judge's answers with top logprobs. Each count the
 * parser gives is compared with one computed here from the raw fields by other means, and with the
 * numbers the data READMEs publish.
 */
import { readFileSync } from "node:fs"
import { gunzipSync } from "node:zlib"
import { describe, expect, it } from "vitest"
import type { TokenLogprob } from "../../workbench/core/llm.js"
import {
  alpacaEvalLabels,
  type Displayed,
  numericLabels,
  pandalmLabels,
  parseRatings,
  parseVerdict,
  verdictProbability
} from "../../nodes/judge/parse.js"

type Row = Record<string, unknown>
const json = (path: string): Array<Row> => JSON.parse(readFileSync(path, "utf8")) as Array<Row>
const gz = (path: string): Array<Row> => JSON.parse(gunzipSync(readFileSync(path)).toString("utf8")) as Array<Row>
const countBy = <T>(xs: ReadonlyArray<T>, key: (x: T) => string) => {
  const counts: Record<string, number> = {}
  for (const x of xs) counts[key(x)] = (counts[key(x)] ?? 0) + 1
  return counts
}
const verdictOf = (text: string, labels = numericLabels): Displayed | "unparseable" => {
  const p = parseVerdict(text, labels)
  return p._tag === "Verdict" ? p.verdict : "unparseable"
}

describe("PandaLM recorded judges", () => {
  const gpt = json("data/pandalm-testset/gpt-3.5-turbo-testset-v1.json")
  const panda = json("data/pandalm-testset/pandalm-7b-testset-v1.json")
  const humans = json("data/pandalm-testset/testset-v1.json")

  it("gpt-3.5-turbo: 460 first, 476 second, 38 tie, and the 25 garbage answers unparseable with their raw text", () => {
    const parsed = gpt.map((r) => ({ raw: String(r.gpt_result), v: verdictOf(String(r.gpt_result), pandalmLabels) }))
    // independently: the raw strings as the README lists them
    const raw = countBy(gpt, (r) => String(r.gpt_result))
    expect(countBy(parsed, (p) => p.v)).toEqual({
      first: raw["1"],
      second: raw["2"],
      tie: raw.Tie,
      unparseable: gpt.length - raw["1"]! - raw["2"]! - raw.Tie!
    })
    expect(raw).toEqual({ "1": 460, "2": 476, Tie: 38, garbage: 25 })
    expect(new Set(parsed.filter((p) => p.v === "unparseable").map((p) => p.raw))).toEqual(new Set(["garbage"]))
    // a garbage answer has an empty reason: no rationale was lost
    expect(gpt.filter((r) => r.gpt_result === "garbage").every((r) => r.gpt_reason === "")).toBe(true)
  })

  it("gpt-3.5-turbo matches the human majority on 697 items (Tie as 0), as the README says", () => {
    const code = { first: 1, second: 2, tie: 0 } as const
    const byIdx = new Map(gpt.map((r) => [r.idx, verdictOf(String(r.gpt_result), pandalmLabels)]))
    const majority = (h: Row) => {
      const votes = [h.annotator1, h.annotator2, h.annotator3] as Array<number>
      return [0, 1, 2].find((v) => votes.filter((x) => x === v).length >= 2)
    }
    const agree = humans.filter((h) => {
      const v = byIdx.get(h.idx)
      return v !== undefined && v !== "unparseable" && code[v] === majority(h)
    }).length
    // independently, on the raw strings
    const rawCode: Record<string, number> = { "1": 1, "2": 2, Tie: 0 }
    const rawById = new Map(gpt.map((r) => [r.idx, rawCode[String(r.gpt_result)]]))
    expect(agree).toBe(humans.filter((h) => rawById.get(h.idx) === majority(h)).length)
    expect(agree).toBe(697)
  })

  it("PandaLM-7B: integers 1 / 2 / 0 parse as 433 / 459 / 107 with no failure", () => {
    const parsed = countBy(panda, (r) => verdictOf(String(r.pandalm_result), pandalmLabels))
    const raw = countBy(panda, (r) => String(r.pandalm_result))
    expect(parsed).toEqual({ first: raw["1"], second: raw["2"], tie: raw["0"] })
    expect(raw).toEqual({ "1": 433, "2": 459, "0": 107 })
  })
})

const ALPACA = "data/alpaca-eval-gpt-3.5-turbo-0301"

describe("AlpacaEval 2 recorded judges", () => {
  it("function-call answers (ordered_models): the rank-1 model, with the CoT judge's explanation as rationale", () => {
    for (const file of ["alpaca_eval_cot_gpt4_turbo_fn", "alpaca_eval_gpt4_turbo_fn"]) {
      const rows = gz(`${ALPACA}/${file}.annotations.json.gz`).filter((r) => r.raw_completion !== null)
      type Fn = { ordered_models: Array<{ model: string; rank: number }>; concise_explanation?: string }
      for (const r of rows) {
        const fn = r.raw_completion as Fn
        const parsed = parseVerdict(JSON.stringify(fn), alpacaEvalLabels)
        // independently: the model ranked 1, "m" being the first output shown
        const best = fn.ordered_models.filter((m) => m.rank === 1)[0]!.model
        expect(parsed).toEqual({
          _tag: "Verdict",
          verdict: best === "m" ? "first" : "second",
          rationale: fn.concise_explanation ?? null
        })
      }
      expect(rows.length).toBe(804) // 805 less row 370, the identical pair no judge was asked about
    }
  })

  it("the CoT judge's verdicts, mapped through referenced_models, give the file's preference on all but its 3 inconsistent rows", () => {
    const rows = gz(`${ALPACA}/alpaca_eval_cot_gpt4_turbo_fn.annotations.json.gz`).filter(
      (r) => r.raw_completion !== null
    )
    let agree = 0
    for (const r of rows) {
      const v = verdictOf(JSON.stringify(r.raw_completion), alpacaEvalLabels)
      const refs = r.referenced_models as Record<string, string>
      // a row naming only M leaves m to the other output
      const shown = v === "first" ? (refs.m ?? (refs.M === "output_1" ? "output_2" : "output_1")) : refs.M
      if ((shown === "output_1" ? 1 : 2) === r.preference) agree++
    }
    expect([agree, rows.length - agree]).toEqual([801, 3])
    expect(
      countBy(gz(`${ALPACA}/alpaca_eval_cot_gpt4_turbo_fn.annotations.json.gz`), (r) => String(r.preference))
    ).toEqual({
      "1": 751,
      "2": 53,
      "1.5": 1
    })
  })

  it("weighted judge: p(first) from the top logprobs reproduces the recorded preference on every parsed row", () => {
    type Content = { token: string; logprob: number; top_logprobs: Array<{ token: string; logprob: number }> }
    const rows = gz(`${ALPACA}/weighted_alpaca_eval_gpt4_turbo.annotations.json.gz`)
    const answered = rows.filter((r) => r.raw_completion !== null)
    let firstIsOutput1 = 0
    let firstIsOutput2 = 0
    const unparseable: Array<string> = []
    for (const r of answered) {
      const rc = r.raw_completion as { text: string; logprobs: { content: Array<Content> } }
      const logprobs: Array<TokenLogprob> = rc.logprobs.content.map((c) => ({
        token: c.token,
        logprob: c.logprob,
        top: c.top_logprobs.map((t) => ({ token: t.token, logprob: t.logprob }))
      }))
      if (parseVerdict(rc.text, alpacaEvalLabels)._tag === "Unparseable") {
        unparseable.push(rc.text)
        continue
      }
      const p = verdictProbability(logprobs, alpacaEvalLabels)!
      // AlpacaEval shuffles the outputs per row: the first shown is output_1 (preference = 2 - p) or output_2 (1 + p)
      const pref = r.preference as number
      if (Math.abs(2 - p - pref) < 1e-6) firstIsOutput1++
      else if (Math.abs(1 + p - pref) < 1e-6) firstIsOutput2++
    }
    expect(unparseable).toEqual(["Neither"])
    expect(firstIsOutput1 + firstIsOutput2).toBe(answered.length - 1)
    expect(answered.length).toBe(804)
  })
})

describe("parseVerdict accepts stated verdicts only", () => {
  it.each([
    ["1", "first", null],
    [" 2\n", "second", null],
    ['**"2".**', "second", null],
    ["[[1]]", "first", null],
    ["Output (a)", "first", null],
    ["Output (b)", "second", null],
    ["Response 2", "second", null],
    ['{"verdict": "1", "rationale": "more accurate"}', "first", "more accurate"],
    ['```json\n{"winner": 2, "reason": "shorter and right"}\n```', "second", "shorter and right"],
    [
      "Output 2 cites its source; Output 1 does not.\nVerdict: 2",
      "second",
      "Output 2 cites its source; Output 1 does not."
    ],
    ["Final verdict: Output (a)", "first", null]
  ] as const)("%j -> %s", (text, verdict, rationale) => {
    expect(parseVerdict(text)).toEqual({ _tag: "Verdict", verdict, rationale })
  })

  it.each([
    ["", "empty answer"],
    ["1 is better", 'expected "1" / "2"'],
    ["Both are fine.", 'found "Both are fine."'],
    ['{"verdict": "3"}', 'JSON verdict "3" names neither output'],
    ["tie", 'expected "1" / "2"']
  ])("%j is unparseable (%s)", (text, reason) => {
    const p = parseVerdict(text)
    expect(p._tag).toBe("Unparseable")
    expect(p._tag === "Unparseable" && p.reason).toContain(reason)
  })

  it("p(first) is the softmax over the two labels at the verdict token; null without them", () => {
    const lp = (token: string, top: Array<[string, number]>): TokenLogprob => ({
      token,
      logprob: top[0]![1],
      top: top.map(([t, l]) => ({ token: t, logprob: l }))
    })
    expect(
      verdictProbability([
        lp("1", [
          ["1", Math.log(0.6)],
          ["2", Math.log(0.2)],
          ["The", Math.log(0.2)]
        ])
      ])
    ).toBeCloseTo(0.75, 12)
    // " 2" and "2" are one label; a missing label counts as 0
    expect(
      verdictProbability([
        lp(" 2", [
          [" 2", Math.log(0.5)],
          ["2", Math.log(0.3)]
        ])
      ])
    ).toBe(0)
    expect(
      verdictProbability([
        lp("Sure", [["Sure", -0.1]]),
        lp("1", [
          ["1", -0.5],
          ["2", -0.5]
        ])
      ])
    ).toBeCloseTo(0.5, 12)
    expect(verdictProbability([lp("Neither", [["Neither", -0.1]])])).toBeNull()
    expect(verdictProbability(null)).toBeNull()
  })
})

describe("parseRatings: UltraFeedback's format or JSON, whole numbers within the scale", () => {
  it("reads both texts' ratings and rationales", () => {
    const text =
      "### Output for Text 1\nRating: 4\nRationale: Accurate.\n\n### Output for Text 2\nRating: [2]\nRationale: Misses the format."
    expect(parseRatings(text)).toEqual({
      _tag: "Ratings",
      first: { score: 4, rationale: "Accurate." },
      second: { score: 2, rationale: "Misses the format." }
    })
    expect(parseRatings('[{"rating": 5, "rationale": "x"}, {"rating": "3"}]')).toEqual({
      _tag: "Ratings",
      first: { score: 5, rationale: "x" },
      second: { score: 3, rationale: null }
    })
  })

  it.each([
    ["### Output for Text 1\nRating: 4\n", "text 2: no rating given"],
    ['[{"rating": 4}, {"rating": 3}, {"rating": 2}]', "expected ratings of 2 texts, found 3"],
    [
      "### Output for Text 1\nRating: 6\n### Output for Text 2\nRating: 3",
      'text 1: rating "6" is not a whole number from 1 to 5'
    ],
    ["### Output for Text 1\nRating: N/A\n### Output for Text 2\nRating: 3", 'text 1: rating "N/A"'],
    ["Text 1 is good (4), text 2 is fair (3).", 'expected "Output for Text 1"']
  ])("%j is unparseable", (text, reason) => {
    const p = parseRatings(text)
    expect(p._tag === "Unparseable" && p.reason).toContain(reason)
  })
})
