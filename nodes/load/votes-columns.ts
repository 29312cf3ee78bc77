/**
 * load.votes' params and field mapping: which fields of a judgments table hold the pair (its texts,
 * or its pair_id), the rater and the verdict, and the checks each record must pass.
 */
import { Schema } from "effect"
import { didYouMean } from "../../workbench/core/did-you-mean.js"
import { DataError } from "../../workbench/core/errors.js"
import { param } from "../../workbench/core/params.js"
import type { FieldCheck } from "./check.js"
import { FormatParam, GlobParam, type LoadContext, MaxRejectRateParam, PathsParam, where } from "./files.js"
import { keyPath, sqlText } from "./sql.js"

const field = (what: string) => Schema.optionalKey(Schema.String).annotate({ description: what })

export const VoteColumnMap = Schema.Struct({
  pair_id: field(
    'field holding the pair_id of a pair loaded elsewhere (when the table has no texts); default "pair_id"'
  ),
  prompt: field('field holding the prompt; default "prompt"'),
  response_a: field('field holding response a (as the pair lists it); default "response_a"'),
  response_b: field('field holding response b; default "response_b"'),
  rater: field('field holding the rater\'s name; default "rater" when present, else the rater param'),
  rater_kind: field('field holding the rater kind (human, ai, …); default "rater_kind" when present, else raterKind'),
  vote: field('field holding the verdict (values mapped by the votes param); default "vote"'),
  p_a: field('field holding the probability that a wins, in [0, 1]; default "p_a" when present'),
  order: field('field holding which response the rater saw first: ab | ba; default "order" when present'),
  sample: field('field holding the sample index (an integer); default "sample" when present'),
  rationale: field('field holding the rater\'s explanation, kept as meta.rationale; default "rationale" when present')
})
export type VoteColumnMap = typeof VoteColumnMap.Type

const DEFAULT_VOTES: Record<string, "a" | "b" | "tie"> = {
  a: "a",
  b: "b",
  tie: "tie",
  "1": "a",
  "2": "b",
  "0": "tie",
  model_a: "a",
  model_b: "b",
  "tie (bothbad)": "tie"
}

export const VotesParams = Schema.Struct({
  path: PathsParam("the judgments to load (JSONL, JSON array, CSV or Parquet, optionally .gz)"),
  glob: GlobParam,
  format: FormatParam,
  columns: param(
    VoteColumnMap,
    {},
    "which fields hold the pair (prompt, response_a, response_b; or pair_id) and the judgment (rater, vote, and " +
      "optionally rater_kind, p_a, order, sample, rationale); a field left out: the field of that name, when the table has it"
  ),
  votes: param(
    Schema.Record(Schema.String, Schema.Literals(["a", "b", "tie"])),
    DEFAULT_VOTES,
    "verdict values (compared case-insensitively, trimmed) -> 'a' | 'b' | 'tie'; any other value is a reject"
  ),
  rater: param(Schema.NullOr(Schema.String), null, "the rater of every record, when the table has no rater field"),
  raterKind: param(Schema.String, "ai", "the rater kind when the table has no rater_kind field (or it is empty)"),
  mirrored: param(
    Schema.Literals(["fold", "keep"]),
    "fold",
    "fold: a record listing an earlier pair's responses the other way round (b, a) is a vote on that pair, " +
      "its vote, p_a and order flipped (both-order judgments published as two rows); keep: a pair of its own"
  ),
  source: param(
    Schema.NullOr(Schema.String),
    null,
    "dataset name for the source column; null: the name of the file, without extensions"
  ),
  maxRejectRate: MaxRejectRateParam
})
export type VotesParams = typeof VotesParams.Type

/** Where each role comes from: a field of the table, or (rater, rater kind) a constant. */
export interface VoteMapping {
  readonly mode: "texts" | "pair_id"
  /** prompt, response_a, response_b (texts) or pair_id: fields. */
  readonly pair: ReadonlyArray<string>
  readonly vote: string
  readonly rater: { readonly field: string } | { readonly name: string }
  readonly raterKind: { readonly field?: string; readonly name: string }
  readonly optional: Readonly<Partial<Record<"p_a" | "order" | "sample" | "rationale", string>>>
}

const missingField = (ctx: LoadContext, role: string, name: string, keys: ReadonlyArray<string>) => {
  const hint = didYouMean(name, keys)
  return new DataError({
    where: where(ctx, `param columns.${role}`),
    found: `the file has no field "${name}"; its fields: ${keys.join(", ") || "(none)"}`,
    expected: `a field holding the ${role.replace("_", " ")}`,
    fix: `${hint === "" ? "" : `${hint} `}set columns.${role} to one of the file's fields`
  })
}

