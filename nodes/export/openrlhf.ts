import { Effect, Schema } from "effect"
import { DataError } from "../../workbench/core/errors.js"
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
import { marginColumn, preferenceInput } from "./trl.js"

const Key = Schema.String.check(Schema.isMinLength(1))

export const OpenRlhfExportParams = Schema.Struct({
  to: ToParam,
  format: FormatParam,
  messages: param(
    Schema.Boolean,
    true,
    "true: chat-template-ready {role, content} message lists (train with --apply_chat_template); false: plain text"
  ),
  promptKey: param(
    Schema.NullOr(Key),
    "prompt",
    "field holding the prompt (--prompt_key); null: no prompt field, chosen and rejected hold the whole conversation"
  ),
  chosenKey: param(Key, "chosen", "field holding the chosen reply (--chosen_key)"),
  rejectedKey: param(Key, "rejected", "field holding the rejected reply (--rejected_key)"),
  turnMarkers: TurnMarkersParam,
  separator: SeparatorParam,
  margin: MarginParam,
  ties: TiesParam,
  identical: IdenticalParam,
  keep: KeepParam
})
export type OpenRlhfExportParams = typeof OpenRlhfExportParams.Type

const layoutOf = (p: OpenRlhfExportParams): Layout =>
  p.messages
    ? p.promptKey === null
      ? "conversational-implicit"
      : "conversational"
    : p.promptKey === null
      ? "implicit"
      : "explicit"

const keysOf = (p: OpenRlhfExportParams) => ({
  prompt: p.promptKey ?? "prompt",
  chosen: p.chosenKey,
  rejected: p.rejectedKey
})

/** Two fields of the file under one name (a key equal to another, to margin or to a kept column). */
const clashOf = (p: OpenRlhfExportParams, margin: string | undefined, at = "") => {
  const written = [
    ...(p.promptKey === null ? [] : [p.promptKey]),
    p.chosenKey,
    p.rejectedKey,
    ...(margin === undefined ? [] : ["margin"]),
    ...p.keep
  ]
  const clash = written.find((k, i) => written.indexOf(k) !== i)
  return clash === undefined
    ? undefined
    : new DataError({
        where: `${at}params promptKey, chosenKey, rejectedKey, keep`,
        found: `the field "${clash}" would be written twice (fields: ${written.join(", ")})`,
        expected: "distinct field names",
        fix: `rename one of them, e.g. chosenKey: "chosen", rejectedKey: "rejected"`
      })
}

const usage = (p: OpenRlhfExportParams, shown: string) => {
  const flags = [
    ...(p.promptKey === null ? [] : [`--prompt_key ${p.promptKey}`]),
    `--chosen_key ${p.chosenKey}`,
    `--rejected_key ${p.rejectedKey}`,
    ...(p.messages ? ["--apply_chat_template"] : [])
  ].join(" ")
  return [
    "Use it (from the project root; add your DeepSpeed and batch flags):",
    "",
    "```bash",
    `deepspeed --module openrlhf.cli.train_rm --pretrain <base model> --dataset ${shown} ${flags} --save_path ./rm-out`,
    `deepspeed --module openrlhf.cli.train_dpo --pretrain <sft model> --dataset ${shown} ${flags} --save_path ./dpo-out`,
    "```"
  ].join("\n")
}

/**
 * Write labeled pairs for OpenRLHF's reward-model and DPO trainers (`openrlhf.cli.train_rm`,
 * `train_dpo`).
 *
 * The same pairs core as `export.trl` (chosen by label, ties / unlabeled / identical responses left
 * out or failing, HH markers restored in text form), with the field names OpenRLHF's
 * `--prompt_key --chosen_key --rejected_key` flags will name. With `messages: true` (the default) the
 * fields are message lists ready for `--apply_chat_template`: the prompt's messages, and one assistant
 * message per reply (OpenRLHF applies the template to prompt + reply), or, with `promptKey: null`,
 * the whole conversation in each. A `margin` column is written as `margin`, which OpenRLHF reads for
 * `--margin_loss`.
 *
 * **Input columns** as `export.trl`.
 *
 * **Output columns**
 * - `rows`: promptKey (unless null), chosenKey, rejectedKey, then margin, then the `keep` columns.
 * - `removed`: the input's columns and `reason`. `card`: file, section, sha256, bytes.
 *
 * **Params** to (required), format (auto), messages (true), promptKey ("prompt"), chosenKey ("chosen"),
 * rejectedKey ("rejected"), turnMarkers (restore), separator ("\n\n"), margin (auto), ties (drop),
 * identical (drop), keep ([]).
 *
 * **Stats** written, bytes, file.
 *
 * **Example**
 * ```ts
 * p.node("openrlhf", exportTo.openrlhf({ to: "exports/openrlhf/train.jsonl" }), { pairs: clean })
 * ```
 */
export const openrlhf = defineExport({
  kind: "export.openrlhf",
  version: 1,
  summary:
    "Labeled pairs -> an OpenRLHF reward/DPO dataset (configurable keys, chat-template-ready messages) with a data card",
  params: OpenRlhfExportParams,
  input: { name: "pairs", contract: preferenceInput() },
  rowsSchema: (params, input) =>
    clashOf(params, marginColumn(params.margin, input.columns)) ??
    rowsSchema({ ...params, layout: layoutOf(params), keys: keysOf(params) }, input),
  build: ({ node, kind, params, input, target }) =>
    Effect.gen(function* () {
      const margin = marginColumn(params.margin, input.schema.columns)
      const clash = clashOf(params, margin, `node "${node}" (${kind}) `)
      if (clash !== undefined) return yield* clash
      const made = yield* preferenceRows({ node, kind }, input, {
        layout: layoutOf(params),
        turnMarkers: params.turnMarkers,
        separator: params.separator,
        keys: keysOf(params),
        ...(margin === undefined ? {} : { margin }),
        keep: params.keep,
        ties: params.ties,
        identical: params.identical
      })
      return {
        rows: made.rows,
        removed: made.removed,
        kept: made.kept,
        notes: [
          params.messages ? "fields: {role, content} message lists, for --apply_chat_template" : "fields: plain text",
          `keys: ${[params.promptKey, params.chosenKey, params.rejectedKey].filter((k) => k !== null).join(", ")}${margin === undefined ? "" : `, margin (from column \`${margin}\`)`}`
        ],
        usage: usage(params, target.shown)
      }
    })
})
