import { Effect, Schema } from "effect"
import { didYouMean } from "../../workbench/core/did-you-mean.js"
import { DataError } from "../../workbench/core/errors.js"
import { param } from "../../workbench/core/params.js"
import { Sql } from "../../workbench/core/services.js"
import { checkRecords, type FieldCheck } from "./check.js"
import { defineLoader } from "./define.js"
import { extraColumnsOf, recordStructure } from "./extras.js"
import {
  fileStem,
  FormatParam,
  LabelSourceParam,
  GlobParam,
  type LoadContext,
  MaxRejectRateParam,
  PathsParam,
  SeedParam,
  where
} from "./files.js"
import { chosenRejectedPairsSql, sidesPairsSql } from "./pairs.js"
import { messagesFieldProblemSql } from "./messages.js"
import { keyPath, renderMessagesSql, sqlText } from "./sql.js"

const field = (what: string) => Schema.optionalKey(Schema.String).annotate({ description: what })

export const ColumnMap = Schema.Struct({
  prompt: field('field holding the prompt (a string, or a list of {role, content} messages); default "prompt"'),
  chosen: field("field holding the preferred response (with rejected; sides are then drawn by seed)"),
  rejected: field("field holding the dispreferred response"),
  response_a: field('field holding response a; default "response_a"'),
  response_b: field('field holding response b; default "response_b"'),
  label: field('field holding which side won (values mapped by the labels param); default "label" when present')
})
export type ColumnMap = typeof ColumnMap.Type

const DEFAULT_LABELS: Record<string, "a" | "b" | "tie"> = {
  a: "a",
  b: "b",
  tie: "tie",
  model_a: "a",
  model_b: "b",
  "tie (bothbad)": "tie"
}

export const TableParams = Schema.Struct({
  path: PathsParam("the file to load (JSONL, JSON array, CSV or Parquet, optionally .gz)"),
  glob: GlobParam,
  format: FormatParam,
  columns: param(
    Schema.NullOr(ColumnMap),
    null,
    "which fields hold prompt and responses: { prompt, chosen, rejected } or { prompt, response_a, response_b, label }; " +
      "null: use those names as they are in the file"
  ),
  labels: param(
    Schema.Record(Schema.String, Schema.Literals(["a", "b", "tie"])),
    DEFAULT_LABELS,
    "label values (compared case-insensitively, trimmed) -> 'a' | 'b' | 'tie'; an empty or null label means unlabelled"
  ),
  csv: param(
    Schema.NullOr(
      Schema.Struct({
        delimiter: Schema.optionalKey(Schema.String.check(Schema.isMinLength(1))),
        quote: Schema.optionalKey(Schema.String),
        escape: Schema.optionalKey(Schema.String)
      })
    ),
    null,
    "CSV dialect: { delimiter, quote, escape }; null (and any part left out): the delimiter guessed from the header " +
      "(, tab ; |; tab for .tsv), RFC 4180 quoting (quote '\"', escape '\"'); quote \"\" turns quoting off"
  ),
  source: param(
    Schema.NullOr(Schema.String),
    null,
    "dataset name for the source column; null: the name of the file the record comes from, without extensions"
  ),
  seed: SeedParam,
  labelSource: LabelSourceParam,
  maxRejectRate: MaxRejectRateParam
})
export type TableParams = typeof TableParams.Type

type Mapping =
  | { readonly mode: "chosen"; readonly prompt: string; readonly chosen: string; readonly rejected: string }
  | { readonly mode: "sides"; readonly prompt: string; readonly a: string; readonly b: string; readonly label?: string }

/**
 * Decide which fields are prompt and responses, and check that the file has them. No fields at all
 * (an empty file, or every record unreadable): nothing to check, the given or default mapping stands.
 */
