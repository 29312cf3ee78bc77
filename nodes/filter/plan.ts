/**
 * The filter family's pure core: the check that a user's `where` is one expression, and the SQL that
 * splits marked rows into kept and removed and lets votes follow their rows.
 */
import type { TableSchema } from "../../workbench/core/contract.js"
import type { SqlRefusal } from "../lib/select-check.js"

export const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`

/**
 * The statement every check and the run use: the expression alone in a select list. Newlines around it,
 * so a `--` comment at its end cannot swallow the closing parenthesis.
 */
export const markSql = (where: string, input: string, keepAll = false) =>
  `SELECT ${keepAll ? "*, " : ""}(\n${where}\n) AS _wb_keep FROM ${quoted(input)}`

/** The same expression as a WHERE, which DuckDB refuses for aggregates and window functions. */
export const whereSql = (where: string, input: string) => `SELECT * FROM ${quoted(input)} WHERE (\n${where}\n)`

interface SelectNode {
  readonly type?: string
  readonly select_list?: ReadonlyArray<unknown>
  readonly where_clause?: unknown
  readonly group_expressions?: ReadonlyArray<unknown>
  readonly having?: unknown
  readonly qualify?: unknown
  readonly modifiers?: ReadonlyArray<unknown>
}

/**
 * Whether the parse tree of `markSql(where, input)` is that statement with one expression in it, so the
 * text cannot close the parenthesis and add clauses of its own (`true) union select …`).
 */
export function expressionRefusal(treeJson: string): SqlRefusal | undefined {
  const tree = JSON.parse(treeJson) as { error: boolean; statements?: ReadonlyArray<{ node?: SelectNode }> }
  if (tree.error) return undefined // checkSelectTree says why
  const node = tree.statements?.[0]?.node
  const single =
    node !== undefined &&
    node.type === "SELECT_NODE" &&
    node.select_list?.length === 1 &&
    node.where_clause === null &&
    (node.group_expressions?.length ?? 0) === 0 &&
    node.having === null &&
    node.qualify === null &&
    (node.modifiers?.length ?? 0) === 0
  return single
    ? undefined
    : {
        found: "text that is not one expression (it closes the parenthesis around it and adds clauses)",
        expected:
          "one SQL boolean expression over the input's columns, e.g. length(prompt) < 2000 and label is not null",
        fix: "write the condition alone; for more than a condition, use transform.sql"
      }
}

/** A `_wb_keep` that is not a boolean, as a refusal (found: its type). */
export const notBoolean = (type: string): SqlRefusal => ({
  found: `an expression of type ${type}, not a condition`,
  expected: "a boolean expression (true keeps the row)",
  fix: "compare the value, e.g. length(prompt) < 2000, or label is not null"
})

export const hasColumn = (schema: TableSchema, name: string) => schema.columns.some((c) => c.name === name)

/** The reason a removed row gets: the param's, or the expression and what it gave (false, or NULL). */
export const reasonSql = (where: string, reason: string | undefined) => {
  const lit = (s: string) => `'${s.replaceAll("'", "''")}'`
  return reason !== undefined
    ? lit(reason)
    : `CASE WHEN _wb_keep IS NULL THEN ${lit(`where ${where}: null`)} ELSE ${lit(`where ${where}: false`)} END`
}

/** SQL of the removed rows, in input order, with their reason (replacing a `reason` column of the input). */
export const removedSql = (marked: string, input: TableSchema, reason: string) =>
  hasColumn(input, "reason")
    ? `SELECT * EXCLUDE (_wb_row, _wb_keep) REPLACE (${reason} AS reason) FROM ${marked} WHERE _wb_keep IS NOT TRUE ORDER BY _wb_row`
    : `SELECT * EXCLUDE (_wb_row, _wb_keep), ${reason} AS reason FROM ${marked} WHERE _wb_keep IS NOT TRUE ORDER BY _wb_row`

/** SQL for the row a vote `v` names (its source_row, or meta.source_row), or undefined when it names none. */
export function voteRowSql(votes: TableSchema): string | undefined {
  const type = (name: string) => votes.columns.find((c) => c.name === name)?.type
  if (type("source_row") !== undefined) return "TRY_CAST(v.source_row AS BIGINT)"
  const fromMeta = "TRY_CAST(json_extract_string(v.meta, '$.source_row') AS BIGINT)"
  if (type("meta") === "json") return fromMeta
  if (type("meta") === "utf8") return `CASE WHEN json_valid(v.meta) THEN ${fromMeta} END`
  return undefined
}

/**
 * SQL of the votes that stay: a vote cast on a row (it names a source_row that exactly one input row
 * with its pair_id has) stays when that row stays; another vote stays when any row with its pair_id
 * stays. A vote on a pair_id the input does not hold stays: the filter removed nothing of it.
 */
export function keptVotesSql(
  marked: string,
  pairs: TableSchema,
  votes: { numbered: string; schema: TableSchema }
): string {
  const byPair = `(SELECT pair_id, bool_or(_wb_keep IS TRUE) AS kept FROM ${marked} GROUP BY pair_id)`
  const voteRow = voteRowSql(votes.schema)
  const byRow =
    voteRow === undefined || !hasColumn(pairs, "source_row")
      ? undefined
      : `(SELECT pair_id, source_row, bool_or(_wb_keep IS TRUE) AS kept FROM ${marked} GROUP BY ALL HAVING count(*) = 1)`
  return `SELECT v.* EXCLUDE (_wb_row) FROM ${votes.numbered} v
    LEFT JOIN ${byPair} p ON p.pair_id = v.pair_id
    ${byRow === undefined ? "" : `LEFT JOIN ${byRow} r ON r.pair_id = v.pair_id AND r.source_row = ${voteRow}`}
    WHERE coalesce(${byRow === undefined ? "" : "r.kept, "}p.kept, true)
    ORDER BY v._wb_row`
}
