/**
 * `featurize.hash` — hashed word unigrams and bigrams of the prompt and both responses, for an
 * embedding-bag reward model. No downloads, always available. Ids come from `nodes/lib/text-hash.ts`
 * (`hashText`), the function the train family uses to featurize at scoring time, so they match
 * exactly; `hash_config` carries the config with every row.
 *
 * **Input columns**
 * - `pairs`: `prompt`, `response_a`, `response_b` (utf8); any others pass through. A null text hashes
 *   as an empty one.
 *
 * **Output columns** (`pairs`, main): the input's columns, in input order, plus
 * - `prompt_hash`, `a_hash`, `b_hash` (list<int32>): bucket ids in [0, 2^bucketsLog2), unigrams first
 *   then bigrams, in text order, repeats kept; a text with no word gets one id (never an empty list).
 * - `hash_config` (json): `{"bucketsLog2":18,"unigrams":true,"bigrams":true,"seed":0,"version":1}`,
 *   the same on every row. Columns of these names already in the input are replaced.
 *
 * **Params**
 * - `bucketsLog2` (18): 2^18 to 2^20 buckets.
 * - `unigrams` (true), `bigrams` (true): which n-grams; at least one.
 * - `seed` (0): changes which words collide; seed 0 gives the tfjs-training guide's ids.
 *
 * **Stats**: texts (3 per row), ids (all ids written), mean_ids_per_text, texts_per_second (the node, end
 * to end), hash_texts_per_second (the hashing alone).
 *
 * **Example**
 * ```ts
 * const feats = p.node("hash", featurize.hash({ bucketsLog2: 18 }), { pairs: clean })
 * ```
 */
import { Effect, Schema } from "effect"
import { input, outputLike } from "../../workbench/core/contract.js"
import { defineNode } from "../../workbench/core/node.js"
import { param } from "../../workbench/core/params.js"
import { type HashConfig, HASH_VERSION, hashText } from "../lib/text-hash.js"
import { addJsColumns } from "./columns.js"

export const HashParams = Schema.Struct({
  bucketsLog2: param(
    Schema.Int.check(Schema.isBetween({ minimum: 18, maximum: 20 })),
    18,
    "number of hash buckets as a power of two: 18 (262,144) to 20 (1,048,576)"
  ),
  unigrams: param(Schema.Boolean, true, "hash single words"),
  bigrams: param(Schema.Boolean, true, "hash pairs of adjacent words"),
  seed: param(Schema.Int, 0, "changes FNV-1a's offset basis, so which words collide; 0: the guide's reference ids")
}).check(
  Schema.makeFilter((p: { readonly unigrams: boolean; readonly bigrams: boolean }) =>
    p.unigrams || p.bigrams ? undefined : "unigrams or bigrams (or both) true: with neither every text is one id"
  )
)
export type HashParams = typeof HashParams.Type

export const HASH_COLUMNS = {
  prompt_hash: "list<int32>",
  a_hash: "list<int32>",
  b_hash: "list<int32>",
  hash_config: "json"
} as const

/** The config a run hashes with (what `hash_config` holds). */
export const hashConfigOf = (p: HashParams): HashConfig => ({
  bucketsLog2: p.bucketsLog2,
  unigrams: p.unigrams,
  bigrams: p.bigrams,
  seed: p.seed,
  version: HASH_VERSION
})

/** The three id columns of one window of texts, and the number of ids written. */
export function hashColumns(
  texts: ReadonlyArray<ReadonlyArray<unknown>>,
  rows: number,
  config: HashConfig
): { readonly columns: Array<Array<Int32Array>>; readonly ids: number } {
  let ids = 0
  const columns = texts.map((col) => {
    const out: Array<Int32Array> = new Array(rows)
    for (let i = 0; i < rows; i++) {
      const v = col[i]
      out[i] = hashText(typeof v === "string" ? v : null, config)
      ids += out[i]!.length
    }
    return out
  })
  return { columns, ids }
}

export const hash = defineNode({
  kind: "featurize.hash",
  version: 1,
  summary: "Hashed word unigrams + bigrams of prompt and responses (list<int32> bucket ids) for embedding-bag models",
  params: HashParams,
  inputs: {
    pairs: input({ prompt: "utf8", response_a: "utf8", response_b: "utf8" }, { doc: "the pairs whose texts to hash" })
  },
  outputs: {
    pairs: outputLike("main", "pairs", {
      add: HASH_COLUMNS,
      doc: "input rows with prompt_hash, a_hash, b_hash, hash_config"
    })
  },
  run: ({ params, inputs }) =>
    Effect.gen(function* () {
      const config = hashConfigOf(params)
      const json = JSON.stringify(config)
      let ids = 0,
        hashMs = 0
      const started = performance.now()
      const hashed = yield* addJsColumns("featurize_hash", inputs.pairs, {
        read: ["prompt", "response_a", "response_b"],
        added: [
          { name: "prompt_hash", type: "list<int32>" },
          { name: "a_hash", type: "list<int32>" },
          { name: "b_hash", type: "list<int32>" },
          { name: "hash_config", type: "json" }
        ],
        unit: "pairs",
        compute: (texts, rows) => {
          const t0 = performance.now()
          const r = hashColumns(texts, rows, config)
          hashMs += performance.now() - t0
          ids += r.ids
          return [...r.columns, new Array<string>(rows).fill(json)]
        }
      })
      const texts = inputs.pairs.rows * 3
      const seconds = (performance.now() - started) / 1000
      return {
        tables: { pairs: hashed },
        stats: {
          texts,
          ids,
          mean_ids_per_text: texts === 0 ? 0 : Math.round((ids / texts) * 100) / 100,
          texts_per_second: seconds === 0 ? 0 : Math.round(texts / seconds),
          hash_texts_per_second: hashMs === 0 ? 0 : Math.round(texts / (hashMs / 1000))
        }
      }
    })
})