export function resolveColumns(
  ctx: LoadContext,
  columns: ColumnMap | null,
  keys: ReadonlyArray<string>
): Mapping | DataError {
  const has = (k: string) => keys.includes(k)
  let mapping: Mapping
  if (columns === null) {
    if (keys.length === 0 || (has("chosen") && has("rejected")))
      mapping = { mode: "chosen", prompt: "prompt", chosen: "chosen", rejected: "rejected" }
    else if (has("response_a") && has("response_b")) {
      mapping = {
        mode: "sides",
        prompt: "prompt",
        a: "response_a",
        b: "response_b",
        ...(has("label") ? { label: "label" } : {})
      }
    } else {
      return new DataError({
        where: where(ctx, "param columns"),
        found: `cannot tell which fields hold the prompt and the responses; the file has: ${keys.join(", ") || "(no fields)"}`,
        expected: "fields prompt, chosen, rejected, or prompt, response_a, response_b (and optionally label)",
        fix: `set columns, e.g. columns: { prompt: "${keys[0] ?? "question"}", chosen: "…", rejected: "…" }`
      })
    }
  } else if (columns.chosen !== undefined || columns.rejected !== undefined) {
    if (columns.label !== undefined || columns.response_a !== undefined || columns.response_b !== undefined) {
      return new DataError({
        where: where(ctx, "param columns"),
        found: "both chosen/rejected and response_a/response_b/label are mapped",
        expected: "either { prompt, chosen, rejected } or { prompt, response_a, response_b, label }",
        fix: "keep one of the two mappings"
      })
    }
    mapping = {
      mode: "chosen",
      prompt: columns.prompt ?? "prompt",
      chosen: columns.chosen ?? "chosen",
      rejected: columns.rejected ?? "rejected"
    }
  } else {
    const label = columns.label ?? (has("label") ? "label" : undefined)
    mapping = {
      mode: "sides",
      prompt: columns.prompt ?? "prompt",
      a: columns.response_a ?? "response_a",
      b: columns.response_b ?? "response_b",
      ...(label === undefined ? {} : { label })
    }
  }
  const roles: Array<[string, string]> =
    mapping.mode === "chosen"
      ? [
          ["prompt", mapping.prompt],
          ["chosen", mapping.chosen],
          ["rejected", mapping.rejected]
        ]
      : [
          ["prompt", mapping.prompt],
          ["response_a", mapping.a],
          ["response_b", mapping.b],
          ...(mapping.label ? [["label", mapping.label] as [string, string]] : [])
        ]
  const missing = keys.length === 0 ? undefined : roles.find(([, name]) => !has(name))
  if (missing !== undefined) {
    const hint = didYouMean(missing[1], keys)
    return new DataError({
      where: where(ctx, `param columns.${missing[0]}`),
      found: `the file has no field "${missing[1]}"; its fields: ${keys.join(", ") || "(none)"}`,
      expected: `a field holding the ${missing[0].replace("_", " ")}`,
      fix: `${hint === "" ? "" : `${hint} `}set columns.${missing[0]} to one of the file's fields`
    })
  }
  return mapping
}

const str = (name: string) => `json_extract_string(raw, ${sqlText(keyPath(name))})`

/** Label value -> 'a' | 'b' | 'tie', NULL when absent or unknown. */
const labelSql = (v: string, labels: Readonly<Record<string, string>>) =>
  `CASE lower(trim(${v})) ${Object.entries(labels)
    .map(([k, l]) => `WHEN ${sqlText(k.trim().toLowerCase())} THEN ${sqlText(l)}`)
    .join(" ")} END`

/**
 * Load any table of preference pairs, mapping its fields onto the pairs columns.
 *
 * Two shapes: chosen/rejected (sides drawn by a seeded hash, label = the chosen side) or
 * response_a/response_b with an optional label field whose values the `labels` param maps to
 * 'a' | 'b' | 'tie'. With `columns: null` the file's own field names decide. A prompt may be a
 * message list: it is kept in `messages` and rendered as text. Every unmapped field passes through.
 *
 * **Input columns**: none (reads `path`).
 *
 * **Output columns**
 * - `pairs`: pair_id, prompt, response_a, response_b, label, label_source (param; NULL where the
 *   label is), source, source_row, messages (JSON or NULL), then the unmapped fields, typed over all
 *   records (CSV fields are text; a name clashing with a pairs column gets a `src_` prefix, one
 *   differing from an earlier one only in case a `_1` suffix, the empty name is `unnamed`).
 * - `votes`: empty. `rejects`: file, line | index | row (by format), reason, raw (missing or non-string fields, a prompt
 *   message without string role and content, unknown labels).
 *
 * **Params**: path (a file, a list, or patterns with glob), glob (false), format (auto), columns (null), labels, csv (null: RFC 4180 quoting, delimiter
 * guessed from the header), source (file name), seed (0), labelSource (null), maxRejectRate (0).
 *
 * **Stats**: records, pairs, rejected, label_a, label_b, label_tie, label_none, empty_responses.
 * rowsIn = records = pairs + rejected.
 *
 * **Example**
 * ```ts
 * const qa = p.node("qa", load.table({ path: "data/qa.csv", columns: { prompt: "question", chosen: "good", rejected: "bad" } }))
 * ```
 */
