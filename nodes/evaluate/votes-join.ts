/**
 * The votes-based evaluate nodes (winRate, agreement) read each vote beside its pair row and its
 * rater's row: `v` (the vote), `p` (the pair row it counts for, by source_row else pair_id, as every
 * family attributes votes) and `r` (the raters table's row of its rater, when connected).
 */
import { input } from "../../workbench/core/contract.js"
import type { InputTable } from "../../workbench/core/node.js"
import { votesOnRowsSql } from "../lib/vote-rows.js"
import type { ColumnSource } from "./columns.js"

export const votesIn = (doc: string) =>
  input(
    { pair_id: "utf8", rater: "utf8" },
    {
      optional: { vote: "utf8", p_a: "float64", rater_kind: "utf8", order: "utf8", meta: "json", source_row: "int64" },
      many: true,
      doc
    }
  )

export const ratersIn = () =>
  input(
    { rater: "utf8" },
    {
      optional: { rater_kind: "utf8", attributes: "json" },
      many: true,
      optionalInput: true,
      doc: "the raters tables (judge nodes' raters): their columns and attributes.<key> can slice the metrics"
    }
  )

/** The column sources of a vote query, in lookup order: the vote, its rater, its pair. */
export const voteSources = (
  votes: InputTable,
  pairs: InputTable,
  raters: InputTable | undefined
): ReadonlyArray<ColumnSource> => [
  { alias: "v", schema: votes.schema, name: "votes" },
  ...(raters === undefined ? [] : [{ alias: "r", schema: raters.schema, name: "raters" }]),
  { alias: "p", schema: pairs.schema, name: "pairs" }
]

/** SQL: `select` (over aliases v, p, r) from every vote joined to its pair row and rater, in vote order. */
export function votesJoinedSql(
  select: string,
  votes: InputTable,
  pairs: InputTable,
  raters: InputTable | undefined,
  where = "TRUE"
): string {
  const onRows = votesOnRowsSql(pairs, votes)
  const r =
    raters === undefined
      ? ""
      : `LEFT JOIN (SELECT * FROM ${raters.relation} QUALIFY row_number() OVER (PARTITION BY rater) = 1) r ON r.rater = v.rater`
  return `SELECT ${select} FROM (${onRows}) v JOIN ${pairs.numbered} p ON p._wb_row = v._wb_row ${r}
    WHERE ${where} ORDER BY v._wb_vote, v._wb_row`
}
