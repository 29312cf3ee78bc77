/**
 * Params of the dedupe family, as Effect Schemas with defaults and descriptions. `dedupe.pairs` takes
 * every step (nested: `{ near: { enabled: true, threshold: 0.85 } }`); the presets take the flat
 * params of their one step. `resolve*` turn each into the one options shape the core runs on.
 */
import { Schema } from "effect"
import { param } from "../../workbench/core/params.js"
import type { NearOn } from "./near-match.js"
import type { ConflictPolicy, KeepPolicy } from "./plan.js"

const Normalize = param(
  Schema.Literals(["none", "whitespace", "case", "nfc"]),
  "whitespace",
  "how texts are compared: none (as stored), whitespace (whitespace runs collapsed, ends trimmed), " +
    "case (whitespace + lower case), nfc (case + Unicode NFC)"
)

const Keep = param(
  Schema.Literals(["first", "longest", "most-votes"]),
  "first",
  "which row of a duplicate group stays: first (lowest source name, then source_row; not the order " +
    "of the inputs), longest (most characters in both responses), most-votes (most votes on the row); ties go to the first"
)

const conflictPolicy = (value: ConflictPolicy, what: string) =>
  param(
    Schema.Literals(["merge", "drop-both", "keep-first", "keep-both"]),
    value,
    `${what} whose labels disagree: merge (like any duplicate; votes pooled, label re-voted), ` +
      "drop-both (remove every row of the group), keep-first (keep the picked row, drop the others and their votes), " +
      "keep-both (remove nothing)"
  )

const enabled = (value: boolean, what: string) => param(Schema.Boolean, value, what)

const unit = (value: number, description: string) =>
  param(Schema.Number.check(Schema.isGreaterThan(0), Schema.isLessThanOrEqualTo(1)), value, description)

/** MinHash settings, shared by near-duplicates and near decontamination. */
const minhashFields = {
  numPerm: param(
    Schema.Int.check(Schema.isBetween({ minimum: 8, maximum: 1024 })),
    128,
    "MinHash values per text (signature size; one-permutation hashing with densification)"
  ),
  bands: Schema.optionalKey(
    Schema.Int.check(Schema.isGreaterThan(0)).annotate({
      description:
        "LSH bands; default: derived from threshold so that a pair at the threshold is a candidate with p >= 0.99"
    })
  ),
  rows: Schema.optionalKey(
    Schema.Int.check(Schema.isGreaterThan(0)).annotate({
      description: "signature rows per LSH band (bands x rows <= numPerm); default: derived like bands"
    })
  ),
  shingle: param(
    Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 16 })),
    3,
    "words per shingle (words: lower-cased runs of letters and digits)"
  ),
  seed: param(Schema.Int, 1, "seed of the MinHash permutations")
}

const nearFields = {
  on: param(
    Schema.Literals(["pair", "prompt", "responses"]),
    "pair",
    "what makes two pairs near-duplicates, each text compared with its own (never concatenated): " +
      "pair (the prompts, and each response with its counterpart: a~a' and b~b', or mirrored a~b' and b~a'), " +
      "prompt (the prompts only: keeps one pair per group of near-identical prompts, so it collapses datasets that " +
      "pair one prompt with many response pairs; set maxPerPrompt to keep more), " +
      "responses (both responses, either orientation, whatever the prompts)"
  ),
  threshold: unit(
    0.8,
    "word-shingle Jaccard similarity at which two texts are near-duplicates (each text of the mode)"
  ),
  maxPerPrompt: param(
    Schema.Int.check(Schema.isGreaterThan(0)),
    1,
    "on: prompt only: keep up to this many pairs per group of near-duplicate prompts (picked by the keep policy)"
  ),
  ...minhashFields
}

const decontaminateFields = {
  near: enabled(true, "also drop pairs whose prompt is near (MinHash Jaccard >= threshold) an eval prompt"),
  threshold: unit(0.8, "word-shingle Jaccard similarity at which a prompt matches an eval prompt"),
  ...minhashFields
}

