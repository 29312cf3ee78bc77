/**
 * Strict parsing of judge answers: a verdict (which displayed output won), the probability behind it
 * from the verdict token's top logprobs, and UltraFeedback-style aspect ratings. Pure functions, no I/O.
 *
 * Strict means: an answer is a verdict only when it says one in a form listed below; anything else is
 * `Unparseable` with a reason, and the judge node writes it to its failures table with the raw text.
 * Never a NULL vote, never a coin flip (distilabel's UltraFeedback parser turns such answers into
 * None without a word; AlpacaEval's win rate turns NaN on one, its issue #446).
 *
 * Accepted verdict forms (labels per `VerdictLabels`; "1"/"2" for our templates):
 * - the label alone, possibly wrapped in quotes, `**`, brackets or a final period: `1`, `"2"`, `[[1]]`, `2.`
 * - `Output (a)` / `Output (b)` / `Output 1` / `Response 2` (AlpacaEval 1 answers `Output (a)`)
 * - JSON, bare or in a ``` fence: `{"verdict": "1", "rationale": "…"}` (also winner / preference /
 *   better / answer / choice), or AlpacaEval's function-call answer `{"ordered_models": [{"model": "M",
 *   "rank": 1}, …]}`; a `rationale` / `reason` / `explanation` / `concise_explanation` is kept
 * - reasoning followed by a last line `Verdict: 1` (or `Final verdict`, `Answer`, `Winner`, `Preference`);
 *   the text above it is the rationale
 */
import type { TokenLogprob } from "../../workbench/core/llm.js"

/** Which displayed output the judge preferred. */
export type Displayed = "first" | "second" | "tie"

/** The strings that name each displayed output in a judge's answers. */
export interface VerdictLabels {
  readonly first: ReadonlyArray<string>
  readonly second: ReadonlyArray<string>
  readonly tie: ReadonlyArray<string>
  /** AlpacaEval 2 names the outputs "m" and "M": there case tells them apart. */
  readonly caseSensitive: boolean
}

/** Our templates: "1" or "2", no tie. */
export const numericLabels: VerdictLabels = { first: ["1"], second: ["2"], tie: [], caseSensitive: false }
/** AlpacaEval 2 (weighted_alpaca_eval_gpt4_turbo, *_fn): "m" is the first output shown, "M" the second. */
export const alpacaEvalLabels: VerdictLabels = { first: ["m"], second: ["M"], tie: [], caseSensitive: true }
/** PandaLM's recorded gpt-3.5-turbo and PandaLM-7B results: 1, 2, and 0 or "Tie". */
export const pandalmLabels: VerdictLabels = { first: ["1"], second: ["2"], tie: ["0", "Tie"], caseSensitive: false }

export type VerdictParse =
  | { readonly _tag: "Verdict"; readonly verdict: Displayed; readonly rationale: string | null }
  | { readonly _tag: "Unparseable"; readonly reason: string }

const unparseable = (reason: string): VerdictParse => ({ _tag: "Unparseable", reason })
const quote = (text: string) => JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text)

