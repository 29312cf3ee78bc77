/**
 * What evaluate.accuracy and evaluate.calibration read from scored pairs: the label, and the model's
 * preference as scores (score_a, score_b: train.score's rewards) or a probability (p_a).
 */
import { Schema } from "effect"
import type { TableSchema } from "../../workbench/core/contract.js"
import { DataError } from "../../workbench/core/errors.js"
import { param } from "../../workbench/core/params.js"
import { hasColumn, voteSql } from "../lib/vote-rows.js"

export const FromParam = param(
  Schema.Literals(["auto", "scores", "p_a"]),
  "auto",
  "what the model's preference is read from: scores (score_a vs score_b), p_a, or auto (scores when both columns exist, else p_a; p_a on rows whose scores are NULL)"
)

export type From = "auto" | "scores" | "p_a"

/**
 * Which columns to read, or the error when the pairs have neither. `auto` with all three reads the scores
 * and, on rows whose scores are NULL, p_a: train.score of a preference model writes p_a with NULL scores.
 */
export function resolveFrom(
  from: From,
  schema: TableSchema,
  where: string
): "scores" | "p_a" | "scores-else-p_a" | DataError {
  const scores = hasColumn(schema, "score_a") && hasColumn(schema, "score_b")
  const pA = hasColumn(schema, "p_a")
  if (from === "auto" && scores && pA) return "scores-else-p_a"
  if ((from === "scores" || from === "auto") && scores) return "scores"
  if ((from === "p_a" || from === "auto") && pA) return "p_a"
  return new DataError({
    where,
    found: `the pairs have ${[...["score_a", "score_b", "p_a"].filter((c) => hasColumn(schema, c))].join(", ") || "none of score_a, score_b, p_a"} (from: ${from})`,
    expected:
      from === "p_a"
        ? "a p_a column"
        : from === "scores"
          ? "score_a and score_b columns"
          : "score_a and score_b, or p_a",
    fix: "score the pairs first (train.score adds score_a, score_b and p_a), or set from to the columns the pairs have"
  })
}

/**
 * SQL of each pair's label ('a' | 'b' | 'tie' | NULL), `pred_a` (P(a preferred): p_a, or σ(score_a −
 * score_b)) and `correct` (strict: the labelled side's score is greater; equal scores are wrong, as in
 * RewardBench; NULL when the label is not a / b or the prediction is missing).
 */
export function predictionSql(source: "scores" | "p_a" | "scores-else-p_a"): string {
  const label = voteSql("label")
  const scoreDiff = "(score_a::DOUBLE - score_b::DOUBLE)"
  const scorePred = `CASE WHEN ${scoreDiff} >= 0 THEN 1 / (1 + exp(-${scoreDiff})) ELSE exp(${scoreDiff}) / (1 + exp(${scoreDiff})) END`
  const noScores = "(score_a IS NULL OR score_b IS NULL)"
  const diff =
    source === "scores"
      ? scoreDiff
      : source === "p_a"
        ? "(p_a::DOUBLE - 0.5)"
        : `(CASE WHEN ${noScores} THEN p_a::DOUBLE - 0.5 ELSE ${scoreDiff} END)`
  const pred =
    source === "scores"
      ? scorePred
      : source === "p_a"
        ? "p_a::DOUBLE"
        : `(CASE WHEN ${noScores} THEN p_a::DOUBLE ELSE ${scorePred} END)`
  return `${label} AS _label, ${pred} AS _pred_a,
    CASE WHEN ${label} NOT IN ('a', 'b') OR ${diff} IS NULL OR isnan(${diff}) THEN NULL
         WHEN ${label} = 'a' THEN (${diff} > 0)::INTEGER ELSE (${diff} < 0)::INTEGER END AS _correct`
}
