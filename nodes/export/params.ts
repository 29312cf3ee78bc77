/** Params the export presets share. */
import { Schema } from "effect"
import { param } from "../../workbench/core/params.js"

export const ToParam = Schema.String.check(Schema.isMinLength(1)).annotate({
  description:
    "the file to write, relative to the project root (e.g. exports/hh-trl/train.jsonl); " +
    "its folder is created, and a data card README.md is written beside it"
})

export const TiesParam = param(
  Schema.Literals(["drop", "error"]),
  "drop",
  "pairs labeled 'tie' or not labeled: drop (to the removed table, reason tie | unlabeled) or error (fail, naming the first)"
)

export const IdenticalParam = param(
  Schema.Literals(["drop", "error"]),
  "drop",
  "pairs whose two responses are the same text (chosen would equal rejected): drop (reason 'identical responses') or error"
)

export const TurnMarkersParam = param(
  Schema.Literals(["restore", "none"]),
  "restore",
  "restore: prompts loaded from HH-RLHF transcripts (prompt_format 'hh-turn' | 'hh-dialogue') get their " +
    '"\\n\\nHuman: …\\n\\nAssistant:" markers back and replies their leading space, as TRL\'s HH datasets have them; ' +
    "none: prompts and replies as in the table"
)

export const SeparatorParam = param(
  Schema.String,
  "\n\n",
  "implicit layouts: the text between a plain prompt and its reply (HH prompts with restored markers need none)"
)

export const MarginParam = param(
  Schema.String,
  "auto",
  "auto: write the input's margin column (as a number) when it has one; none: never; any other value: " +
    "the column holding by how much chosen beats rejected, written as margin"
)

export const KeepParam = param(
  Schema.Array(Schema.String),
  [],
  'further input columns written after the trainer\'s (e.g. ["pair_id", "source"]) to trace rows back'
)
