/**
 * The load family: read preference data from files into the workbench's tables.
 *
 * Every loader is a source node (no inputs) with four outputs:
 * - `pairs`: one row per comparison (`pairColumns`: pair_id, prompt, response_a, response_b, label,
 *   label_source, source, source_row), then per-preset and pass-through columns;
 * - `votes`: one row per pair x rater (`voteColumns`); empty but typed when the source has no raters;
 *   (some loaders add `ratings` and `raters` tables: ultrafeedback, pandalm, votes)
 * - `rejects`: records that could not be loaded: file, where the record is as its format counts it
 *   (`line`, 1-based, for JSON Lines; `index`, 0-based, for JSON arrays; `row`, 1-based, for CSV and
 *   Parquet), reason (e.g. "response1: expected a string, got a boolean"), raw;
 * - `removed`: records that are neither a pair nor a reject, with the reason (removed.ts): `merged-into`
 *   (it repeats a pair already loaded: its vote goes there) or `no-pair` (its pairing rule gives none).
 * Rows in = rows out + rejected + removed, checked when a loader finishes (finish.ts).
 * A loader fails with a DataError when more than `maxRejectRate` (default 0) of its records are
 * rejected, when its file is missing (naming the resolved path and what exists nearby), and, whatever
 * maxRejectRate says, when a compressed file's stream is truncated or corrupt.
 * Files may be JSON Lines, JSON arrays, CSV or Parquet, any of them gzip'd (zstd where Node can
 * verify it); paths are literal unless `glob: true`, and `path` may list several files, each loaded
 * on its own and stacked (`many-files.ts`); the work is done in DuckDB. Each loader's cache key
 * includes the path (relative to the project root), size and content hash of every file it reads.
 *
 * | preset | kind | reads |
 * |---|---|---|
 * | `table` | `load.table` | any table, with a column mapping; extra fields pass through |
 * | `hhRlhf` | `load.hh-rlhf` | Anthropic HH-RLHF chosen/rejected transcripts |
 * | `trl` | `load.trl` | TRL preference layouts: explicit/implicit prompt, standard/conversational |
 * | `ultrafeedback` | `load.ultrafeedback` | UltraFeedback completions with aspect ratings |
 * | `oasst` | `load.oasst` | Open Assistant message trees with ranked replies |
 * | `pandalm` | `load.pandalm` | the PandaLM test set with 3 human and 2 AI raters |
 * | `alpacaEval` | `load.alpaca-eval` | AlpacaEval annotations, one file per LLM judge |
 * | `arrow` | `load.arrow` | an in-memory apache-arrow Table (TypeScript programs; no file) |
 * | `votes` | `load.votes` | recorded judgments in any table: votes on pairs named by text or pair_id |
 *
 * Each preset's doc block (columns, params, stats, example) is at its definition in
 * `nodes/load/<preset>.ts`.
 *
 * @example
 * const hh = p.node("hh", load.hhRlhf({ path: "data/hh-rlhf-harmless-base/test.jsonl.gz" }))
 * const panda = p.node("panda", load.pandalm({ path: "data/pandalm-testset", maxRejectRate: 0.01 }))
 */
import { alpacaEval } from "./alpaca-eval.js"
import { arrow } from "./arrow.js"
import { hhRlhf } from "./hh.js"
import { oasst } from "./oasst.js"
import { pandalm } from "./pandalm.js"
import { table } from "./table.js"
import { trl } from "./trl.js"
import { ultrafeedback } from "./ultrafeedback.js"
import { votes } from "./votes.js"

export type { AlpacaEvalParams } from "./alpaca-eval.js"
export type { ArrowParams } from "./arrow.js"
export type { HhRlhfParams } from "./hh.js"
export type { OasstParams } from "./oasst.js"
export type { PandaLmParams } from "./pandalm.js"
export type { TableParams } from "./table.js"
export type { TrlParams } from "./trl.js"
export type { UltraFeedbackParams } from "./ultrafeedback.js"
export type { VotesParams } from "./votes-columns.js"

export const load = { table, arrow, hhRlhf, trl, ultrafeedback, oasst, pandalm, alpacaEval, votes }
