/**
 * The core of the preference exports (TRL, OpenRLHF): pairs turned chosen/rejected, the reason each
 * left-out pair was left out, and the trainer's layout built in SQL. Pure: params and column names in,
 * SQL text out; `preferenceRows` runs it.
 */
import { Effect } from "effect"
import type { ColumnType } from "../../workbench/core/column-type.js"
import type { TableSchema } from "../../workbench/core/contract.js"
import { DataError } from "../../workbench/core/errors.js"
import type { InputTable } from "../../workbench/core/node.js"
import { Sql } from "../../workbench/core/services.js"

export type Layout = "explicit" | "implicit" | "conversational" | "conversational-implicit"

export interface LayoutOptions {
  readonly layout: Layout
  readonly turnMarkers: "restore" | "none"
  readonly separator: string
  /** Output names of the three fields; `prompt` is unused by the implicit layouts. */
  readonly keys: { readonly prompt: string; readonly chosen: string; readonly rejected: string }
  /** The column written as `margin`, if any. */
  readonly margin?: string
  readonly keep: ReadonlyArray<string>
}

export const sqlText = (s: string): string => `'${s.replaceAll("'", "''")}'`
export const sqlIdent = (s: string): string => `"${s.replaceAll('"', '""')}"`

const NL2 = "chr(10) || chr(10)"
const HH = "_fmt IN ('hh-turn', 'hh-dialogue')"

/**
 * Every input row in input order, with `_chosen`, `_rejected`, `_fmt` (prompt_format) and `_reason`:
 * NULL for a pair that is written, else why it is not. `has`: whether the input has a column.
 */
export const orientSql = (numbered: string, has: (c: string) => boolean): string => {
  const label = has("label") ? "label" : "NULL::VARCHAR"
  return `SELECT *,
      CASE ${label} WHEN 'a' THEN response_a WHEN 'b' THEN response_b END AS _chosen,
      CASE ${label} WHEN 'a' THEN response_b WHEN 'b' THEN response_a END AS _rejected,
      ${has("prompt_format") ? "prompt_format::VARCHAR" : "NULL::VARCHAR"} AS _fmt,
      CASE WHEN ${label} IS NULL THEN 'unlabeled' WHEN ${label} = 'tie' THEN 'tie'
           WHEN ${label} NOT IN ('a', 'b') THEN 'unknown label "' || ${label} || '"'
           WHEN prompt IS NULL OR response_a IS NULL OR response_b IS NULL THEN 'missing prompt or response'
           WHEN response_a = response_b THEN 'identical responses' END AS _reason
    FROM ${numbered}`
}

/**
 * The prompt as chat messages: the input's `messages` list where it has one; an HH dialogue split at
 * its "\n\nHuman: " / "\n\nAssistant: " markers into user and assistant turns (which `load.trl` renders
 * back to the same text); otherwise one user message.
 */
const messagesSql = (has: (c: string) => boolean) => {
  const s = `(${NL2} || prompt)`
  const roles = `regexp_extract_all(${s}, '\\n\\n(Human|Assistant): ', 1)`
  const parts = `regexp_split_to_array(${s}, '\\n\\n(?:Human|Assistant): ')`
  const turns = `to_json(list_transform(list_zip(${roles}, ${parts}[2:]),
      lambda t: {'role': CASE t[1] WHEN 'Human' THEN 'user' ELSE 'assistant' END, 'content': t[2]}))`
  return `CASE ${has("messages") ? "WHEN messages IS NOT NULL THEN messages::JSON" : ""}
      WHEN _fmt = 'hh-dialogue' AND ${parts}[1] = '' AND len(${roles}) > 1 THEN ${turns}
      ELSE json_array(json_object('role', 'user', 'content', prompt)) END`
}

const assistant = (x: string) => `json_object('role', 'assistant', 'content', ${x})`

