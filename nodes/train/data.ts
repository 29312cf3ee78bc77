/**
 * Pairs into the Trainer's arrays: featurize.hash's `prompt_hash` / `a_hash` / `b_hash` (or featurize.embed's
 * `*_embedding` vectors) streamed out of DuckDB in input order, one text slot per prompt and response,
 * with each pair's orientation (chosen = the labelled side), smoothing, margin and weight.
 */
import { Effect } from "effect"
import type { TableSchema } from "../../workbench/core/contract.js"
import { DataError } from "../../workbench/core/errors.js"
import type { InputTable } from "../../workbench/core/node.js"
import { Sql } from "../../workbench/core/services.js"
import type { PairSet } from "../../workbench/core/trainer.js"
import { hashConfigProblem } from "../lib/text-hash.js"

export type Features = "hash" | "embedding"

export const featureColumns = (f: Features) =>
  f === "hash"
    ? (["prompt_hash", "a_hash", "b_hash"] as const)
    : (["prompt_embedding", "a_embedding", "b_embedding"] as const)

export const has = (s: TableSchema, name: string) => s.columns.some((c) => c.name === name)

/** A list cell as the engine streams it: an array, a typed array, or an `{ items }` list value. */
export const listOf = (v: unknown): ArrayLike<number> | null =>
  v === null || v === undefined
    ? null
    : Array.isArray(v) || ArrayBuffer.isView(v)
      ? (v as ArrayLike<number>)
      : ((v as { items?: ArrayLike<number> }).items ?? null)

export interface ReadOptions {
  readonly features: Features
  /** "train": labelled rows only (ties by `ties`); "score": every row, chosen = a, rejected = b. */
  readonly mode: "train" | "score"
  readonly ties: "skip" | "half"
  readonly labelSmoothing: number
  readonly where: string
}

export interface ReadPairs {
  readonly pairs: PairSet
  /** `_wb_row` of each pair kept, in order (to join results back). */
  readonly rows: Float64Array
  readonly skipped: { readonly unlabelled: number; readonly ties: number }
  /** hash_config of the first row (hash features), or the embedding width. */
  readonly hashConfig: unknown
  readonly dim: number
}

export const readPairs = (input: InputTable, o: ReadOptions) =>
  Effect.gen(function* () {
    const sql = yield* Sql
    const [pc, ac, bc] = featureColumns(o.features)
    const s = input.schema
    const opt = (name: string, fallback: string) => (has(s, name) ? `"${name}"::DOUBLE` : fallback)
    const label = o.mode === "train" ? `"label"` : "'a'"
    // Each distinct list crosses into JS once: a repeat (AlpacaEval's 805 prompts and baseline answers
    // recur across ~48 models' pairs: 116k lists, 39k distinct) comes as NULL plus the row of its first
    // occurrence, whose text it shares. Exact: partitions compare whole lists, not hashes.
    const once = (c: string) =>
      `CASE WHEN _wb_row = min(_wb_row) OVER (PARTITION BY "${c}") THEN "${c}" END, min(_wb_row) OVER (PARTITION BY "${c}")`
    const query = `SELECT _wb_row, ${label}, ${once(pc)}, ${once(ac)}, ${once(bc)}, ${opt("margin", "0")}, ${opt("label_weight", "NULL")},
      ${opt("weight", "1")}, ${o.features === "hash" ? "hash_config::VARCHAR" : "NULL"} FROM ${input.numbered} ORDER BY _wb_row`
    const bags: Array<ArrayLike<number> | null> = []
    // per feature column: the row of a list's first occurrence → its text
    const firsts = [new Map<number, number>(), new Map<number, number>(), new Map<number, number>()]
    /** The text of column k's list in this row (columns 2 + 2k: the list or NULL, 3 + 2k: its first row). */
    const textOf = (cols: ReadonlyArray<ReadonlyArray<unknown>>, i: number, k: number): number => {
      const first = Number(cols[3 + 2 * k]![i]),
        seen = firsts[k]!.get(first)
      if (seen !== undefined) return seen
      firsts[k]!.set(first, bags.length)
      return bags.push(listOf(cols[2 + 2 * k]![i])) - 1
    }
    const rows: number[] = [],
      prompt: number[] = [],
      chosen: number[] = [],
      rejected: number[] = []
    const smoothing: number[] = [],
      margin: number[] = [],
      weight: number[] = [],
      tie: number[] = []
    let unlabelled = 0,
      ties = 0,
      hashConfig: unknown,
      dim = -1,
      bad: string | null = null
    yield* sql.scan(query, (cols, n) => {
      for (let i = 0; i < n && bad === null; i++) {
        // a skipped row may hold a list's first occurrence that later rows share: register its texts first
        const tp = textOf(cols, i, 0),
          ta = textOf(cols, i, 1),
          tb = textOf(cols, i, 2)
        const l = cols[1]![i] as string | null
        if (l !== "a" && l !== "b" && !(l === "tie" && o.ties === "half")) {
          if (l === "tie") ties++
          else unlabelled++
          continue
        }
        const p = bags[tp]!,
          a = bags[ta]!,
          b = bags[tb]!
        if (p === null || a === null || b === null || p.length === 0 || a.length === 0 || b.length === 0) {
          bad = `row ${Number(cols[0]![i])} has an empty or NULL ${p === null || p.length === 0 ? pc : a === null || a.length === 0 ? ac : bc}`
          break
        }
        if (o.features === "embedding") {
          if (dim < 0) dim = p.length
          bad = widthMismatch(Number(cols[0]![i]), dim, p, a, b)
          if (bad !== null) break
        } else if (hashConfig === undefined) hashConfig = JSON.parse(String(cols[11]![i]))
        rows.push(Number(cols[0]![i]))
        prompt.push(tp)
        chosen.push(l === "b" ? tb : ta)
        rejected.push(l === "b" ? ta : tb)
        const lw = cols[9]![i] as number | null
        tie.push(l === "tie" ? 1 : 0)
        smoothing.push(l === "tie" ? 0.5 : lw === null ? o.labelSmoothing : Math.max(o.labelSmoothing, 1 - lw))
        margin.push(l === "tie" ? 0 : Number(cols[8]![i] ?? 0))
        weight.push(Number(cols[10]![i] ?? 1))
      }
    })
    const fail = (found: string, expected: string, fix: string) =>
      new DataError({ where: `${o.where} input pairs`, found, expected, fix })
    const problem = featureProblem(o, bad, hashConfig)
    if (problem !== null) return yield* problem
    if (weight.some((w) => !(w > 0)))
      return yield* fail(
        "a weight column with values that are not positive",
        "weights > 0",
        "fix the weight column, or drop it"
      )
    // texts only skipped rows held (their lists may be NULL or empty) are left out
    const kept = keepReferenced(bags, [prompt, chosen, rejected])
    const texts = o.features === "hash" ? bagTable(kept) : { count: kept.length, vectors: vectorTable(kept, dim) }
    return {
      pairs: {
        texts,
        prompt: Int32Array.from(prompt),
        chosen: Int32Array.from(chosen),
        rejected: Int32Array.from(rejected),
        smoothing: Float32Array.from(smoothing),
        margin: Float32Array.from(margin),
        weight: Float32Array.from(weight),
        tie: Uint8Array.from(tie)
      },
      rows: Float64Array.from(rows),
      skipped: { unlabelled, ties },
      hashConfig: hashConfig ?? null,
      dim
    } satisfies ReadPairs
  })