export const table = defineLoader({
  kind: "load.table",
  version: 4,
  summary: "Any JSONL/JSON/CSV/Parquet table of pairs, with a column mapping; extra columns pass through",
  params: TableParams,
  load: ({ ctx, params, read, rejectsOf }) =>
    Effect.gen(function* () {
      const sql = yield* Sql
      const { file, records } = yield* read({ csv: params.csv })
      const structure = yield* recordStructure(records)
      const mapping = resolveColumns(ctx, params.columns, Object.keys(structure))
      if (mapping instanceof DataError) return yield* mapping
      const responses = mapping.mode === "chosen" ? [mapping.chosen, mapping.rejected] : [mapping.a, mapping.b]
      const label = mapping.mode === "sides" ? mapping.label : undefined
      const fields: Array<FieldCheck> = [
        { name: mapping.prompt, kinds: ["string", "array"] },
        ...responses.map((name): FieldCheck => ({ name, kinds: ["string"] })),
        ...(label === undefined
          ? []
          : [{ name: label, kinds: ["string", "number", "bool"], optional: true } satisfies FieldCheck])
      ]
      const known = Object.keys(params.labels).join(", ")
      yield* checkRecords(records, fields, [
        messagesFieldProblemSql("raw", mapping.prompt),
        ...(label === undefined
          ? []
          : [
              `CASE WHEN trim(${str(label)}) <> '' AND ${labelSql(str(label), params.labels)} IS NULL
          THEN ${sqlText(`${label}: unknown value "`)} || ${str(label)} || ${sqlText(`" (known: ${known}; see the labels param)`)} END`
            ])
      ])
      const rejects = yield* rejectsOf([{ file, records }])
      // one JSON parse for the mapped fields (_v[1..]); the prompt is parsed again only when it looks like a list
      const names = [mapping.prompt, ...responses, ...(label === undefined ? [] : [label])]
      const promptPath = sqlText(keyPath(mapping.prompt))
      const isList = `CASE WHEN starts_with(_v[1], '[') THEN json_type(raw, ${promptPath}) = 'ARRAY' ELSE false END`
      const common = {
        from: `(SELECT record, raw, json_extract_string(raw, [${names.map((n) => sqlText(keyPath(n))).join(", ")}]) AS _v
                FROM ${records.table} WHERE reason IS NULL)`,
        inOrder: true,
        prompt: `CASE WHEN ${isList} THEN ${renderMessagesSql(`json_extract(raw, ${promptPath})`)} ELSE _v[1] END`,
        messages: `CASE WHEN ${isList} THEN json_extract(raw, ${promptPath}) END`,
        record: "record",
        source: params.source ?? fileStem(file.abs),
        labelSource: params.labelSource,
        passThrough: extraColumnsOf(structure, names)
      }
      const pairs = yield* sql.create(
        "pairs",
        mapping.mode === "chosen"
          ? chosenRejectedPairsSql({
              ...common,
              chosen: "_v[2]",
              rejected: "_v[3]",
              seed: params.seed
            })
          : sidesPairsSql({
              ...common,
              a: "_v[2]",
              b: "_v[3]",
              label: label === undefined ? "NULL::VARCHAR" : labelSql("_v[4]", params.labels)
            })
      )
      return { pairs, rejects, files: [{ file, records }], stats: { mode: mapping.mode } }
    })
})