/** The written fields of one pair, in the layout's order: [SQL expression, output name]. */
export function layoutColumns(o: LayoutOptions, has: (c: string) => boolean): Array<readonly [string, string]> {
  const restore = o.turnMarkers === "restore"
  const prompt = restore
    ? `CASE _fmt WHEN 'hh-turn' THEN ${NL2} || 'Human: ' || prompt || ${NL2} || 'Assistant:'
         WHEN 'hh-dialogue' THEN ${NL2} || prompt || ${NL2} || 'Assistant:' ELSE prompt END`
    : "prompt"
  const reply = (x: string) => (restore ? `CASE WHEN ${HH} THEN ' ' || ${x} ELSE ${x} END` : x)
  const sep = restore ? `CASE WHEN ${HH} THEN '' ELSE ${sqlText(o.separator)} END` : sqlText(o.separator)
  const k = o.keys
  const fields: Array<readonly [string, string]> =
    o.layout === "explicit"
      ? [
          [prompt, k.prompt],
          [reply("_chosen"), k.chosen],
          [reply("_rejected"), k.rejected]
        ]
      : o.layout === "implicit"
        ? [
            [`${prompt} || ${sep} || ${reply("_chosen")}`, k.chosen],
            [`${prompt} || ${sep} || ${reply("_rejected")}`, k.rejected]
          ]
        : o.layout === "conversational"
          ? [
              [messagesSql(has), k.prompt],
              [`json_array(${assistant("_chosen")})`, k.chosen],
              [`json_array(${assistant("_rejected")})`, k.rejected]
            ]
          : [
              [`to_json(list_concat(json_extract(${messagesSql(has)}, '$[*]'), [${assistant("_chosen")}]))`, k.chosen],
              [
                `to_json(list_concat(json_extract(${messagesSql(has)}, '$[*]'), [${assistant("_rejected")}]))`,
                k.rejected
              ]
            ]
  return [
    ...fields,
    ...(o.margin === undefined ? [] : [[`TRY_CAST(${sqlIdent(o.margin)} AS DOUBLE)`, "margin"] as const]),
    ...o.keep.map((c) => [sqlIdent(c), c] as const)
  ]
}

/**
 * The columns `rowsSql` writes, from what is known of the input before anything runs, or the param
 * naming a column the input lacks. `margin`: the param ("auto", "none" or a column).
 */
export function rowsSchema(
  o: Omit<LayoutOptions, "margin"> & { readonly margin: string },
  input: TableSchema
): TableSchema | DataError {
  const has = (c: string) => input.columns.some((x) => x.name === c)
  const lacking = (param: string, c: string) =>
    new DataError({
      where: `param ${param}`,
      found: `its input has no column "${c}"`,
      expected: `a column of the input: ${input.columns.map((x) => x.name).join(", ")}`,
      fix: "name an input column, or add it upstream"
    })
  if (!input.open) {
    const named = [
      ...(o.margin === "auto" || o.margin === "none" ? [] : [["margin", o.margin] as const]),
      ...o.keep.map((c) => ["keep", c] as const)
    ]
    const missing = named.find(([, c]) => !has(c))
    if (missing !== undefined) return lacking(missing[0], missing[1])
  }
  const text: ColumnType = o.layout.startsWith("conversational") ? "json" : "utf8"
  const k = o.keys
  const fields =
    o.layout === "explicit" || o.layout === "conversational" ? [k.prompt, k.chosen, k.rejected] : [k.chosen, k.rejected]
  const margin = o.margin === "none" ? [] : o.margin !== "auto" || has("margin") ? ["margin"] : []
  return {
    columns: [
      ...fields.map((name) => ({ name, type: text })),
      ...margin.map((name) => ({ name, type: "float64" as ColumnType })),
      ...o.keep.map((name) => ({
        name,
        type: input.columns.find((x) => x.name === name)?.type ?? ("any" as ColumnType)
      }))
    ],
    // an open input may bring a margin column that "auto" then writes
    open: input.open && o.margin === "auto" && !has("margin")
  }
}

/** The SELECT of the written rows, in input order. */
export const rowsSql = (oriented: string, o: LayoutOptions, has: (c: string) => boolean): string =>
  `SELECT ${layoutColumns(o, has)
    .map(([e, name]) => `${e} AS ${sqlIdent(name)}`)
    .join(", ")}
   FROM ${oriented} WHERE _reason IS NULL ORDER BY _wb_row`

