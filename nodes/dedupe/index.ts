/**
 * The dedupe family: remove duplicate, mirrored, degenerate, near-duplicate and eval-contaminated
 * preference pairs, keep a record of every removed row and why, and move votes onto the kept pairs.
 * Five presets over one core (like Plot's dot/dotX): `dedupe.pairs` runs every step (each switchable),
 * `dedupe.exact`, `dedupe.mirrored`, `dedupe.nearDuplicates` and `dedupe.decontaminate` run one.
 *
 * Steps, in this order, each on the rows the earlier ones kept:
 * 1. decontaminate (when `against` is connected): prompts equal (after `normalize`) or near an eval
 *    prompt. First, so that no clean row is merged into a twin that is then dropped as contaminated.
 *    Empty or whitespace-only eval prompts are ignored (counted in `eval_prompts_empty`).
 * 2. exact: same prompt, response_a and response_b after `normalize` (none / whitespace / case / nfc).
 * 3. mirrored: (prompt, a, b) and (prompt, b, a). The twin's votes are flipped (a <-> b, p_a -> 1 - p_a,
 *    order 'ab' <-> 'ba').
 * 4. degenerate: an empty (or whitespace-only) response; identical responses after `normalize`.
 * 5. near-duplicates (off by default): MinHash + LSH on word shingles, each text on its own (never
 *    concatenated). `on: "pair"` (the default): the prompts are near-duplicates and so is each
 *    response of its counterpart, in either orientation (a~a' and b~b', or a~b' and b~a');
 *    `on: "responses"`: both responses so, whatever the prompts; `on: "prompt"`: the prompts only,
 *    keeping `maxPerPrompt` rows (default 1) per group of near-duplicate prompts. Candidates from each
 *    field's LSH buckets are verified with shingle Jaccard on every field the mode names. Rows are
 *    taken in the keep order; a row that matches a kept row is removed and names it (so a removed
 *    row is itself near its kept twin, never only through a chain of others).
 * In each group the `keep` policy picks the row that stays. Exact and mirrored merges pool votes, and
 * the kept pair's label becomes the majority of its votes (a tie when no side has most); label_source
 * becomes 'mixed' when a pair without a label source pools votes of more than one rater_kind; a human
 * (or AI) label is re-voted by human (or AI) votes only. Groups whose labels disagree
 * are listed in `conflicts` and handled by `onConflict`. Rows in = rows out + rows removed, always.
 *
 * **Input columns**
 * - `pairs` (one or more tables): pair_id, prompt, response_a, response_b; optional label,
 *   label_source, source, source_row ("first" = lowest source, then source_row); extras pass through.
 * - `votes` (optional, one or more): pair_id, rater, vote; optional rater_kind, p_a, order, sample, meta, source_row.
 * - `against` (optional, one or more): an eval set with a `prompt` column.
 *
 * **Output columns**
 * - `pairs` (main): the input's columns, kept rows in input order; label re-voted for merged rows.
 * - `votes`: the input votes, re-pointed to kept pairs (flipped for mirrored twins); votes of rows
 *   removed for any other reason are dropped. A vote follows the row it was cast on when it names
 *   one (a `source_row` column or meta.source_row, as load.pandalm writes), otherwise its pair_id, so
 *   rows with identical texts keep their votes apart (keep-first drops the other rows' votes). A
 *   merged pair may hold several votes of one rater, one per merged row: kept, not aggregated.
 *   Empty (typed) when no votes are connected.
 * - `removed`: the input's columns + reason ('exact-duplicate', 'exact-conflict', 'mirrored-duplicate',
 *   'mirrored-conflict', 'empty-side', 'identical-sides', 'near-duplicate', 'contaminated',
 *   'contaminated-near') + kept_pair_id and kept_source_row of the twin it was merged into, always a
 *   row of `pairs`; null if none: contaminated and degenerate rows, drop-both conflicts, and the merged
 *   rows of a group whose kept row was then removed for an empty side or identical sides.
 * - `conflicts`: check, group_pair_id, pair_id, source, source_row, label, flipped, outcome, prompt,
 *   response_a, response_b: every row of an exact or mirrored group whose labels disagree.
 * - `report`: check, groups, rows_found_in_input (rows the check matches in the whole input on its
 *   own, a group's first row included), rows_removed (what it removed, in step order).
 *
 * **Params**: see `DedupeParams` (dedupe.pairs) and the preset schemas in `nodes/dedupe/params.ts`;
 * `wb nodes dedupe.pairs` lists each with its type, default and description.
 *
 * **Stats**: rows_in, rows_out, removed; exact_groups, exact_removed, exact_conflicts;
 * mirrored_groups, mirrored_removed, mirrored_conflicts; empty_side, identical; near_clusters (kept
 * rows that near-duplicates were removed for), near_removed; contaminated, contaminated_near, eval_prompts, eval_prompts_empty; votes_in, votes_out, votes_moved, votes_flipped,
 * votes_dropped, relabelled (only those of the steps that ran).
 *
 * **Example**
 * ```ts
 * const clean = p.node("clean", dedupe.pairs({ near: { enabled: true, threshold: 0.85 } }),
 *   { pairs: [hh, uf], votes: hh.votes, against: evalSet })
 * const noLeaks = p.node("no-leaks", dedupe.decontaminate({ threshold: 0.7 }), { pairs: hh, against: evalSet })
 * ```
 *
 * Gotchas: near-duplicates are off in `dedupe.pairs`. Many datasets pair one prompt with many
 * response pairs (PandaLM: 170 prompts over 999 pairs; AlpacaEval: 49 models per instruction against
 * one shared baseline answer; OASST: every two ranked replies of a prompt): `on: "prompt"` collapses
 * them to one row per prompt (or `maxPerPrompt`), which is what it is for; `pair` keeps them apart,
 * as their responses differ. Near-dup twins do not share votes (their responses differ). A text with
 * no word (empty, punctuation only, ASCII art) has no shingles: it never matches in `prompt` mode, and
 * in `pair` and `responses` it matches only the same text (leading and trailing whitespace aside). Several tables on one input are unioned by
 * column name; an extra column they share with types that do not convert (JSON in one, text in
 * another) fails the node with a DataError naming the column.
 */
