/**
 * `featurize.embed` — text embeddings of the prompt and both responses, from an OpenAI-compatible
 * `/embeddings` endpoint (OpenAI, vLLM, Ollama, llama.cpp's server, `wb llm serve`) or a GGUF embedding
 * model in process, through the `Llm` service: the judge family's pool, rate limits, retries and
 * durable cache. Each distinct text is embedded once (a prompt shared by many pairs, once), and each
 * vector is cached by a hash of (model, text): a 100k-pair set is embedded once across runs, and a
 * re-run makes no request.
 *
 * **Input columns**
 * - `pairs`: `pair_id`, `prompt`, `response_a`, `response_b` (utf8); any others pass through.
 *
 * **Output columns**
 * - `pairs` (main): the input's columns plus `prompt_embedding`, `a_embedding`, `b_embedding`
 *   (list<float32>, one length for all; the providers here give unit vectors), in input order. A pair
 *   any of whose texts got no vector is not here but in `failures`: never a null vector.
 * - `failures` (removed): `pair_id`, `field` (prompt | response_a | response_b), `reason`, `raw` (the
 *   server's body, trimmed, when there was one); one row per failed text of a pair.
 *
 * **Params**: provider ("openai" | "gguf"), model (name, or the .gguf path), baseUrl (string or list),
 * apiKeyEnv (null), batchSize (64), concurrency (4), requestsPerMinute, tokensPerMinute (null),
 * timeoutSeconds (120), maxRetries (4), dimensions (null: checked equal), maxFailureRate (0.1), threads,
 * contextSize (gguf).
 *
 * **Stats**: texts (distinct), embedded, failed_texts, failed_pairs, dimensions, requests, cache_hits,
 * tokens, texts_per_second.
 *
 * **Example**
 * ```ts
 * const emb = p.node("embed", featurize.embed({ baseUrl: "http://127.0.0.1:11434/v1", model: "nomic-embed-text" }), { pairs: clean })
 * const local = p.node("embed-local", featurize.embed({ provider: "gguf", model: "models/bge-small.gguf" }), { pairs: clean })
 * ```
 *
 * Gotchas: a text longer than the model's context fails (it is not cut), alone: a refused batch is
 * retried text by text. Empty and null texts fail ("nothing to embed").
 */
import { Effect } from "effect"
import { availableParallelism } from "node:os"
import { input, output, outputLike } from "../../workbench/core/contract.js"
import { DataError } from "../../workbench/core/errors.js"
import { Llm } from "../../workbench/core/llm.js"
import { defineNode } from "../../workbench/core/node.js"
import { Progress, Sql, Workspace } from "../../workbench/core/services.js"
import { keptColumns, quoted } from "./columns.js"
import { EmbedParams, modelConfigOf } from "./embed-params.js"
import { checkDimensions, embedTexts } from "./embed-texts.js"

export { EmbedParams } from "./embed-params.js"

export const EMBED_COLUMNS = {
  prompt_embedding: "list<float32>",
  a_embedding: "list<float32>",
  b_embedding: "list<float32>"
} as const

const FIELDS = [
  ["prompt", "prompt_embedding"],
  ["response_a", "a_embedding"],
  ["response_b", "b_embedding"]
] as const

const failureColumns = { pair_id: "utf8", field: "utf8", reason: "utf8", raw: "utf8" } as const

