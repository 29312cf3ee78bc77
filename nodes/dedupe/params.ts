/**
 * Params of the dedupe family, as Effect Schemas with defaults and descriptions. `dedupe.pairs` takes
 * every step (nested: `{ near: { enabled: true, threshold: 0.85 } }`); the presets take the flat
 * params of their one step. `resolve*` turn each into the one options shape the core runs on.
 */
import { Effect, Schema } from "effect"
import type { ConflictPolicy, KeepPolicy } from "./plan.js"

const dflt = <S extends Schema.Constraint>(schema: S, value: S["Encoded"]) =>
  Schema.withDecodingDefaultKey<S>(Effect.succeed(value))(schema)

const Normalize = dflt(Schema.Literals(["none", "whitespace", "case", "nfc"]).annotate({
  description: "how texts are compared: none (as stored), whitespace (whitespace runs collapsed, ends trimmed), " +
    "case (whitespace + lower case), nfc (case + Unicode NFC)"
}), "whitespace")

const Keep = dflt(Schema.Literals(["first", "longest", "most-votes"]).annotate({
  description: "which row of a duplicate group stays: first (lowest source name, then source_row; not the order " +
    "of the inputs), longest (most characters in both responses), most-votes (most votes on the row); ties go to the first"
}), "first")

const conflictPolicy = (value: ConflictPolicy, what: string) =>
  dflt(Schema.Literals(["merge", "drop-both", "keep-first", "keep-both"]).annotate({
    description: `${what} whose labels disagree: merge (like any duplicate; votes pooled, label re-voted), ` +
      "drop-both (remove every row of the group), keep-first (keep the picked row, drop the others and their votes), " +
      "keep-both (remove nothing)"
  }), value)

const enabled = (value: boolean, what: string) => dflt(Schema.Boolean.annotate({ description: what }), value)

const unit = (value: number, description: string) =>
  dflt(Schema.Number.check(Schema.isGreaterThan(0), Schema.isLessThanOrEqualTo(1)).annotate({ description }), value)

/** MinHash settings, shared by near-duplicates and near decontamination. */
const minhashFields = {
  numPerm: dflt(Schema.Int.check(Schema.isBetween({ minimum: 8, maximum: 1024 })).annotate({
    description: "MinHash values per text (signature size; one-permutation hashing with densification)"
  }), 128),
  bands: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThan(0)).annotate({
    description: "LSH bands; default: derived from threshold so that a pair at the threshold is a candidate with p >= 0.99"
  })),
  rows: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThan(0)).annotate({
    description: "signature rows per LSH band (bands x rows <= numPerm); default: derived like bands"
  })),
  shingle: dflt(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 16 })).annotate({
    description: "words per shingle (words: lower-cased runs of letters and digits)"
  }), 3),
  seed: dflt(Schema.Int.annotate({ description: "seed of the MinHash permutations" }), 1)
}

const nearFields = {
  on: dflt(Schema.Literals(["prompt", "pair"]).annotate({
    description: "compare prompts only, or the whole pair (prompt + both responses)"
  }), "prompt"),
  threshold: unit(0.8, "word-shingle Jaccard similarity at which two texts are near-duplicates"),
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
  exact: dflt(Schema.Struct({
    enabled: enabled(true, "remove exact duplicates: same prompt, response_a and response_b after normalize"),
    onConflict: conflictPolicy("merge", "exact duplicate groups")
  }), {}),
  mirrored: dflt(Schema.Struct({
    enabled: enabled(true, "collapse mirrored pairs: (prompt, a, b) and (prompt, b, a); votes are flipped"),
    onConflict: conflictPolicy("drop-both", "mirrored groups")
  }), {}),
  degenerate: dflt(Schema.Struct({
    emptySide: enabled(true, "remove pairs with an empty (or whitespace-only) response"),
    identical: enabled(true, "remove pairs whose two responses are equal after normalize")
  }), {}),
  near: dflt(Schema.Struct({
    enabled: enabled(false, "remove near-duplicates (MinHash + LSH, clusters by union-find); off by default: " +
      "many datasets share one prompt across legitimate pairs"),
    ...nearFields
  }), {}),
  decontaminate: dflt(Schema.Struct({
    enabled: enabled(true, "drop pairs whose prompt matches an eval prompt of the `against` input (when connected)"),
    ...decontaminateFields
  }), {})
})
export type DedupeParams = typeof DedupeParams.Type

export const ExactParams = Schema.Struct({ normalize: Normalize, keep: Keep, onConflict: conflictPolicy("merge", "groups") })
export type ExactParams = typeof ExactParams.Type

export const MirroredParams = Schema.Struct({ normalize: Normalize, keep: Keep, onConflict: conflictPolicy("drop-both", "groups") })
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
  readonly near?: (MinHashSettings & { readonly on: "prompt" | "pair" }) | undefined
  /** Runs only when an `against` input is connected. */
  readonly decontaminate?: { readonly near?: MinHashSettings | undefined } | undefined
}

const minhashOf = (p: MinHashSettings): MinHashSettings => ({
  threshold: p.threshold, numPerm: p.numPerm, bands: p.bands, rows: p.rows, shingle: p.shingle, seed: p.seed
})

const none = { exact: undefined, mirrored: undefined, emptySide: false, identical: false, near: undefined, decontaminate: undefined }

export const resolvePairs = (p: DedupeParams): DedupeOptions => ({
  normalize: p.normalize,
  keep: p.keep,
  exact: p.exact.enabled ? { onConflict: p.exact.onConflict } : undefined,
  mirrored: p.mirrored.enabled ? { onConflict: p.mirrored.onConflict } : undefined,
  emptySide: p.degenerate.emptySide,
  identical: p.degenerate.identical,
  near: p.near.enabled ? { ...minhashOf(p.near), on: p.near.on } : undefined,
  decontaminate: p.decontaminate.enabled
    ? { near: p.decontaminate.near ? minhashOf(p.decontaminate) : undefined }
    : undefined
})

export const resolveExact = (p: ExactParams): DedupeOptions =>
  ({ ...none, normalize: p.normalize, keep: p.keep, exact: { onConflict: p.onConflict } })

export const resolveMirrored = (p: MirroredParams): DedupeOptions =>
  ({ ...none, normalize: p.normalize, keep: p.keep, mirrored: { onConflict: p.onConflict } })

export const resolveNear = (p: NearParams): DedupeOptions =>
  ({ ...none, normalize: "whitespace", keep: p.keep, near: { ...minhashOf(p), on: p.on } })

export const resolveDecontaminate = (p: DecontaminateParams): DedupeOptions =>
  ({ ...none, normalize: p.normalize, keep: "first", decontaminate: { near: p.near ? minhashOf(p) : undefined } })