/** The text without wrapping quotes, emphasis, brackets or a final period: `**"1".**` -> `1`. */
const bare = (text: string) => text.trim().replace(/^[\s"'`*[(]+|[\s"'`*\]).:]+$/g, "")

const same = (a: string, b: string, labels: VerdictLabels) =>
  labels.caseSensitive ? a === b : a.toLowerCase() === b.toLowerCase()

/** The displayed output a bare token or word names, if any. */
export function labelOf(token: string, labels: VerdictLabels): Displayed | undefined {
  const t = bare(token)
  if (labels.first.some((l) => same(l, t, labels))) return "first"
  if (labels.second.some((l) => same(l, t, labels))) return "second"
  if (labels.tie.some((l) => same(l, t, labels))) return "tie"
  return undefined
}

const OUTPUT_NAME = /^(?:output|response|answer|assistant)\s*[:#]?\s*\(?([12ab])\)?$/i
const LAST_LINE = /^(?:final\s+)?(?:verdict|answer|winner|preference)\s*[:=]\s*(.+)$/i
const VERDICT_KEYS = ["verdict", "winner", "preference", "better", "answer", "choice"]
const RATIONALE_KEYS = ["rationale", "reason", "explanation", "concise_explanation", "reasoning"]

/** A word or phrase that names a displayed output: a label, or `Output (a)` / `Response 2`. */
function named(text: string, labels: VerdictLabels): Displayed | undefined {
  const label = labelOf(text, labels)
  if (label !== undefined) return label
  const m = OUTPUT_NAME.exec(bare(text))
  if (m === null) return undefined
  return m[1] === "1" || m[1]!.toLowerCase() === "a" ? "first" : "second"
}

/** A JSON object, bare or in one ``` fence; undefined when the text is not one. */
export function jsonObjectOf(text: string): Record<string, unknown> | unknown[] | undefined {
  const fenced = /^```[a-zA-Z]*\s*\n?([\s\S]*?)\n?```$/.exec(text.trim())
  const body = (fenced?.[1] ?? text).trim()
  if (!/^[[{]/.test(body)) return undefined
  try {
    const value: unknown = JSON.parse(body)
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

const field = (o: Record<string, unknown>, keys: ReadonlyArray<string>): unknown => {
  const k = Object.keys(o).find((key) => keys.includes(key.toLowerCase()))
  return k === undefined ? undefined : o[k]
}

function fromJson(o: Record<string, unknown>, labels: VerdictLabels): VerdictParse | undefined {
  const why = field(o, RATIONALE_KEYS)
  const rationale = typeof why === "string" && why.trim() !== "" ? why.trim() : null
  const v = field(o, VERDICT_KEYS)
  if (typeof v === "string" || typeof v === "number") {
    const verdict = named(String(v), labels)
    return verdict === undefined
      ? unparseable(`JSON verdict ${quote(String(v))} names neither output`)
      : { _tag: "Verdict", verdict, rationale }
  }
  const ordered = o.ordered_models
  if (Array.isArray(ordered)) {
    const best = ordered.find(
      (m: unknown) => typeof m === "object" && m !== null && (m as { rank?: unknown }).rank === 1
    )
    const model = (best as { model?: unknown } | undefined)?.model
    const verdict = typeof model === "string" ? labelOf(model, labels) : undefined
    return verdict === undefined
      ? unparseable("ordered_models has no rank-1 model naming an output")
      : { _tag: "Verdict", verdict, rationale }
  }
  return undefined
}

/** Parse a judge's answer into the displayed output it prefers. */
export function parseVerdict(text: string, labels: VerdictLabels = numericLabels): VerdictParse {
  if (text.trim() === "") return unparseable("empty answer")
  const direct = named(text, labels)
  if (direct !== undefined) return { _tag: "Verdict", verdict: direct, rationale: null }
  const json = jsonObjectOf(text)
  if (json !== undefined && !Array.isArray(json)) {
    const parsed = fromJson(json, labels)
    if (parsed !== undefined) return parsed
  }
  const lines = text.trim().split(/\r?\n/)
  const last = LAST_LINE.exec(bare(lines.at(-1)!))
  if (last !== null) {
    const verdict = named(last[1]!, labels)
    const rationale = lines.slice(0, -1).join("\n").trim()
    if (verdict !== undefined) return { _tag: "Verdict", verdict, rationale: rationale === "" ? null : rationale }
  }
  const names = [...labels.first, ...labels.second, ...labels.tie].map((l) => `"${l}"`).join(" / ")
  return unparseable(`expected ${names}, JSON {"verdict": …} or a last line "Verdict: …"; found ${quote(text.trim())}`)
}

const logSumExp = (xs: ReadonlyArray<number>): number => {
  const m = Math.max(...xs)
  return m === Number.NEGATIVE_INFINITY ? m : m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0))
}

/**
 * P(first output wins) from the top logprobs at the verdict token (AlpacaEval's weighted judge): the
 * first generated token that names an output; at it, the softmax over the first- and second-label
 * tokens among its top logprobs (a label missing from them counts as probability 0; ties are left out,
 * so this is P(first | a decisive verdict)). Null without logprobs, without such a token, or when
 * neither label is among its top tokens.
 */
export function verdictProbability(
  logprobs: ReadonlyArray<TokenLogprob> | null,
  labels: VerdictLabels = numericLabels
): number | null {
  if (logprobs === null) return null
  const at = logprobs.find((t) => {
    const l = labelOf(t.token, labels)
    return l === "first" || l === "second"
  })
  if (at === undefined) return null
  const top = at.top.length > 0 ? at.top : [{ token: at.token, logprob: at.logprob }]
  const side = (which: Displayed) =>
    logSumExp(top.filter((t) => labelOf(t.token, labels) === which).map((t) => t.logprob))
  const first = side("first")
  const second = side("second")
  const total = logSumExp([first, second])
  return total === Number.NEGATIVE_INFINITY ? null : Math.exp(first - total)
}

/** One displayed output's rating on one aspect. */
export interface Rating {
  readonly score: number
  readonly rationale: string | null
}

export type RatingsParse =
  | { readonly _tag: "Ratings"; readonly first: Rating; readonly second: Rating }
  | { readonly _tag: "Unparseable"; readonly reason: string }

const scoreOf = (value: unknown, min: number, max: number): number | string => {
  const n = typeof value === "number" ? value : typeof value === "string" ? Number(bare(value)) : Number.NaN
  return Number.isInteger(n) && n >= min && n <= max
    ? n
    : `rating ${quote(String(value))} is not a whole number from ${min} to ${max}`
}

function ratingFrom(section: unknown, min: number, max: number): Rating | string {
  if (typeof section === "string") {
    const score = /Rating:\s*\[?\s*([^\]\n]*?)\s*\]?\s*$/im.exec(section)
    if (score === null) return 'no "Rating:" line'
    const s = scoreOf(score[1], min, max)
    if (typeof s === "string") return s
    const why = /Rationale:\s*([\s\S]*)$/i.exec(section)?.[1]?.trim()
    return { score: s, rationale: why === undefined || why === "" ? null : why }
  }
  if (typeof section === "object" && section !== null) {
    const o = section as Record<string, unknown>
    const s = scoreOf(field(o, ["rating", "score"]), min, max)
    if (typeof s === "string") return s
    const why = field(o, RATIONALE_KEYS)
    return { score: s, rationale: typeof why === "string" && why.trim() !== "" ? why.trim() : null }
  }
  return section === undefined ? "no rating given" : "no rating"
}

/**
 * Parse one aspect's ratings of the two displayed outputs: UltraFeedback's format (`### Output for
 * Text 1` / `Rating: 4` / `Rationale: …`, then Text 2), or JSON: `[{rating, rationale}, {…}]`,
 * `{"ratings": [...]}` or `{"text_1": {…}, "text_2": {…}}`. Both texts must have a whole-number rating
 * within the scale, or the answer is unparseable.
 */
export function parseRatings(text: string, min = 1, max = 5): RatingsParse {
  let sections: Array<unknown> | undefined
  const json = jsonObjectOf(text)
  if (Array.isArray(json)) sections = json
  else if (json !== undefined) {
    const list = field(json, ["ratings"])
    sections = Array.isArray(list)
      ? list
      : [field(json, ["text_1", "text 1", "1"]), field(json, ["text_2", "text 2", "2"])]
  } else {
    const parts = text.split(/^\s*#*\s*Output for Text\s*(\d+)\s*#*\s*:?\s*$/im)
    if (parts.length > 1) {
      const byText = new Map<string, string>()
      for (let i = 1; i + 1 < parts.length; i += 2) byText.set(parts[i]!, parts[i + 1]!)
      sections = [byText.get("1"), byText.get("2")]
    }
  }
  if (sections === undefined) {
    return {
      _tag: "Unparseable",
      reason: `expected "Output for Text 1" / "Rating: …" sections or JSON ratings; found ${quote(text.trim())}`
    }
  }
  if (sections.length !== 2)
    return { _tag: "Unparseable", reason: `expected ratings of 2 texts, found ${sections.length}` }
  const first = ratingFrom(sections[0], min, max)
  const second = ratingFrom(sections[1], min, max)
  if (typeof first === "string") return { _tag: "Unparseable", reason: `text 1: ${first}` }
  if (typeof second === "string") return { _tag: "Unparseable", reason: `text 2: ${second}` }
  return { _tag: "Ratings", first, second }
}
