/**
 * `featurize.language` — the language of one text of each pair, as an ISO 639-3 code, so every metric
 * can be sliced per language (multilingual preference sets: Okapi, xLLMs-100). Offline: `franc` 6.2
 * (trigram models of 187 languages inside the npm package, nothing downloaded), loaded on first use.
 *
 * **Input columns**
 * - `pairs`: the column `text` names (utf8, default `prompt`); any others pass through.
 *
 * **Output columns** (`pairs`, main): the input's columns, in input order, plus
 * - `language` (utf8): ISO 639-3 (`eng`, `deu`, `cmn`, `jpn`, …); `und` (undetermined) when the text
 *   is null or shorter than `minLength` characters (after trimming), or franc cannot tell. A column of
 *   that name already in the input is replaced.
 *
 * **Params**
 * - `text` ("prompt"): which text to identify: prompt | response_a | response_b.
 * - `minLength` (10): shorter texts are `und` (trigram statistics of a few characters are noise).
 * - `languages` ("common"): which languages franc chooses among. "common": the 76 languages of 8M+
 *   speakers (franc-min's set: English, Chinese, Hindi, Spanish, Arabic, Bengali, Tamil, …); "all":
 *   franc's 187 (Basque, Catalan, Danish, Slovak, … too, at the price of more confusions on short
 *   English: on HH prompts 82% eng with "all" against 93% with "common", measured); or a list of
 *   codes (["eng", "deu", "fra"]): a smaller set is more accurate on short texts.
 * - `stripRoles` (true): remove speaker labels at line starts ("Human:", "Assistant:", "User:",
 *   "System:") first: they are English whatever the conversation's language.
 *
 * **Stats**: languages (distinct codes, `und` included), und (rows), top (the five most common,
 * "eng 2301, sco 4, …"), texts_per_second.
 *
 * **Example**
 * ```ts
 * const tagged = p.node("lang", featurize.language({ text: "prompt", minLength: 20 }), { pairs: clean })
 * ```
 *
 * Gotchas: franc reads at most the first 2,048 characters. Chat transcripts (HH's "Human: … Assistant:")
 * carry English role words; identify a field without them when that matters. Close languages
 * (Scots/English, Bokmål/Nynorsk) are often confused on short texts.
 */
import { Effect, Schema } from "effect"
import { input, outputLike } from "../../workbench/core/contract.js"
import { DataError } from "../../workbench/core/errors.js"
import { defineNode } from "../../workbench/core/node.js"
import { param } from "../../workbench/core/params.js"
import { Sql } from "../../workbench/core/services.js"
import { addJsColumns, quoted } from "./columns.js"

/** franc-min 6.2's languages (8M+ speakers), so one dependency serves both sets. */
const COMMON: ReadonlyArray<string> = [
  "amh",
  "arb",
  "azj",
  "bel",
  "ben",
  "bho",
  "bos",
  "bul",
  "ceb",
  "ces",
  "ckb",
  "cmn",
  "deu",
  "ell",
  "eng",
  "fra",
  "fuv",
  "guj",
  "hau",
  "hin",
  "hms",
  "hnj",
  "hrv",
  "hun",
  "ibo",
  "ilo",
  "ind",
  "ita",
  "jav",
  "jpn",
  "kan",
  "kaz",
  "kin",
  "koi",
  "kor",
  "lin",
  "mad",
  "mag",
  "mai",
  "mal",
  "mar",
  "mya",
  "nld",
  "npi",
  "nya",
  "pan",
  "pbu",
  "pes",
  "plt",
  "pol",
  "por",
  "qug",
  "ron",
  "run",
  "rus",
  "sin",
  "skr",
  "som",
  "spa",
  "srp",
  "sun",
  "swe",
  "swh",
  "tam",
  "tel",
  "tgl",
  "tha",
  "tur",
  "ukr",
  "urd",
  "uzn",
  "vie",
  "yor",
  "zlm",
  "zul",
  "zyb"
]