import { Effect } from "effect"
import { input, outputLike, output, type OutputContract } from "../../workbench/core/contract.js"
import { defineNode, type NodeRunContext } from "../../workbench/core/node.js"
import type { NodeView } from "../../workbench/core/views.js"
import {
  DecontaminateParams,
  DedupeParams,
  ExactParams,
  MirroredParams,
  NearParams,
  resolveDecontaminate,
  resolveExact,
  resolveMirrored,
  resolveNear,
  resolvePairs,
  type DedupeOptions
} from "./params.js"
import { runDedupe } from "./run.js"
import { pairsInput, voteColumns, votesInput } from "../lib/pair-tables.js"

export { DecontaminateParams, DedupeParams, ExactParams, MirroredParams, NearParams }

const againstInput = (optionalInput: boolean) =>
  input(
    { prompt: "utf8" },
    { optionalInput, many: true, doc: "eval prompts to decontaminate against (a `prompt` column)" }
  )

const inputs = (against: "optional" | "required" | "none") => ({
  pairs: { ...pairsInput("the pairs to dedupe (several tables are unioned by column name)"), many: true },
  votes: votesInput("votes on the pairs; re-pointed to the kept pairs"),
  ...(against === "none" ? {} : { against: againstInput(against === "optional") })
})

const votesOutput: OutputContract = {
  role: "aux",
  doc: "the input votes re-pointed to kept pairs (mirrored twins flipped)",
  schema: (ins) =>
    ins["votes"] ?? { columns: Object.entries(voteColumns).map(([name, type]) => ({ name, type })), open: false }
}

