/**
 * judge.recorded's SQL: the judgment records matched to pair rows by id, their verdicts mapped and
 * checked, then split into votes and failures. Pure functions of the params and relation names.
 */
import type { TableSchema } from "../../workbench/core/contract.js"
import { sourceRowSql, sqlIdent, sqlText } from "./rule-votes.js"

export interface RecordedColumns {
  readonly idColumn: string
  readonly pairColumn: string
  readonly verdictColumn: string
  readonly verdicts: Readonly<Record<string, string>>
  readonly pAColumn: string | null
  readonly orderColumn: string | null
  readonly rationaleColumn: string | null
}

/** A JSON path to a top-level key, quoted so any key name works. */
const keyPath = (key: string): string => sqlText(`$."${key.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`)
const field = (key: string | null, type = "VARCHAR") =>
  key === null ? `NULL::${type}` : `json_extract_string(raw, ${keyPath(key)})`

/** Verdict text -> 'a' | 'b' | 'tie' by the mapping (keys trimmed, case ignored); NULL when unknown. */
export const verdictSql = (v: string, verdicts: Readonly<Record<string, string>>): string =>
  `CASE lower(trim(${v})) ${Object.entries(verdicts)
    .map(([k, x]) => `WHEN ${sqlText(k.trim().toLowerCase())} THEN ${sqlText(x)}`)
    .join(" ")} END`

/** The records with their id, verdict and optional values as text (`records`: record, raw). */
export const recordValuesSql = (c: RecordedColumns, records: string): string => `
  SELECT record, ${field(c.idColumn)} AS _id, ${field(c.verdictColumn)} AS _verdict, ${field(c.pAColumn)} AS _p_a_text,
    ${field(c.orderColumn)} AS _order_text, nullif(trim(${field(c.rationaleColumn)}), '') AS _rationale
  FROM ${records}`

/**
 * One row per record x pair_id it matches (the pair rows whose `pairColumn`, as text, equals the
 * record's id): `_row` the one row's source_row (NULL when several rows share that pair_id), `_wb_row`
 * the first row's position, then the verdict mapped and `_reason` when it cannot be a vote.
 */
export const matchedSql = (c: RecordedColumns, values: string, pairs: { numbered: string; schema: TableSchema }) => {
  const pA = "TRY_CAST(_p_a_text AS DOUBLE)"
  const order = "lower(trim(_order_text))"
  return `
  SELECT *, ${verdictSql("_verdict", c.verdicts)} AS _vote,
    CASE WHEN trim(coalesce(_p_a_text, '')) = '' THEN NULL ELSE ${pA} END AS _p_a,
    CASE WHEN ${order} IN ('ab', 'ba') THEN ${order} END AS _order,
    CASE WHEN _verdict IS NULL THEN ${sqlText(`no verdict: ${c.verdictColumn} is missing or null`)}
         WHEN ${verdictSql("_verdict", c.verdicts)} IS NULL
           THEN 'unparseable verdict "' || _verdict || ${sqlText(`" (verdicts maps: ${Object.keys(c.verdicts).join(", ")})`)}
         WHEN trim(coalesce(_p_a_text, '')) <> '' AND NOT coalesce(${pA} BETWEEN 0 AND 1, false)
           THEN 'p_a "' || _p_a_text || '" is not a probability in [0, 1]'
         WHEN trim(coalesce(_order_text, '')) <> '' AND ${order} NOT IN ('ab', 'ba')
           THEN 'order "' || _order_text || '" is not ab or ba'
    END AS _reason,
    CASE WHEN _verdict IS NULL OR ${verdictSql("_verdict", c.verdicts)} IS NULL THEN _verdict
         WHEN trim(coalesce(_p_a_text, '')) <> '' AND NOT coalesce(${pA} BETWEEN 0 AND 1, false) THEN _p_a_text
         ELSE _order_text END AS _raw
  FROM (SELECT v.*, m.pair_id, m._row, m._wb_row FROM ${values} v JOIN (
          SELECT r.record, p.pair_id, CASE WHEN count(*) = 1 THEN min(p._row) END AS _row, min(p._wb_row) AS _wb_row
          FROM ${values} r JOIN (SELECT pair_id, _wb_row, ${sourceRowSql(pairs.schema, "p")} AS _row,
                                   CAST(p.${sqlIdent(c.pairColumn)} AS VARCHAR) AS _key FROM ${pairs.numbered} p) p
            ON p._key = r._id
          GROUP BY r.record, p.pair_id) m USING (record))`
}

/** The votes: matched records with a verdict, in pair row order (then record). */
export const recordedVotesSql = (matched: string, rater: string, raterKind: string, file: string): string => `
  SELECT pair_id, ${sqlText(rater)} AS rater, ${sqlText(raterKind)} AS rater_kind, _vote AS vote, _p_a AS p_a,
    _order AS "order", NULL::BIGINT AS sample,
    json_object('source_row', _row, 'file', ${sqlText(file)}, 'record', record, 'id', _id, 'verdict', _verdict,
      'rationale', _rationale) AS meta
  FROM ${matched} WHERE _reason IS NULL ORDER BY _wb_row, record`

/** The failures: matched records that give no vote, with the raw value (the judge family's failures columns). */
export const recordedFailuresSql = (matched: string, file: string): string => `
  SELECT pair_id, _order AS "order", NULL::BIGINT AS sample, 'judge' AS stage, NULL::VARCHAR AS aspect,
    _reason AS reason, NULL::BIGINT AS status, _raw AS raw, false AS retryable,
    ${sqlText(file)} AS file, record::BIGINT AS record, _id AS id
  FROM ${matched} WHERE _reason IS NOT NULL ORDER BY _wb_row, record`

/** Counts: records, matched records, unmatched records (id on no pair row), pair rows no record matched. */
export const matchStatsSql = (
  values: string,
  matched: string,
  pairs: { numbered: string; schema: TableSchema },
  c: RecordedColumns
) => `
  SELECT (SELECT count(*) FROM ${values}) AS records,
    (SELECT count(DISTINCT record) FROM ${matched}) AS records_matched,
    (SELECT count(*) FROM ${values} WHERE record NOT IN (SELECT record FROM ${matched})) AS records_unmatched,
    (SELECT count(*) FROM ${pairs.numbered} p WHERE CAST(p.${sqlIdent(c.pairColumn)} AS VARCHAR) NOT IN
       (SELECT _id FROM ${values} WHERE _id IS NOT NULL)) AS pairs_unjudged`