/** Decide which fields hold what, and check that the file has them (no fields at all: the defaults stand). */
export function resolveVoteColumns(
  ctx: LoadContext,
  p: VotesParams,
  keys: ReadonlyArray<string>
): VoteMapping | DataError {
  const c = p.columns
  const has = (k: string) => keys.length === 0 || keys.includes(k)
  const texts = [c.prompt ?? "prompt", c.response_a ?? "response_a", c.response_b ?? "response_b"]
  const textsGiven = c.prompt !== undefined || c.response_a !== undefined || c.response_b !== undefined
  const mode =
    textsGiven || (c.pair_id === undefined && texts.every(has))
      ? "texts"
      : c.pair_id !== undefined || has("pair_id")
        ? "pair_id"
        : undefined
  if (mode === undefined) {
    return new DataError({
      where: where(ctx, "param columns"),
      found: `cannot tell which fields name the pair; the file has: ${keys.join(", ") || "(no fields)"}`,
      expected: "fields prompt, response_a, response_b (the pair's texts), or pair_id (a pair loaded elsewhere)",
      fix: `set columns, e.g. columns: { prompt: "${keys[0] ?? "question"}", response_a: "…", response_b: "…", vote: "…" }`
    })
  }
  const roles: Array<[string, string]> =
    mode === "texts"
      ? [
          ["prompt", texts[0]!],
          ["response_a", texts[1]!],
          ["response_b", texts[2]!]
        ]
      : [["pair_id", c.pair_id ?? "pair_id"]]
  roles.push(["vote", c.vote ?? "vote"])
  const raterField = c.rater ?? (keys.includes("rater") || p.rater === null ? "rater" : undefined)
  if (raterField !== undefined) roles.push(["rater", raterField])
  if (c.rater_kind !== undefined) roles.push(["rater_kind", c.rater_kind])
  const optional: Partial<Record<"p_a" | "order" | "sample" | "rationale", string>> = {}
  for (const role of ["p_a", "order", "sample", "rationale"] as const) {
    const given = c[role]
    if (given !== undefined) {
      roles.push([role, given])
      optional[role] = given
    } else if (keys.includes(role)) optional[role] = role
  }
  const missing = keys.length === 0 ? undefined : roles.find(([, name]) => !keys.includes(name))
  if (missing !== undefined) {
    if (missing[0] === "rater" && c.rater === undefined) {
      return new DataError({
        where: where(ctx, "param rater"),
        found: `the file has no field "rater" and the rater param is null; its fields: ${keys.join(", ")}`,
        expected: "a rater for every vote",
        fix: "set columns.rater to the field naming the rater, or rater to the name of the one rater of this file"
      })
    }
    return missingField(ctx, missing[0], missing[1], keys)
  }
  const kindField = c.rater_kind ?? (keys.includes("rater_kind") ? "rater_kind" : undefined)
  return {
    mode,
    pair: roles.slice(0, mode === "texts" ? 3 : 1).map(([, f]) => f),
    vote: c.vote ?? "vote",
    rater: raterField !== undefined ? { field: raterField } : { name: p.rater! },
    raterKind: kindField === undefined ? { name: p.raterKind } : { field: kindField, name: p.raterKind },
    optional
  }
}

/** The JSON text of a field, NULL when absent. */
export const str = (name: string) => `json_extract_string(raw, ${sqlText(keyPath(name))})`

/** Verdict value -> 'a' | 'b' | 'tie', NULL when unknown. */
export const voteValueSql = (v: string, votes: Readonly<Record<string, string>>) =>
  `CASE lower(trim(${v})) ${Object.entries(votes)
    .map(([k, l]) => `WHEN ${sqlText(k.trim().toLowerCase())} THEN ${sqlText(l)}`)
    .join(" ")} END`

/** The field types every record must have, then reasons for values out of their domain (SQL over raw). */
export function voteChecks(m: VoteMapping, votes: Readonly<Record<string, string>>) {
  const o = m.optional
  const fields: Array<FieldCheck> = [
    ...m.pair.map((name): FieldCheck => ({ name, kinds: ["string"] })),
    { name: m.vote, kinds: ["string", "number"] },
    ...("field" in m.rater ? [{ name: m.rater.field, kinds: ["string"] } satisfies FieldCheck] : []),
    ...(m.raterKind.field === undefined
      ? []
      : [{ name: m.raterKind.field, kinds: ["string"], optional: true } satisfies FieldCheck]),
    ...(o.p_a === undefined ? [] : [{ name: o.p_a, kinds: ["number", "string"], optional: true } satisfies FieldCheck]),
    ...(o.order === undefined ? [] : [{ name: o.order, kinds: ["string"], optional: true } satisfies FieldCheck]),
    ...(o.sample === undefined
      ? []
      : [{ name: o.sample, kinds: ["integer", "string"], optional: true } satisfies FieldCheck]),
    ...(o.rationale === undefined
      ? []
      : [{ name: o.rationale, kinds: ["string"], optional: true } satisfies FieldCheck])
  ]
  const known = Object.keys(votes).join(", ")
  const v = str(m.vote)
  const extra = [
    `CASE WHEN ${voteValueSql(v, votes)} IS NULL THEN ${sqlText(`${m.vote}: unknown verdict "`)} || ${v} ||
      ${sqlText(`" (known: ${known}; see the votes param)`)} END`
  ]
  if (o.p_a !== undefined) {
    const x = str(o.p_a)
    extra.push(`CASE WHEN trim(${x}) <> '' AND NOT coalesce(TRY_CAST(${x} AS DOUBLE) BETWEEN 0 AND 1, false)
      THEN ${sqlText(`${o.p_a}: "`)} || ${x} || '" is not a probability in [0, 1]' END`)
  }
  if (o.order !== undefined) {
    const x = str(o.order)
    extra.push(`CASE WHEN trim(${x}) <> '' AND lower(trim(${x})) NOT IN ('ab', 'ba')
      THEN ${sqlText(`${o.order}: unknown order "`)} || ${x} || '" (expected ab or ba: the response the rater saw first, a or b)' END`)
  }
  if (o.sample !== undefined) {
    const x = str(o.sample)
    extra.push(`CASE WHEN trim(${x}) <> '' AND TRY_CAST(${x} AS BIGINT) IS NULL
      THEN ${sqlText(`${o.sample}: "`)} || ${x} || '" is not an integer' END`)
  }
  return { fields, extra }
}