/** The texts some pair refers to, renumbering the refs in place (in order; nothing moves when all are used). */
function keepReferenced(
  texts: ReadonlyArray<ArrayLike<number> | null>,
  refs: ReadonlyArray<number[]>
): Array<ArrayLike<number>> {
  const to = new Int32Array(texts.length).fill(-1)
  for (const r of refs) for (const t of r) to[t] = 0
  const out: Array<ArrayLike<number>> = []
  for (let t = 0; t < texts.length; t++) if (to[t] === 0) to[t] = out.push(texts[t]!) - 1
  if (out.length < texts.length) for (const r of refs) for (let i = 0; i < r.length; i++) r[i] = to[r[i]!]!
  return out
}

/** Bags of ids as the Trainer's text table: offsets into one flat id array. */
export function bagTable(bags: ReadonlyArray<ArrayLike<number>>) {
  const offsets = new Int32Array(bags.length + 1)
  for (let i = 0; i < bags.length; i++) offsets[i + 1] = offsets[i]! + bags[i]!.length
  const ids = new Int32Array(offsets[bags.length]!)
  for (let i = 0; i < bags.length; i++) ids.set(bags[i]!, offsets[i]!)
  return { count: bags.length, offsets, ids }
}

/** Vectors of width `dim` as one row-major array (empty while no row set the width: dim −1). */
export function vectorTable(vs: ReadonlyArray<ArrayLike<number>>, dim: number) {
  const out = new Float32Array(vs.length * Math.max(dim, 0))
  for (let i = 0; i < vs.length; i++) out.set(vs[i]!, i * dim)
  return out
}

/** A row whose three embeddings are not `dim` wide (the first row's width), as `bad` text; null when they fit. */
export const widthMismatch = (
  row: number,
  dim: number,
  p: ArrayLike<number>,
  a: ArrayLike<number>,
  b: ArrayLike<number>
): string | null =>
  p.length === dim && a.length === dim && b.length === dim
    ? null
    : `row ${row} has embeddings of ${p.length} / ${a.length} / ${b.length} values, earlier rows ${dim}`

/** A row's missing or mismatched features (`bad`, found while reading) or a foreign hash_config, as an error. */
export function featureProblem(
  o: Pick<ReadOptions, "features" | "where">,
  bad: string | null,
  hashConfig: unknown
): DataError | null {
  const fail = (found: string, expected: string, fix: string) =>
    new DataError({ where: `${o.where} input pairs`, found, expected, fix })
  if (bad !== null)
    return fail(
      bad,
      `every pair with its three ${o.features === "hash" ? "hashed feature lists" : "embeddings"}`,
      `featurize the pairs first (featurize.${o.features === "hash" ? "hash" : "embed"})`
    )
  const problem = o.features === "hash" && hashConfig !== undefined ? hashConfigProblem(hashConfig) : undefined
  if (problem === undefined) return null
  return fail(
    `hash_config ${problem}`,
    "a hash_config written by featurize.hash of this build",
    "re-run featurize.hash on the pairs"
  )
}
