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
    return Effect.fail(new DataError({
      where: `node "${node}" params ${param}.bands and ${param}.rows`,
      found: `${bands} bands x ${rows} rows = ${bands * rows} signature values`,
      expected: `at most numPerm = ${m.numPerm}`,
      fix: `lower bands or rows, raise numPerm, or leave bands and rows out to derive them from the threshold`
    }))
  }
  return Effect.succeed<SketchOptions>({ bands, rows, shingle: m.shingle, seed: m.seed, setCap: DEFAULT_SET_CAP })
}

/** Sketch the texts of a 2-column query (document index INTEGER, text VARCHAR) for documents 0..n-1. */
export const sketchQuery = (query: string, n: number, options: SketchOptions, what: string) =>
  Effect.scoped(Effect.gen(function*() {
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
      catch: (e) => new DataError({
        where: `MinHash of ${what}`,
        found: e instanceof Error ? e.message : String(e),
        expected: "every worker thread to sketch its batch",
        fix: "re-run; if it fails again, report it with the error above"
      })
    })
    yield* Fiber.interrupt(ticker)
    yield* progress.rows(n, n, what)
    return sketches
  }))

const sameSketch = (a: SketchOptions, b: SketchOptions) =>
  a.bands === b.bands && a.rows === b.rows && a.shingle === b.shingle && a.seed === b.seed

const COLUMN = { prompt: "prompt", a: "response_a", b: "response_b" } as const

/** maxPerPrompt means something in `prompt` mode only: elsewhere a value other than 1 is a mistake, said so. */
const checkMaxPerPrompt = (node: string, near: NonNullable<DedupeOptions["near"]>) =>
  near.on === "prompt" || near.maxPerPrompt === 1 ? Effect.void : Effect.fail(new DataError({
    where: `node "${node}" param maxPerPrompt`,
    found: `maxPerPrompt ${near.maxPerPrompt} with on: "${near.on}"`,
    expected: `maxPerPrompt only with on: "prompt" (pairs kept per group of near-duplicate prompts)`,
    fix: `set on: "prompt", or leave maxPerPrompt out`
  }))

/** Run MinHash where the options ask for it. */
export const nearStage = (
  node: string, source: DedupeSource, n: number, against: InputTable | undefined, options: DedupeOptions
) => Effect.gen(function*() {
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
    const query = fields.map((f, k) => `SELECT (${source.row} + ${k * n})::INTEGER, ${COLUMN[f]} FROM ${source.relation}`).join(" UNION ALL ")
    const all = yield* sketchQuery(query, fields.length * n, opts, fields.length === 1 ? "prompts" : `texts (${fields.join(", ")})`)
    const texts: Record<string, SketchBatch> = {}
    fields.forEach((f, k) => { texts[f] = sliceSketches(all, k * n, (k + 1) * n) })
    if (texts["prompt"] !== undefined) promptSketches = { options: opts, sketches: texts["prompt"] }
    near = nearMatcher(n, texts as NearTexts, { on: o.on, threshold: o.threshold, maxPerPrompt: o.maxPerPrompt })
  }
  const deco = options.decontaminate?.near
  if (deco !== undefined && against !== undefined) {
    const opts = yield* sketchOptions(node, "decontaminate", deco)
    const docs = promptSketches !== undefined && sameSketch(promptSketches.options, opts)
      ? promptSketches.sketches
      : yield* sketchQuery(`SELECT ${source.row}::INTEGER, prompt FROM ${source.relation}`, n, opts, "prompts")
    const m = yield* sql.count(against.relation)
    const evals = yield* sketchQuery(
      `SELECT (row_number() OVER () - 1)::INTEGER, prompt FROM ${against.relation}`, m, opts, "eval prompts"
    )
    contaminatedNear = crossMatches(docs, evals, { threshold: deco.threshold })
  }
  return { near, contaminatedNear } satisfies NearResult
})
