/**
 * The shared vocabulary of preference tables: the pairs and votes contracts every family reads and
 * writes, and the SQL for a stable pair id.
 */
import { input, output } from "../../workbench/core/contract.js"
import type { ColumnType } from "../../workbench/core/column-type.js"

/** One row per comparison. `label` is 'a' | 'b' | 'tie' | null; `label_source` 'human' | 'ai' | 'mixed' | null. */
export const pairColumns = {
  pair_id: "utf8",
  prompt: "utf8",
  response_a: "utf8",
  response_b: "utf8",
  label: "utf8",
  label_source: "utf8",
  source: "utf8",
  /** record number in the source file (line for JSONL, element for JSON arrays), 0-based */
  source_row: "int64"
} as const satisfies Record<string, ColumnType>

/**
 * One row per pair x rater (x order x sample, for judges asked several times). `vote` is 'a' | 'b' |
 * 'tie' | null; `p_a` the probability that a wins, when known; `order` which side the rater saw first
 * ('ab': response_a shown first, 'ba': response_b first, null: unknown or not shown in an order);
 * `sample` the sample index when a judge was asked n times (0-based; null when not sampled). `meta`
 * keeps what the source says beyond that: `meta.rationale` holds the rater's own words (language
 * feedback is kept, never thrown away), `meta.source_row` the row a vote was cast on (dedupe uses it).
 * `rater_kind`: 'human' | 'ai' | 'heuristic' | 'simulated' (or a source's own word).
 *
 * Gotchas: `order` is a SQL keyword: quote it (`"order"`) in every statement.
 */
export const voteColumns = {
  pair_id: "utf8",
  rater: "utf8",
  rater_kind: "utf8",
  vote: "utf8",
  p_a: "float64",
  order: "utf8",
  sample: "int64",
  meta: "json"
} as const satisfies Record<string, ColumnType>

/**
 * Absolute judgments: one row per pair x side x rater x aspect. `side` 'a' | 'b'; `aspect` e.g.
 * helpfulness, honesty, instruction_following, truthfulness, or 'overall'; `score` on the rater's scale
 * [`scale_min`, `scale_max`] (UltraFeedback: 1..5), NULL when the rater gave none (an "N/A");
 * `rationale` the rater's words, when given.
 */
export const ratingColumns = {
  pair_id: "utf8",
  side: "utf8",
  rater: "utf8",
  rater_kind: "utf8",
  aspect: "utf8",
  score: "float64",
  scale_min: "float64",
  scale_max: "float64",
  rationale: "utf8"
} as const satisfies Record<string, ColumnType>

/**
 * Who the raters are, so agreement can be sliced by rater group: one row per rater. `attributes` is a
 * JSON object: the model and sampling settings of an AI rater ({model, temperature, ...}); language,
 * region, expertise or other demographics of a human one, where the source gives them.
 */
export const raterColumns = {
  rater: "utf8",
  rater_kind: "utf8",
  attributes: "json"
} as const satisfies Record<string, ColumnType>

/** DuckDB's name for a contract column type (the types the tables above use). */
const SQL_TYPES: Readonly<Record<string, string>> = {
  utf8: "VARCHAR",
  float64: "DOUBLE",
  int64: "BIGINT",
  int32: "INTEGER",
  json: "JSON",
  bool: "BOOLEAN"
}

const columnsSql = (columns: Readonly<Record<string, ColumnType>>): string =>
  Object.entries(columns)
    .map(([name, type]) => `"${name}" ${SQL_TYPES[type] ?? "VARCHAR"}`)
    .join(", ")

/** SQL creating an empty, typed votes table (every producer returns one, even with no raters). */
export const createEmptyVotesSql = (table: string): string => `CREATE TABLE ${table} (${columnsSql(voteColumns)})`
export const createEmptyRatingsSql = (table: string): string => `CREATE TABLE ${table} (${columnsSql(ratingColumns)})`
export const createEmptyRatersSql = (table: string): string => `CREATE TABLE ${table} (${columnsSql(raterColumns)})`

/** A SELECT of no rows with the votes columns, typed (for a UNION or an empty output). */
export const emptyVotesSelectSql = (): string =>
  `SELECT ${Object.entries(voteColumns)
    .map(([name, type]) => `NULL::${SQL_TYPES[type]} AS "${name}"`)
    .join(", ")} WHERE false`

/**
 * Malformed source records, with where they were and why they were refused. After `file` comes the
 * record's number as users count it in that format, in a column named for it: `line` (1-based, JSON
 * Lines), `index` (0-based element, JSON arrays), `row` (1-based data row, CSV and Parquet). Which one
 * depends on the file read, so the contract lists only the columns every rejects table has (a closed
 * contract still lets `wb validate` catch a rejects table wired where pairs are expected).
 */
export const rejectColumns = {
  file: "utf8",
  reason: "utf8",
  raw: "utf8"
} as const satisfies Record<string, ColumnType>

export const pairsInput = (doc = "preference pairs") =>
  input(
    { pair_id: "utf8", prompt: "utf8", response_a: "utf8", response_b: "utf8" },
    {
      optional: { label: "utf8", label_source: "utf8", source: "utf8" },
      doc
    }
  )

export const votesInput = (doc = "votes on the pairs (optional)") =>
  input(
    { pair_id: "utf8", rater: "utf8", vote: "utf8" },
    { optional: { p_a: "float64", order: "utf8", sample: "int64" }, optionalInput: true, many: true, doc }
  )

export const ratingsInput = (doc = "ratings of the pairs' responses (optional)") =>
  input(
    { pair_id: "utf8", side: "utf8", rater: "utf8", aspect: "utf8", score: "float64" },
    {
      optional: { rater_kind: "utf8", scale_min: "float64", scale_max: "float64", rationale: "utf8" },
      optionalInput: true,
      many: true,
      doc
    }
  )

/** The pairs table a loader emits; `open` because generic loaders pass extra columns through. */
export const pairsOutput = (open = true) => output("main", pairColumns, { open, doc: "one row per comparison" })
export const votesOutput = () => output("aux", voteColumns, { doc: "one row per pair x rater" })
export const ratingsOutput = () =>
  output("aux", ratingColumns, { doc: "one row per pair x side x rater x aspect: absolute scores" })
export const ratersOutput = () => output("aux", raterColumns, { doc: "one row per rater: kind and attributes" })
export const rejectsOutput = () =>
  output("rejects", rejectColumns, {
    doc: "records that could not be loaded: file, line | index | row (by format), reason, raw"
  })

/**
 * SQL for a text's hash, the unit pair ids and side draws are built from: md5 of the text ('' for
 * NULL). Each text is hashed once however many ids and draws use it; an md5 over the joined texts
 * (the earlier id) read every byte again for each of them, ~1 s per GB of text apiece.
 */
export const textHashSql = (text: string): string => `md5(coalesce(${text}, ''))`

/** The pair id from its three texts' hashes (`textHashSql`): 16 hex digits of md5 over the three. */
export const pairIdOfHashesSql = (prompt: string, a: string, b: string): string =>
  `substr(md5(${prompt} || ${a} || ${b}), 1, 16)`

/**
 * SQL for the stable pair id: 16 hex digits of md5 over the md5s of prompt, a and b; NULL when a part
 * is. Order matters: (a, b) and (b, a) are different pairs.
 */
export const pairIdSql = (prompt: string, a: string, b: string): string =>
  // md5(x) is NULL for a NULL x and || keeps it NULL; for a non-NULL x it equals textHashSql(x)
  pairIdOfHashesSql(`md5(${prompt})`, `md5(${a})`, `md5(${b})`)
