/**
 * The MinHash stage of dedupe: stream texts out of the table engine into worker threads, then hand
 * the plan a near-duplicate clustering function and the rows whose prompt nearly matches an eval prompt.
 */
import { Effect, Fiber, Schedule } from "effect"
import { DataError } from "../../workbench/core/errors.js"
import type { InputTable } from "../../workbench/core/node.js"
import { Progress, Sql } from "../../workbench/core/services.js"
import type { DedupeSource } from "./apply.js"
import type { DedupeOptions, MinHashSettings } from "./params.js"
import { crossMatches, DEFAULT_SET_CAP, lshShape, type SketchBatch, type SketchOptions } from "../lib/minhash.js"
import { sliceSketches } from "../lib/minhash-match.js"
import { SketchPool, workersFor } from "../lib/minhash-pool.js"
import { fieldsOf, nearMatcher, type NearTexts } from "./near-match.js"

export interface NearResult {
  /** The near-duplicate finder the plan runs (near-match.ts). Undefined: near-dup is off. */
  readonly near?: ((order: Int32Array) => Int32Array) | undefined
  /** 1 for rows whose prompt is near an eval prompt. Undefined: near decontamination is off. */
  readonly contaminatedNear?: Uint8Array | undefined
}

/** Kernel options for MinHash settings; fails when given bands x rows exceed numPerm. */
export const sketchOptions = (node: string, param: string, m: MinHashSettings) => {
  const { bands, rows } = lshShape(m.threshold, m.numPerm, { bands: m.bands, rows: m.rows })
  if (bands * rows > m.numPerm) {
    return Effect.fail(
      new DataError({
        where: `node "${node}" params ${param}.bands and ${param}.rows`,
        found: `${bands} bands x ${rows} rows = ${bands * rows} signature values`,
        expected: `at most numPerm = ${m.numPerm}`,
        fix: `lower bands or rows, raise numPerm, or leave bands and rows out to derive them from the threshold`
      })
    )
  }
  return Effect.succeed<SketchOptions>({ bands, rows, shingle: m.shingle, seed: m.seed, setCap: DEFAULT_SET_CAP })
}

/** Sketch the texts of a 2-column query (document index INTEGER, text VARCHAR) for documents 0..n-1. */
export const sketchQuery = (query: string, n: number, options: SketchOptions, what: string) =>
  Effect.scoped(
    Effect.gen(function* () {
      const sql = yield* Sql
      const progress = yield* Progress
      const pool = yield* Effect.acquireRelease(
        Effect.sync(() => new SketchPool(options, workersFor(n))),
        (p) => Effect.promise(() => p.close())
      )
      const ticker = yield* Effect.suspend(() => progress.rows(pool.done, n, what)).pipe(
        Effect.repeat(Schedule.spaced("250 millis")),
        Effect.forkChild
      )
      yield* sql.scan(query, (columns) => pool.push(columns[0] as ArrayLike<number>, columns[1]!))
      const sketches = yield* Effect.tryPromise({
        try: () => pool.finish(n),
        catch: (e) =>
          new DataError({
            where: `MinHash of ${what}`,
            found: e instanceof Error ? e.message : String(e),
            expected: "every worker thread to sketch its batch",
            fix: "re-run; if it fails again, report it with the error above"
          })
      })
      yield* Fiber.interrupt(ticker)
      yield* progress.rows(n, n, what)
      return sketches
    })
  )

const sameSketch = (a: SketchOptions, b: SketchOptions) =>
  a.bands === b.bands && a.rows === b.rows && a.shingle === b.shingle && a.seed === b.seed

const COLUMN = { prompt: "prompt", a: "response_a", b: "response_b" } as const

/**
 * A text the MinHash kernel finds no word in (minhash-kernel.js isWordChar, by code point): nothing but
 * ASCII other than letters and digits, and the few spaces and punctuation marks it splits words on. If
 * the two ever disagree, a text the kernel calls wordless gets no id here and matches nothing: fewer
 * removals, never a wrong one.
 */
const WORDLESS = String.raw`[\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f\x{85}\x{a0}\x{2000}-\x{206f}\x{3000}-\x{3003}\x{feff}]*`

/**
 * Ids for the texts without a word, document k * n + row for field k (0 for texts with words): equal
 * for the same text, leading and trailing whitespace aside, in any field (a mirrored match compares a
 * with b'). Shingles cannot tell two such texts apart, so near-match.ts compares these instead.
 */