export const LanguageParams = Schema.Struct({
  text: param(Schema.Literals(["prompt", "response_a", "response_b"]), "prompt", "which text to identify"),
  minLength: param(
    Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)),
    10,
    "texts shorter than this many characters (trimmed) are 'und'"
  ),
  languages: param(
    Schema.Union([
      Schema.Literals(["common", "all"]),
      Schema.Array(Schema.String.check(Schema.isPattern(/^[a-z]{3}$/))).check(Schema.isMinLength(1))
    ]),
    "common",
    'languages to choose among: "common" (76 of 8M+ speakers, franc-min\'s set), "all" (franc\'s 187), or ISO 639-3 codes'
  ),
  stripRoles: param(Schema.Boolean, true, 'remove "Human:" / "Assistant:" / "User:" / "System:" line labels first')
})
export type LanguageParams = typeof LanguageParams.Type

type Franc = (value: string, options: { minLength: number; only?: Array<string> }) => string

const ROLES = /(^|\n)[ \t]*(?:Human|Assistant|User|System):/g

/** The language of each text: franc's code, or 'und' for null and short texts. */
export function languagesOf(
  texts: ReadonlyArray<unknown>,
  franc: Franc,
  params: Pick<LanguageParams, "minLength" | "languages" | "stripRoles">
): Array<string> {
  const only = params.languages === "all" ? undefined : params.languages === "common" ? COMMON : params.languages
  const options = { minLength: params.minLength, ...(only === undefined ? {} : { only: [...only] }) }
  return texts.map((t) => {
    if (typeof t !== "string") return "und"
    const s = (params.stripRoles ? t.replace(ROLES, "$1") : t).trim()
    return s.length < params.minLength ? "und" : franc(s, options)
  })
}

export const language = defineNode({
  kind: "featurize.language",
  version: 1,
  summary: "ISO 639-3 language of the prompt (or a response), offline with franc; 'und' when too short",
  params: LanguageParams,
  inputs: {
    pairs: input(
      {},
      { optional: { prompt: "utf8", response_a: "utf8", response_b: "utf8" }, doc: "the text param's column" }
    )
  },
  outputs: { pairs: outputLike("main", "pairs", { add: { language: "utf8" }, doc: "input rows with language" }) },
  run: ({ node, params, inputs }) =>
    Effect.gen(function* () {
      const sql = yield* Sql
      if (!inputs.pairs.schema.open && !inputs.pairs.schema.columns.some((c) => c.name === params.text)) {
        return yield* new DataError({
          where: `node "${node}" (featurize.language), param text`,
          found: `its input pairs has no column ${params.text}`,
          expected: `one of the input's text columns: ${inputs.pairs.schema.columns.map((c) => c.name).join(", ")}`,
          fix: "set text to prompt, response_a or response_b, a column the input has"
        })
      }
      const { franc } = yield* Effect.promise(() => import("franc"))
      const started = performance.now()
      const pairs = yield* addJsColumns("featurize_language", inputs.pairs, {
        read: [params.text],
        added: [{ name: "language", type: "utf8" }],
        unit: "pairs",
        compute: (cols) => [languagesOf(cols[0]!, franc, params)]
      })
      const seconds = (performance.now() - started) / 1000
      const counts = yield* sql.rows<{ language: string; n: number }>(
        `SELECT ${quoted("language")} AS language, count(*)::INTEGER AS n FROM ${pairs} GROUP BY 1 ORDER BY n DESC, language`
      )
      return {
        tables: { pairs },
        stats: {
          languages: counts.length,
          und: counts.find((c) => c.language === "und")?.n ?? 0,
          top: counts
            .slice(0, 5)
            .map((c) => `${c.language} ${c.n}`)
            .join(", "),
          texts_per_second: seconds === 0 ? 0 : Math.round(inputs.pairs.rows / seconds)
        }
      }
    })
})
