/**
 * What "near-duplicate pair" means, per mode, over per-field sketches (pure: no I/O). Every field is
 * sketched and bucketed on its own, never concatenated: a long text that many pairs share (one
 * baseline answer under 49 models' answers) would otherwise dominate the similarity of the whole.
 *
 * - `prompt`: the prompts are near-duplicates (Jaccard >= threshold); `maxPerPrompt` rows stay per
 *   group. Prompts without a word never match.
 * - `pair`: the prompts are, and each response is near its counterpart, in either orientation:
 *   (a ~ a' and b ~ b') or (a ~ b' and b ~ a'). Two texts without a word (empty, punctuation, ASCII
 *   art) are alike here only when they are the same text (leading and trailing whitespace aside).
 * - `responses`: both responses are, in either orientation, whatever the prompts.
 *
 * Candidates come from the LSH buckets of one field (the cheapest of those every match must share,
 * see minhash-match.ts) and are verified with exact shingle Jaccard on every field the mode names.
 */
import { similar, type SketchBatch } from "../lib/minhash.js"
import { bucketIndex, greedyMatch, type MatchView } from "../lib/minhash-match.js"

export type NearOn = "prompt" | "pair" | "responses"

/** Sketches of the fields a mode compares, one text per row each (row i is text i). */
export interface NearTexts {
  readonly prompt?: SketchBatch | undefined
  readonly a?: SketchBatch | undefined
  readonly b?: SketchBatch | undefined
  /**
   * Per field, row i: for a text without a word, an id > 0 that the same text (leading and trailing
   * whitespace aside) has in every field; 0 for the others. Absent: texts without a word never match.
   */
  readonly wordless?: { readonly [F in "prompt" | "a" | "b"]?: Int32Array | undefined } | undefined
}

/** One field's sketches with its wordless-text ids (see NearTexts). */
interface Field {
  readonly sk: SketchBatch
  readonly ids: Int32Array | undefined
}

export interface NearRule {
  readonly on: NearOn
  readonly threshold: number
  /** `prompt` mode: rows kept per group of near-duplicate prompts. 1 in the other modes. */
  readonly maxPerPrompt: number
}

/** Kept rows a bucket lists at most (see `cap` in minhash-match.ts). */
const BUCKET_CAP = 64

/** The fields a mode sketches. */
export const fieldsOf = (on: NearOn): ReadonlyArray<"prompt" | "a" | "b"> =>
  on === "prompt" ? ["prompt"] : on === "pair" ? ["prompt", "a", "b"] : ["a", "b"]

/**
 * Text i of x is near text j of y, for a field compared with its counterpart. Two texts without a word
 * have no shingles to compare (both sets empty), and that says nothing about them: an ASCII-art house
 * and an ASCII-art cat are not near-duplicates. So they are alike only when they are the same text
 * (equal ids); one without a word is never near one with words.
 */
const alike = (x: Field, i: number, y: Field, j: number, t: number) => {
  if (x.sk.sizes[i] !== 0 || y.sk.sizes[j] !== 0) return similar(x.sk, i, y.sk, j, t)
  const id = x.ids?.[i] ?? 0
  return id > 0 && id === (y.ids?.[j] ?? 0)
}

/** Whether row i's responses are near row j's, in either orientation. */
const responsesMatch = (A: Field, B: Field, t: number) => (i: number, j: number) =>
  (alike(A, i, A, j, t) && alike(B, i, B, j, t)) || (alike(A, i, B, j, t) && alike(B, i, A, j, t))

/**
 * A near-duplicate finder for `n` rows: given the rows taking part, best first (the keep order), the
 * kept row each removed row duplicates (-1: kept or not taking part). The bucket indexes are built
 * once, on the first call, and serve every later one.
 */
export function nearMatcher(n: number, texts: NearTexts, rule: NearRule): (order: Int32Array) => Int32Array {
  const t = rule.threshold
  let setup:
    | { views: Array<MatchView>; probes: Array<readonly [number, number]>; match: (i: number, j: number) => boolean }
    | undefined
  const build = () => {
    const { prompt: P, a: A, b: B } = texts
    const field = (sk: SketchBatch | undefined, k: "prompt" | "a" | "b"): Field => ({
      sk: sk!,
      ids: texts.wordless?.[k]
    })
    const [FP, FA, FB] = [field(P, "prompt"), field(A, "a"), field(B, "b")]
    const views: Array<MatchView> = [],
      probes: Array<readonly [number, number]> = []
    if (rule.on !== "responses") {
      probes.push([views.length, 0])
      views.push({ index: bucketIndex([P!]), offsets: [0] })
    }
    if (rule.on !== "prompt") {
      // a's and b's in one space (documents 0..n-1 and n..2n-1), so a mirrored match shares a bucket too
      probes.push([views.length, 0], [views.length, n])
      views.push({ index: bucketIndex([A!, B!]), offsets: [0, n] })
    }
    // prompt mode: prompts without a word never match (a dataset without prompts is not one group)
    const match =
      rule.on === "prompt"
        ? (i: number, j: number) => similar(P!, i, P!, j, t)
        : rule.on === "responses"
          ? responsesMatch(FA, FB, t)
          : (
              (r) => (i: number, j: number) =>
                alike(FP, i, FP, j, t) && r(i, j)
            )(responsesMatch(FA, FB, t))
    return { views, probes, match }
  }
  return (order) => {
    setup ??= build()
    const k = rule.on === "prompt" ? rule.maxPerPrompt : 1
    return greedyMatch({ rows: n, order, ...setup, k, cap: Math.max(BUCKET_CAP, 4 * k) }).twin
  }
}
