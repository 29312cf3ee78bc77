/**
 * The `removed` table of the load family: source records that are neither a pair nor a reject, each
 * with why, so that rows in = rows out + rejected + removed holds for every loader.
 *
 * Reasons:
 * - `merged-into`: the record repeats a pair already loaded (same prompt, response_a and response_b:
 *   the same pair_id), so it adds a vote to that pair, not a row. `kept_pair_id` / `kept_source_row`
 *   name the pair it went to; the record's own columns (its generators, its own verdict as `label`)
 *   stay here, and its vote keeps them in `meta`.
 * - `no-pair`: the record is well-formed but its pairing rule gives no pair (OASST: no two ranked
 *   sibling replies; UltraFeedback: no completion scored below the best). Its response columns are NULL.
 * - `vote-only`: the record is a vote on a pair it names by pair_id alone (load.votes): its vote is in
 *   votes, the pair comes from another loader. Its text columns are NULL.
 */
import { output } from "../../workbench/core/contract.js"
import { pairColumns } from "../lib/pair-tables.js"
import { sqlText } from "./sql.js"

export const removedColumns = {
  ...pairColumns,
  reason: "utf8",
  kept_pair_id: "utf8",
  kept_source_row: "int64"
} as const

/** The removed output of a loader: open, as loaders add their own columns (generators, file). */
export const removedOutput = () =>
  output("removed", removedColumns, {
    open: true,
    doc: "source records folded into another pair (merged-into, with the kept pair) or giving no pair (no-pair)"
  })

/** SQL creating an empty removed table with the contract's columns. */
export const createEmptyRemovedSql = (table: string): string =>
  `CREATE TABLE ${table} (pair_id VARCHAR, prompt VARCHAR, response_a VARCHAR, response_b VARCHAR, label VARCHAR,
    label_source VARCHAR, source VARCHAR, source_row BIGINT, reason VARCHAR, kept_pair_id VARCHAR, kept_source_row BIGINT)`

/** SELECT of `no-pair` rows: one per row of `from` (a relation with the `record` column), prompt from `prompt`. */
export const noPairSql = (from: string, prompt: string, source: string): string =>
  `SELECT NULL::VARCHAR AS pair_id, ${prompt} AS prompt, NULL::VARCHAR AS response_a, NULL::VARCHAR AS response_b,
      NULL::VARCHAR AS label, NULL::VARCHAR AS label_source, ${sqlText(source)} AS source, record::BIGINT AS source_row,
      'no-pair' AS reason, NULL::VARCHAR AS kept_pair_id, NULL::BIGINT AS kept_source_row
    FROM ${from} ORDER BY source_row`
