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

/** One row per pair x rater. `vote` is 'a' | 'b' | 'tie' | null; `p_a` the probability that a wins, when known. */
export const voteColumns = {
  pair_id: "utf8",
  rater: "utf8",
  rater_kind: "utf8",
  vote: "utf8",
  p_a: "float64",
  meta: "json"
} as const satisfies Record<string, ColumnType>

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
    { optional: { p_a: "float64" }, optionalInput: true, many: true, doc }
  )

/** The pairs table a loader emits; `open` because generic loaders pass extra columns through. */
export const pairsOutput = (open = true) => output("main", pairColumns, { open, doc: "one row per comparison" })
export const votesOutput = () => output("aux", voteColumns, { doc: "one row per pair x rater" })
export const rejectsOutput = () =>
  output("rejects", rejectColumns, {
    doc: "records that could not be loaded: file, line | index | row (by format), reason, raw"
  })

/**
 * SQL for the stable pair id: 16 hex digits of md5 over prompt, a and b (unit separators between, so
 * ("ab","c") and ("a","bc") differ). Order matters: (a, b) and (b, a) are different pairs.
 */
export const pairIdSql = (prompt: string, a: string, b: string): string =>
  [prompt, a, b].every((x) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(x))
    ? // the same value, NULL when a part is; one concat() builds the text in one go, where each ||
      // copies everything before it again (~10% of the md5). Columns only: each is named twice.
      `CASE WHEN ${prompt} IS NOT NULL AND ${a} IS NOT NULL AND ${b} IS NOT NULL
         THEN substr(md5(concat(${prompt}, chr(31), ${a}, chr(31), ${b})), 1, 16) END`
    : `substr(md5(${prompt} || chr(31) || ${a} || chr(31) || ${b}), 1, 16)`