/** The SELECT of the left-out rows: the input's columns and `reason`, in input order. */
export const removedSql = (oriented: string, has: (c: string) => boolean): string =>
  `SELECT * EXCLUDE (_chosen, _rejected, _fmt, _reason, _wb_row${has("reason") ? ", reason" : ""}), _reason AS reason
   FROM ${oriented} WHERE _reason IS NOT NULL ORDER BY _wb_row`

export interface PairsContext {
  readonly node: string
  readonly kind: string
}

/** The first left-out pair with one of `reasons`, described for a message (NULL when none). */
const firstWith = (oriented: string, reasons: ReadonlyArray<string>, has: (c: string) => boolean) =>
  Effect.gen(function* () {
    const sql = yield* Sql
    const extra = ["source", "source_row"]
      .filter(has)
      .map((c) => `, ${c}`)
      .join("")
    const [row] = yield* sql.rows<Record<string, unknown>>(`SELECT count(*) OVER () AS n, pair_id, _reason${extra}
      FROM ${oriented} WHERE _reason IN (${reasons.map(sqlText).join(", ")}) ORDER BY _wb_row LIMIT 1`)
    if (row === undefined) return undefined
    const at = ["source", "source_row"]
      .filter((c) => row[c] !== undefined && row[c] !== null)
      .map((c) => `${c} ${String(row[c])}`)
    return {
      n: Number(row["n"]),
      text: `pair_id ${String(row["pair_id"])}${at.length > 0 ? ` (${at.join(", ")})` : ""}: ${String(row["_reason"])}`
    }
  })

/**
 * Orient the pairs, fail on ties / identical responses where the params say so, and create the
 * written rows and the removed rows. `kept`: the input rows that were written (for the card's counts).
 */
export const preferenceRows = (
  ctx: PairsContext,
  input: InputTable,
  o: LayoutOptions & { readonly ties: "drop" | "error"; readonly identical: "drop" | "error" }
) =>
  Effect.gen(function* () {
    const sql = yield* Sql
    const names = new Set(input.schema.columns.map((c) => c.name))
    const has = (c: string) => names.has(c)
    const missing = [...(o.margin === undefined ? [] : [o.margin]), ...o.keep].filter((c) => !has(c))
    if (missing.length > 0) {
      return yield* new DataError({
        where: `node "${ctx.node}" (${ctx.kind}) param ${o.keep.includes(missing[0]!) ? "keep" : "margin"}`,
        found: `the input has no column ${missing.map((c) => `"${c}"`).join(", ")}`,
        expected: `columns of the input: ${[...names].join(", ")}`,
        fix: "name an input column, or add it upstream"
      })
    }
    const oriented = yield* sql.create("oriented", orientSql(input.numbered, has))
    const checks = [
      {
        param: "ties",
        on: o.ties,
        reasons: ["tie", "unlabeled"],
        what: "tied or unlabeled pair(s)",
        want: "every pair labeled 'a' or 'b'"
      },
      {
        param: "identical",
        on: o.identical,
        reasons: ["identical responses"],
        what: "pair(s) with two identical responses",
        want: "chosen and rejected differ in every pair"
      }
    ]
    for (const c of checks.filter((c) => c.on === "error")) {
      const first = yield* firstWith(oriented, c.reasons, has)
      if (first !== undefined) {
        return yield* new DataError({
          where: `node "${ctx.node}" (${ctx.kind}) param ${c.param}: "error"`,
          found: `${first.n} ${c.what}; the first is ${first.text}`,
          expected: `${c.want}, since ${c.param} is "error"`,
          fix: `set ${c.param}: "drop" to leave them out (they go to the removed table with their reason), or fix them upstream`
        })
      }
    }
    const rows = yield* sql.create("rows", rowsSql(oriented, o, has))
    const removed = yield* sql.create("removed", removedSql(oriented, has))
    const kept = yield* sql.create("kept", `SELECT * FROM ${oriented} WHERE _reason IS NULL`)
    const [restored] = yield* sql.rows<{ n: number }>(`SELECT count(*)::BIGINT AS n FROM ${kept} WHERE ${HH}`)
    yield* sql.run(`DROP TABLE ${oriented}`)
    return { rows, removed, kept, hhPrompts: restored?.n ?? 0 }
  })