const wordlessIds = (source: DedupeSource, fields: ReadonlyArray<"prompt" | "a" | "b">, n: number) =>
  Effect.gen(function* () {
    const sql = yield* Sql
    const ids = new Int32Array(fields.length * n)
    const texts = fields
      .map(
        (f, k) =>
          `SELECT (${source.row} + ${k * n})::INTEGER AS doc, coalesce(${COLUMN[f]}, '') AS t FROM ${source.relation}`
      )
      .join(" UNION ALL ")
    yield* sql.scan(
      `SELECT doc, dense_rank() OVER (ORDER BY regexp_replace(t, '^\\s+|\\s+$', '', 'g'))::INTEGER
       FROM (${texts}) WHERE regexp_full_match(t, '${WORDLESS}')`,
      (columns, count) => {
        const [doc, id] = columns as ReadonlyArray<ArrayLike<number>>
        for (let i = 0; i < count; i++) ids[doc![i]!] = id![i]!
      }
    )
    return Object.fromEntries(fields.map((f, k) => [f, ids.subarray(k * n, (k + 1) * n)])) as NearTexts["wordless"]
  })

/** maxPerPrompt means something in `prompt` mode only: elsewhere a value other than 1 is a mistake, said so. */
const checkMaxPerPrompt = (node: string, near: NonNullable<DedupeOptions["near"]>) =>
  near.on === "prompt" || near.maxPerPrompt === 1
    ? Effect.void
    : Effect.fail(
        new DataError({
          where: `node "${node}" param maxPerPrompt`,
          found: `maxPerPrompt ${near.maxPerPrompt} with on: "${near.on}"`,
          expected: `maxPerPrompt only with on: "prompt" (pairs kept per group of near-duplicate prompts)`,
          fix: `set on: "prompt", or leave maxPerPrompt out`
        })
      )

/** Run MinHash where the options ask for it. */
export const nearStage = (
  node: string,
  source: DedupeSource,
  n: number,
  against: InputTable | undefined,
  options: DedupeOptions
) =>
  Effect.gen(function* () {
    const sql = yield* Sql
    let near: NearResult["near"]
    let contaminatedNear: Uint8Array | undefined
    let promptSketches: { options: SketchOptions; sketches: SketchBatch } | undefined
    if (options.near !== undefined) {
      const o = options.near
      yield* checkMaxPerPrompt(node, o)
      const opts = yield* sketchOptions(node, "near", o)
      // every field on its own (text k of row r is document k * n + r), sketched in one pass of the pool
      const fields = fieldsOf(o.on)
      const query = fields
        .map((f, k) => `SELECT (${source.row} + ${k * n})::INTEGER, ${COLUMN[f]} FROM ${source.relation}`)
        .join(" UNION ALL ")
      const all = yield* sketchQuery(
        query,
        fields.length * n,
        opts,
        fields.length === 1 ? "prompts" : `texts (${fields.join(", ")})`
      )
      const texts: Record<string, SketchBatch> = {}
      fields.forEach((f, k) => {
        texts[f] = sliceSketches(all, k * n, (k + 1) * n)
      })
      if (texts["prompt"] !== undefined) promptSketches = { options: opts, sketches: texts["prompt"] }
      // prompt mode never matches a text without a word; the other modes compare such texts by their ids
      const wordless = o.on === "prompt" ? undefined : yield* wordlessIds(source, fields, n)
      near = nearMatcher(n, { ...texts, wordless } as NearTexts, {
        on: o.on,
        threshold: o.threshold,
        maxPerPrompt: o.maxPerPrompt
      })
    }
    const deco = options.decontaminate?.near
    if (deco !== undefined && against !== undefined) {
      const opts = yield* sketchOptions(node, "decontaminate", deco)
      const docs =
        promptSketches !== undefined && sameSketch(promptSketches.options, opts)
          ? promptSketches.sketches
          : yield* sketchQuery(`SELECT ${source.row}::INTEGER, prompt FROM ${source.relation}`, n, opts, "prompts")
      const m = yield* sql.count(against.relation)
      const evals = yield* sketchQuery(
        `SELECT (row_number() OVER () - 1)::INTEGER, prompt FROM ${against.relation}`,
        m,
        opts,
        "eval prompts"
      )
      contaminatedNear = crossMatches(docs, evals, { threshold: deco.threshold })
    }
    return { near, contaminatedNear } satisfies NearResult
  })
