/**
 * Build the pairs table from per-row SQL expressions: the one place that lays out pair columns
 * (pair_id, prompt, response_a, response_b, label, label_source, source, source_row, extras).
 */
import { pairIdOfHashesSql, pairIdSql, textHashSql } from "../lib/pair-tables.js"
import type { Extras } from "./extras.js"
import { chosenIsBOfHashesSql, sqlIdent, sqlText } from "./sql.js"

/** A per-side value of a chosen/rejected row, laid out as `<name>_a` / `<name>_b`. */
export interface SideValue {
  readonly name: string
  readonly chosen: string
  readonly rejected: string
}

interface Common {
  /** A relation (table name or parenthesised query) the expressions read. */
  readonly from: string
  readonly where?: string
  readonly prompt: string
  readonly record: string
  readonly source: string
  readonly labelSource: string | null
  /** The prompt as a JSON message list, when the source has one. */
  readonly messages?: string
  /** Further columns, placed after the pair columns: [SQL expression, column name]. */
  readonly extras?: ReadonlyArray<readonly [string, string]>
  /** The source's unmapped fields (`extraColumnsOf`), placed after `extras`; `from` must have `raw`. */
  readonly passThrough?: Extras
  /** `from` is a plain table already in source_row order (a filter keeps DuckDB's insertion order): skip the sort. */
  readonly inOrder?: boolean
  /** Extra ORDER BY keys after source_row: SQL over `from`'s columns. */
  readonly orderBy?: ReadonlyArray<string>
}

export interface ChosenRejectedSpec extends Common {
  readonly chosen: string
  readonly rejected: string
  /** The seed of the side draw: which pairs get the chosen response on side b (see `chosenIsBSql`). */
  readonly seed: number
  readonly sides?: ReadonlyArray<SideValue>
}

export interface SidesSpec extends Common {
  readonly a: string
  readonly b: string
  readonly label: string
}

const orNull = (s: string | null) => (s === null ? "NULL::VARCHAR" : sqlText(s))

const tail = (spec: Common, sideNames: ReadonlyArray<string> = []) =>
  tailOf(spec, [...(spec.extras ?? []), ...(spec.passThrough?.columns ?? [])], sideNames)

/** The relation to read: `from` filtered by `where`, with the pass-through values extracted once per row. */
const source = (spec: Common) => {
  const filtered = `${spec.from} ${spec.where === undefined ? "" : `WHERE ${spec.where}`}`
  return spec.passThrough === undefined ? filtered : `(SELECT *, ${spec.passThrough.select} FROM ${filtered})`
}

const tailOf = (spec: Common, extras: ReadonlyArray<readonly [string, string]>, sideNames: ReadonlyArray<string>) => ({
  messages: spec.messages === undefined ? "" : `, _messages::JSON AS messages`,
  inner: [
    ...extras.map(([e, name]) => `, ${e} AS ${sqlIdent(name)}`),
    ...(spec.orderBy ?? []).map((e, i) => `, ${e} AS _o${i}`)
  ].join(""),
  outer: [...sideNames, ...extras.map(([, name]) => name)].map((n) => `, ${sqlIdent(n)}`).join(""),
  order: ["source_row", ...(spec.orderBy ?? []).map((_, i) => `_o${i}`)].join(", ")
})

/**
 * SELECT of pairs where one response was chosen over the other; sides come from a seeded draw over the
 * texts' hashes, which the pair id is built from too (each text is hashed once).
 */
export function chosenRejectedPairsSql(spec: ChosenRejectedSpec): string {
  const t = tail(
    spec,
    (spec.sides ?? []).flatMap((s) => [`${s.name}_a`, `${s.name}_b`])
  )
  const sides = (spec.sides ?? [])
    .map(
      (s) =>
        `, CASE WHEN _b THEN ${s.rejected} ELSE ${s.chosen} END AS ${s.name}_a, CASE WHEN _b THEN ${s.chosen} ELSE ${s.rejected} END AS ${s.name}_b`
    )
    .join("")
  const id = pairIdOfHashesSql("_hp", "CASE WHEN _b THEN _hr ELSE _hc END", "CASE WHEN _b THEN _hc ELSE _hr END")
  return `SELECT CASE WHEN _p IS NOT NULL AND response_a IS NOT NULL AND response_b IS NOT NULL THEN _id END AS pair_id,
      _p AS prompt, response_a, response_b,
      CASE WHEN _b THEN 'b' ELSE 'a' END AS label, ${orNull(spec.labelSource)} AS label_source,
      ${sqlText(spec.source)} AS source, _r::BIGINT AS source_row${t.messages}${t.outer}
    FROM (SELECT _p, _b, _r, ${id} AS _id, CASE WHEN _b THEN _rej ELSE _cho END AS response_a,
            CASE WHEN _b THEN _cho ELSE _rej END AS response_b
            ${spec.messages === undefined ? "" : `, ${spec.messages} AS _messages`}${sides}${t.inner}
          -- each alias one level down from its use: an alias reused in the same SELECT is re-evaluated at each use
          FROM (SELECT *, ${chosenIsBOfHashesSql(spec.seed, "_hp", "_hc", "_hr")} AS _b
            FROM (SELECT *, ${textHashSql("_p")} AS _hp, ${textHashSql("_cho")} AS _hc, ${textHashSql("_rej")} AS _hr
              FROM (SELECT *, ${spec.prompt} AS _p, ${spec.chosen} AS _cho, ${spec.rejected} AS _rej, ${spec.record} AS _r
                FROM ${source(spec)}))))
    ${spec.inOrder === true ? "" : `ORDER BY ${t.order}`}`
}

/** SELECT of pairs whose sides are given as a and b, with a label expression ('a' | 'b' | 'tie' | NULL). */
export function sidesPairsSql(spec: SidesSpec): string {
  const t = tail(spec)
  return `SELECT ${pairIdSql("_p", "response_a", "response_b")} AS pair_id, _p AS prompt, response_a, response_b,
      _label AS label, CASE WHEN _label IS NULL THEN NULL ELSE ${orNull(spec.labelSource)} END AS label_source,
      ${sqlText(spec.source)} AS source, _r::BIGINT AS source_row${t.messages}${t.outer}
    FROM (SELECT ${spec.prompt} AS _p, ${spec.record} AS _r, ${spec.a} AS response_a, ${spec.b} AS response_b,
            ${spec.label} AS _label${spec.messages === undefined ? "" : `, ${spec.messages} AS _messages`}${t.inner}
          FROM ${source(spec)})
    ${spec.inOrder === true ? "" : `ORDER BY ${t.order}`}`
}