export const DedupeParams = Schema.Struct({
  normalize: Normalize,
  keep: Keep,
  exact: param(
    Schema.Struct({
      enabled: enabled(true, "remove exact duplicates: same prompt, response_a and response_b after normalize"),
      onConflict: conflictPolicy("merge", "exact duplicate groups")
    }),
    {},
    "the exact-duplicate step"
  ),
  mirrored: param(
    Schema.Struct({
      enabled: enabled(true, "collapse mirrored pairs: (prompt, a, b) and (prompt, b, a); votes are flipped"),
      onConflict: conflictPolicy("drop-both", "mirrored groups")
    }),
    {},
    "the mirrored-pair step"
  ),
  degenerate: param(
    Schema.Struct({
      emptySide: enabled(true, "remove pairs with an empty (or whitespace-only) response"),
      identical: enabled(true, "remove pairs whose two responses are equal after normalize")
    }),
    {},
    "the degenerate-pair step"
  ),
  near: param(
    Schema.Struct({
      enabled: enabled(
        false,
        "remove near-duplicates (MinHash + LSH, clusters by union-find); off by default: " +
          "many datasets share one prompt across legitimate pairs"
      ),
      ...nearFields
    }),
    {},
    "the near-duplicate step"
  ),
  decontaminate: param(
    Schema.Struct({
      enabled: enabled(true, "drop pairs whose prompt matches an eval prompt of the `against` input (when connected)"),
      ...decontaminateFields
    }),
    {},
    "the decontamination step (runs when `against` is connected)"
  )
})
export type DedupeParams = typeof DedupeParams.Type

export const ExactParams = Schema.Struct({
  normalize: Normalize,
  keep: Keep,
  onConflict: conflictPolicy("merge", "groups")
})
export type ExactParams = typeof ExactParams.Type

export const MirroredParams = Schema.Struct({
  normalize: Normalize,
  keep: Keep,
  onConflict: conflictPolicy("drop-both", "groups")
})
export type MirroredParams = typeof MirroredParams.Type

export const NearParams = Schema.Struct({ keep: Keep, ...nearFields })
export type NearParams = typeof NearParams.Type

export const DecontaminateParams = Schema.Struct({ normalize: Normalize, ...decontaminateFields })
export type DecontaminateParams = typeof DecontaminateParams.Type

export type Normalize = DedupeParams["normalize"]

export interface MinHashSettings {
  readonly threshold: number
  readonly numPerm: number
  readonly bands?: number | undefined
  readonly rows?: number | undefined
  readonly shingle: number
  readonly seed: number
}

/** What the core runs: one shape for every preset. A step that is undefined is off. */
export interface DedupeOptions {
  readonly normalize: Normalize
  readonly keep: KeepPolicy
  readonly exact?: { readonly onConflict: ConflictPolicy } | undefined
  readonly mirrored?: { readonly onConflict: ConflictPolicy } | undefined
  readonly emptySide: boolean
  readonly identical: boolean
  readonly near?: (MinHashSettings & { readonly on: NearOn; readonly maxPerPrompt: number }) | undefined
  /** Runs only when an `against` input is connected. */
  readonly decontaminate?: { readonly near?: MinHashSettings | undefined } | undefined
}

const minhashOf = (p: MinHashSettings): MinHashSettings => ({
  threshold: p.threshold,
  numPerm: p.numPerm,
  bands: p.bands,
  rows: p.rows,
  shingle: p.shingle,
  seed: p.seed
})

const none = {
  exact: undefined,
  mirrored: undefined,
  emptySide: false,
  identical: false,
  near: undefined,
  decontaminate: undefined
}

export const resolvePairs = (p: DedupeParams): DedupeOptions => ({
  normalize: p.normalize,
  keep: p.keep,
  exact: p.exact.enabled ? { onConflict: p.exact.onConflict } : undefined,
  mirrored: p.mirrored.enabled ? { onConflict: p.mirrored.onConflict } : undefined,
  emptySide: p.degenerate.emptySide,
  identical: p.degenerate.identical,
  near: p.near.enabled ? { ...minhashOf(p.near), on: p.near.on, maxPerPrompt: p.near.maxPerPrompt } : undefined,
  decontaminate: p.decontaminate.enabled
    ? { near: p.decontaminate.near ? minhashOf(p.decontaminate) : undefined }
    : undefined
})

export const resolveExact = (p: ExactParams): DedupeOptions => ({
  ...none,
  normalize: p.normalize,
  keep: p.keep,
  exact: { onConflict: p.onConflict }
})

export const resolveMirrored = (p: MirroredParams): DedupeOptions => ({
  ...none,
  normalize: p.normalize,
  keep: p.keep,
  mirrored: { onConflict: p.onConflict }
})

export const resolveNear = (p: NearParams): DedupeOptions => ({
  ...none,
  normalize: "whitespace",
  keep: p.keep,
  near: { ...minhashOf(p), on: p.on, maxPerPrompt: p.maxPerPrompt }
})

export const resolveDecontaminate = (p: DecontaminateParams): DedupeOptions => ({
  ...none,
  normalize: p.normalize,
  keep: "first",
  decontaminate: { near: p.near ? minhashOf(p) : undefined }
})
