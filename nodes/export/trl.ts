import { Effect, Schema } from "effect"
import { input } from "../../workbench/core/contract.js"
import { param } from "../../workbench/core/params.js"
import { defineExport } from "./define.js"
import { FormatParam } from "./format.js"
import { type Layout, preferenceRows, rowsSchema } from "./pairs.js"
import {
  IdenticalParam,
  KeepParam,
  MarginParam,
  SeparatorParam,
  TiesParam,
  ToParam,
  TurnMarkersParam
} from "./params.js"

export const TrlExportParams = Schema.Struct({
  to: ToParam,
  layout: param(
    Schema.Literals(["explicit", "implicit", "conversational", "conversational-implicit"]),
    "explicit",
    "explicit: {prompt, chosen, rejected} strings; implicit: {chosen, rejected}, each the prompt followed by its reply; " +
      "conversational: prompt, chosen and rejected as {role, content} message lists; conversational-implicit: " +
      "chosen and rejected as whole conversations"
  ),
  format: FormatParam,
  turnMarkers: TurnMarkersParam,
  separator: SeparatorParam,
  margin: MarginParam,
  ties: TiesParam,
  identical: IdenticalParam,
  keep: KeepParam
})
export type TrlExportParams = typeof TrlExportParams.Type

/** The pairs columns an export reads; prompt_format and messages tell it how the prompt was written. */
export const preferenceInput = () =>
  input(
    { pair_id: "utf8", prompt: "utf8", response_a: "utf8", response_b: "utf8" },
    {
      optional: { label: "utf8", label_source: "utf8", source: "utf8", prompt_format: "utf8", messages: "json" },
      doc: "labeled pairs (label 'a' | 'b' picks chosen)"
    }
  )

/** `margin` as the params and the input's columns decide it: a column name, or none. */
export const marginColumn = (margin: string, columns: ReadonlyArray<{ readonly name: string }>): string | undefined =>
  margin === "none"
    ? undefined
    : margin !== "auto"
      ? margin
      : columns.some((c) => c.name === "margin")
        ? "margin"
        : undefined

const LAYOUT_NOTE: Record<Layout, string> = {
  explicit: "layout: explicit prompt (prompt, chosen, rejected strings)",
  implicit: "layout: implicit prompt (chosen and rejected each hold the prompt and its reply)",
  conversational: "layout: conversational (prompt, chosen, rejected as lists of {role, content} messages)",
  "conversational-implicit": "layout: conversational, implicit prompt (chosen and rejected are whole conversations)"
}

const usage = (shown: string) =>
  [
    "Use it (from the project root):",
    "",
    "```python",
    "from datasets import load_dataset",
    "from trl import DPOConfig, DPOTrainer",
    "",
    `train = load_dataset("json", data_files=${JSON.stringify(shown)}, split="train")`,
    `trainer = DPOTrainer(model="Qwen/Qwen2.5-0.5B-Instruct", args=DPOConfig(output_dir="dpo-out"), train_dataset=train)`,
    "trainer.train()",
    "```"
  ].join("\n")

/**
 * Write labeled pairs as a TRL preference dataset (DPOTrainer, RewardTrainer, …).
 *
 * Each pair's label picks chosen ('a': response_a) and rejected. Pairs labeled 'tie' or unlabeled,
 * and pairs whose two responses are the same text, are left out by default (to `removed`, with the
 * reason) or fail the node (`ties: "error"`, `identical: "error"`): chosen never equals rejected.
 * Prompts loaded from HH-RLHF transcripts (`prompt_format`) get their "\n\nHuman: …\n\nAssistant:"
 * markers back and their replies the leading space, so prompt + chosen is the source's own `chosen`
 * transcript, as in TRL's HH datasets; in the conversational layouts an HH dialogue becomes user and
 * assistant messages instead, and a prompt with a `messages` list keeps it.
 *
 * **Input columns** `pairs`: pair_id, prompt, response_a, response_b; optional label, label_source,
 * source, prompt_format ('hh-turn' | 'hh-dialogue'), messages (JSON), margin, and any named in `keep`.
 *
 * **Output columns**
 * - `rows`: what the file holds: prompt (not in the implicit layouts), chosen, rejected (text, or JSON
 *   message lists), then margin (float64) when written, then the `keep` columns.
 * - `removed`: the input's columns and `reason` ('tie', 'unlabeled', 'identical responses',
 *   'missing prompt or response', 'unknown label "…"'). Rows in = rows + removed.
 * - `card`: file, section (its part of the README.md data card), sha256, bytes.
 *
 * **Params** to (required), layout (explicit), format (auto: from the name), turnMarkers (restore),
 * separator ("\n\n"), margin (auto), ties (drop), identical (drop), keep ([]).
 *
 * **Stats** written, bytes, file, hh_markers_restored, plus removed rows by reason in the card.
 *
 * **Example**
 * ```ts
 * p.node("trl", exportTo.trl({ to: "exports/hh-trl/train.jsonl" }), { pairs: clean })
 * ```
 */
export const trl = defineExport({
  kind: "export.trl",
  version: 1,
  summary: "Labeled pairs -> a TRL preference dataset file (explicit, implicit or conversational) with a data card",
  params: TrlExportParams,
  input: { name: "pairs", contract: preferenceInput() },
  rowsSchema: (params, input) =>
    rowsSchema({ ...params, keys: { prompt: "prompt", chosen: "chosen", rejected: "rejected" } }, input),
  build: ({ node, kind, params, input, target }) =>
    Effect.gen(function* () {
      const margin = marginColumn(params.margin, input.schema.columns)
      const made = yield* preferenceRows({ node, kind }, input, {
        layout: params.layout,
        turnMarkers: params.turnMarkers,
        separator: params.separator,
        keys: { prompt: "prompt", chosen: "chosen", rejected: "rejected" },
        ...(margin === undefined ? {} : { margin }),
        keep: params.keep,
        ties: params.ties,
        identical: params.identical
      })
      const conversational = params.layout.startsWith("conversational")
      const restored = params.turnMarkers === "restore" && !conversational ? made.hhPrompts : 0
      return {
        rows: made.rows,
        removed: made.removed,
        kept: made.kept,
        stats: { hh_markers_restored: restored },
        notes: [
          LAYOUT_NOTE[params.layout],
          conversational
            ? `${made.hhPrompts.toLocaleString("en-US")} HH prompts written as user/assistant messages`
            : `HH turn markers restored on ${restored.toLocaleString("en-US")} prompts (prompt + chosen = the source transcript)`,
          ...(margin === undefined ? [] : [`margin: from column \`${margin}\``])
        ],
        usage: usage(target.shown)
      }
    })
})
