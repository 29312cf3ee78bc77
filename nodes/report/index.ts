/**
 * Report family: tables that summarise a pipeline's data for people to read or plot.
 *
 * `report.summary` — one row per (source, metric): how many pairs each source kept, their labels, how
 * many rows were removed by each reason and how many records were rejected.
 *
 * **Input columns**
 * - `pairs` (many): source, label, response_a, response_b — the pairs that survived
 * - `loaded` (optional, many): source, response_a, response_b — the pairs as loaded, before cleaning
 * - `removed` (optional, many): source, reason — what a dedupe or filter node removed
 * - `rejects` (optional, many): file, reason — records a loader refused
 *
 * **Output columns**
 * - `summary`: source (utf8), metric (utf8), value (int64)
 *
 * **Params** none
 *
 * **Stats** sources, metrics
 *
 * **Example**
 * ```ts
 * p.node("summary", report.summary(), {
 *   pairs: clean, loaded: [hh, panda], removed: clean.removed, rejects: [hh.rejects, panda.rejects]
 * })
 * ```
 */
import { Effect, Schema } from "effect"
import { input, output } from "../../workbench/core/contract.js"
import { defineNode } from "../../workbench/core/node.js"
import { Sql } from "../../workbench/core/services.js"

export const SummaryParams = Schema.Struct({})
export type SummaryParams = typeof SummaryParams.Type

/** SQL for the summary of the given relations (pure: text in, text out). */
export function summarySql(
  pairs: string,
  loaded: string | undefined,
  removed: string | undefined,
  rejects: string | undefined
): string {
  const parts = [
    `SELECT coalesce(source, '(none)') AS source, 'pairs kept' AS metric, count(*) AS value FROM ${pairs} GROUP BY 1`,
    `SELECT coalesce(source, '(none)'), 'label ' || coalesce(label, 'none'), count(*) FROM ${pairs} GROUP BY 1, 2`,
    `SELECT coalesce(source, '(none)'), 'pairs with an empty response', count(*) FROM ${pairs}
       WHERE response_a = '' OR response_b = '' GROUP BY 1`
  ]
  if (loaded !== undefined) {
    parts.push(
      `SELECT coalesce(source, '(none)'), 'loaded: pairs', count(*) FROM ${loaded} GROUP BY 1`,
      `SELECT coalesce(source, '(none)'), 'loaded: pairs with an empty response', count(*) FROM ${loaded}
         WHERE response_a = '' OR response_b = '' GROUP BY 1`
    )
  }
  if (removed !== undefined) {
    parts.push(`SELECT coalesce(source, '(none)'), 'removed: ' || reason, count(*) FROM ${removed} GROUP BY 1, 2`)
  }
  if (rejects !== undefined) {
    parts.push(`SELECT 'file ' || regexp_extract(file, '[^/]+$'), 'rejected: ' || split_part(reason, ':', 1), count(*)
       FROM ${rejects} GROUP BY 1, 2`)
  }
  return `SELECT source, metric, value::BIGINT AS value FROM (${parts.join(" UNION ALL ")}) ORDER BY source, metric`
}

export const summary = defineNode({
  kind: "report.summary",
  version: 1,
  summary: "Per-source counts: pairs loaded and kept, labels, empty responses, removed by reason, rejected",
  params: SummaryParams,
  inputs: {
    pairs: input(
      { response_a: "utf8", response_b: "utf8" },
      {
        optional: { source: "utf8", label: "utf8" },
        many: true,
        doc: "the pairs that survived (kept, labels, empty responses)"
      }
    ),
    loaded: input(
      { response_a: "utf8", response_b: "utf8" },
      {
        optional: { source: "utf8" },
        many: true,
        optionalInput: true,
        doc: "the pairs as loaded, before cleaning"
      }
    ),
    removed: input(
      { reason: "utf8" },
      {
        optional: { source: "utf8" },
        many: true,
        optionalInput: true,
        doc: "what dedupe or filter nodes removed, counted by reason"
      }
    ),
    rejects: input(
      { file: "utf8", reason: "utf8" },
      { many: true, optionalInput: true, doc: "records loaders refused" }
    )
  },
  outputs: {
    summary: output(
      "main",
      { source: "utf8", metric: "utf8", value: "int64" },
      { doc: "one row per source and metric" }
    )
  },
  run: ({ inputs }) =>
    Effect.gen(function* () {
      const sql = yield* Sql
      const withSource = (rel: string, has: boolean) => (has ? rel : `(SELECT *, NULL::VARCHAR AS source FROM ${rel})`)
      const pairs = inputs.pairs
      const hasCol = (t: typeof pairs, c: string) => t.schema.columns.some((x) => x.name === c)
      const pairsRel = hasCol(pairs, "label")
        ? withSource(pairs.relation, hasCol(pairs, "source"))
        : `(SELECT *, NULL::VARCHAR AS label FROM ${withSource(pairs.relation, hasCol(pairs, "source"))})`
      const removed = inputs.removed
      const loaded = inputs.loaded
      const table = yield* sql.create(
        "summary",
        summarySql(
          pairsRel,
          loaded === undefined ? undefined : withSource(loaded.relation, hasCol(loaded, "source")),
          removed === undefined ? undefined : withSource(removed.relation, hasCol(removed, "source")),
          inputs.rejects?.relation
        )
      )
      const counts = yield* sql.rows<{ sources: number; metrics: number }>(
        `SELECT count(DISTINCT source)::INTEGER AS sources, count(*)::INTEGER AS metrics FROM ${table}`
      )
      return {
        tables: { summary: table },
        stats: { sources: counts[0]?.sources ?? 0, metrics: counts[0]?.metrics ?? 0 }
      }
    })
})

export const report = { summary }