const outputs = {
  pairs: outputLike("main", "pairs", { doc: "kept pairs, in input order" }),
  votes: votesOutput,
  removed: outputLike("removed", "pairs", {
    add: { reason: "utf8", kept_pair_id: "utf8", kept_source_row: "int64" },
    doc: "removed rows with the reason and the kept twin they were merged into"
  }),
  conflicts: output(
    "aux",
    {
      check: "utf8",
      group_pair_id: "utf8",
      pair_id: "utf8",
      source: "utf8",
      source_row: "int64",
      label: "utf8",
      flipped: "bool",
      outcome: "utf8",
      prompt: "utf8",
      response_a: "utf8",
      response_b: "utf8"
    },
    { doc: "rows of exact or mirrored groups whose labels disagree" }
  ),
  report: output(
    "aux",
    { check: "utf8", groups: "int64", rows_found_in_input: "int64", rows_removed: "int64" },
    {
      doc: "one row per check that ran"
    }
  )
}

/**
 * The one wrapper every preset shares: resolve params to options, run the core. (Version 2: decontamination
 * first, kept twins always kept, votes follow their source row, empty eval prompts ignored. Version 3:
 * near-duplicates per field, modes pair / prompt / responses, default pair, maxPerPrompt. Version 4, the
 * presets that find near-duplicates: two texts without a word are alike only when they are the same text.)
 */
const runWith =
  <P>(resolve: (p: P) => DedupeOptions) =>
  (ctx: NodeRunContext<P, ReturnType<typeof inputs>>) =>
    runDedupe(
      ctx.node,
      { pairs: ctx.inputs.pairs, votes: ctx.inputs.votes, against: ctx.inputs.against },
      resolve(ctx.params)
    ).pipe(Effect.withSpan("dedupe", { attributes: { node: ctx.node } }))

/** What `wb serve` draws for a dedupe node (core/views.ts): the funnel of removals by reason and source. */
const dedupeViews: ReadonlyArray<NodeView> = [
  { name: "funnel", title: "Removed by reason", table: "removed", kind: "bar", x: "reason", color: "source" },
  {
    name: "kept-by-source",
    title: "Kept pairs by source and label",
    table: "pairs",
    kind: "bar",
    x: "source",
    color: "coalesce(label, 'unlabeled')"
  }
]

/** Every step, each switchable: decontaminate -> exact -> mirrored -> degenerate -> near (off). */
export const pairs = defineNode({
  kind: "dedupe.pairs",
  version: 5,
  summary: "Remove exact, mirrored, degenerate, near-duplicate and eval-contaminated pairs",
  params: DedupeParams,
  inputs: inputs("optional"),
  outputs,
  views: dedupeViews,
  run: runWith(resolvePairs)
})

/** Exact duplicates only (same prompt, response_a, response_b after `normalize`). */
export const exact = defineNode({
  kind: "dedupe.exact",
  version: 4,
  summary: "Remove exact duplicate pairs, merging their votes",
  params: ExactParams,
  inputs: inputs("none"),
  outputs,
  run: runWith(resolveExact)
})

/** Mirrored pairs only: (prompt, a, b) and (prompt, b, a) collapse, votes flipped. */
export const mirrored = defineNode({
  kind: "dedupe.mirrored",
  version: 4,
  summary: "Collapse pairs present in both orders (a, b) and (b, a), flipping votes",
  params: MirroredParams,
  inputs: inputs("none"),
  outputs,
  run: runWith(resolveMirrored)
})

/** Near-duplicates only (MinHash + LSH per field): the whole pair (default), the prompt, or the responses. */
export const nearDuplicates = defineNode({
  kind: "dedupe.near",
  version: 5,
  summary: "Remove near-duplicate pairs: prompt and both responses near (default), prompts only, or responses only",
  params: NearParams,
  inputs: inputs("none"),
  outputs,
  run: runWith(resolveNear)
})

/** Decontamination only: drop pairs whose prompt equals or nearly matches an eval prompt. */
export const decontaminate = defineNode({
  kind: "dedupe.decontaminate",
  version: 4,
  summary: "Drop pairs whose prompt matches an eval prompt exactly or nearly",
  params: DecontaminateParams,
  inputs: inputs("required"),
  outputs,
  run: runWith(resolveDecontaminate)
})

export const dedupe = { pairs, exact, mirrored, nearDuplicates, decontaminate }