export const embed = defineNode({
  kind: "featurize.embed",
  version: 1,
  summary: "Text embeddings of prompt and responses (list<float32>) from an /embeddings server or a GGUF model, cached",
  params: EmbedParams,
  inputs: {
    pairs: input(
      { pair_id: "utf8", prompt: "utf8", response_a: "utf8", response_b: "utf8" },
      { doc: "the pairs whose prompt and responses to embed" }
    )
  },
  outputs: {
    pairs: outputLike("main", "pairs", { add: EMBED_COLUMNS, doc: "pairs with every text embedded" }),
    failures: output("removed", failureColumns, {
      doc: "one row per text that got no vector: pair_id, field, reason, raw"
    })
  },
  requires: [Llm],
  run: ({ node, kind, params, inputs }) =>
    // scoped: the client (its HTTP agent or model, and its caches) closes, flushed, when the node ends
    Effect.scoped(
      Effect.gen(function* () {
        const sql = yield* Sql
        const progress = yield* Progress
        const where = `node "${node}" (${kind})`
        const config = yield* modelConfigOf(params, where, (yield* Workspace).root, availableParallelism())
        const client = yield* (yield* Llm).open(config, where)
        const rel = inputs.pairs.relation
        // distinct non-empty texts, each embedded once however many pairs share it
        const texts: Array<string> = []
        yield* sql.scan(
          `SELECT DISTINCT t FROM (${FIELDS.map(([f]) => `SELECT ${quoted(f)} AS t FROM ${rel}`).join(" UNION ALL ")}) WHERE t IS NOT NULL AND t <> '' ORDER BY t`,
          (cols, n) => {
            for (let i = 0; i < n; i++) texts.push(cols[0]![i] as string)
          }
        )
        const started = performance.now()
        const { vectors, failures } = yield* embedTexts(client, texts, {
          batchSize: params.batchSize,
          fanOut: config.provider === "openai" ? config.concurrency * config.baseUrls.length : 1,
          onBatch: (done) => progress.rows(done, texts.length, "texts")
        })
        const seconds = (performance.now() - started) / 1000
        const dims = checkDimensions(texts, vectors, params.dimensions, `${where}, embeddings`)
        if (dims instanceof DataError) return yield* dims
        if (texts.length > 0 && failures.size / texts.length > params.maxFailureRate) {
          const [text, f] = failures.entries().next().value!
          return yield* new DataError({
            where,
            found: `${failures.size} of ${texts.length} distinct texts got no vector; the first: ${JSON.stringify(text.slice(0, 60))}: ${f.reason}`,
            expected: `at most ${params.maxFailureRate * 100}% failures (maxFailureRate)`,
            fix: "fix the cause above (server, model, context size) and run again (vectors so far are cached), or raise maxFailureRate"
          })
        }
        const ok = sql.tempName("embed_vectors")
        const embedded = [...vectors.keys()]
        yield* sql.load(
          ok,
          [
            { name: "t", type: "utf8" },
            { name: "v", type: "list<float32>" }
          ],
          [embedded, embedded.map((t) => vectors.get(t)!)]
        )
        const bad = sql.tempName("embed_failed")
        const failed = [...failures.entries()]
        yield* sql.load(
          bad,
          [
            { name: "t", type: "utf8" },
            { name: "reason", type: "utf8" },
            { name: "raw", type: "utf8" }
          ],
          [failed.map(([t]) => t), failed.map(([, f]) => f.reason), failed.map(([, f]) => f.raw)]
        )
        const joins = FIELDS.map(([f], k) => `JOIN ${ok} e${k} ON e${k}.t = p.${quoted(f)}`).join(" ")
        const pairs = yield* sql.create(
          "embed_pairs",
          `SELECT ${keptColumns(
            inputs.pairs.schema,
            FIELDS.map(([, c]) => c)
          )}, ${FIELDS.map(([, c], k) => `e${k}.v AS ${c}`).join(", ")} FROM ${inputs.pairs.numbered} p ${joins} ORDER BY p._wb_row`
        )
        const failureRows = yield* sql.create(
          "embed_failures",
          FIELDS.map(
            ([f]) =>
              `SELECT p.pair_id, '${f}' AS field, CASE WHEN p.${quoted(f)} IS NULL OR p.${quoted(f)} = '' THEN 'nothing to embed: the text is ${"'"}|| CASE WHEN p.${quoted(f)} IS NULL THEN 'null' ELSE 'empty' END ELSE b.reason END AS reason, b.raw, p._wb_row
             FROM ${inputs.pairs.numbered} p LEFT JOIN ${bad} b ON b.t = p.${quoted(f)}
             WHERE p.${quoted(f)} IS NULL OR p.${quoted(f)} = '' OR b.t IS NOT NULL`
          ).join(" UNION ALL ")
        )
        const failuresOut = yield* sql.create(
          "embed_failures_out",
          `SELECT pair_id, field, reason, raw FROM ${failureRows} ORDER BY _wb_row, field`
        )
        const [c] = yield* sql.rows<{ failed_pairs: number }>(
          `SELECT count(DISTINCT pair_id)::INTEGER AS failed_pairs FROM ${failuresOut}`
        )
        const usage = client.usage()
        return {
          tables: { pairs, failures: failuresOut },
          stats: {
            texts: texts.length,
            embedded: vectors.size,
            failed_texts: failures.size,
            failed_pairs: c!.failed_pairs,
            dimensions: dims ?? 0,
            requests: usage.requests,
            cache_hits: usage.cacheHits,
            tokens: usage.promptTokens,
            texts_per_second: seconds === 0 ? 0 : Math.round(texts.length / seconds)
          }
        }
      })
    )
})
