/**
 * MinHash + LSH quality and speed on real text. Builds an n-text sample by seeded resampling and light
 * perturbation of real prompts and responses (HH-RLHF harmless-base test, PandaLM test set), finds the
 * pairs with word-shingle Jaccard >= threshold with the LSH of nodes/lib/minhash.ts and by brute force
 * (every pair, exact Jaccard on the full shingle sets), and prints recall and precision; then times
 * sketching on a larger resample (on this thread, and with the worker pool the dedupe node uses), at
 * two text lengths: the real mix (~500 chars: HH dialogues, PandaLM prompts and responses) and the same
 * texts cut to 200 chars (mean ~165 chars, ~28 words: prompt length, like the ~200-char texts of
 * ../shared/guides/duckdb-node-api.md §7). Run alone, it also measures the classic K-permutation
 * MinHash for comparison.
 *
 * Pool figures count everything from `new SketchPool` to the assembled sketches: starting the worker
 * threads (and their JIT warm-up), packing the texts on this thread, and closing the pool; each run
 * starts a new pool, and the fastest of `repeats` runs (default 2) is printed. "Cores busy"
 * is the process's CPU time over that wall time (2.0 = both cores of a 2-core machine all along). On
 * Linux, a run during which other processes kept the CPUs busy is flagged: its figures are low.
 *
 * Run alone: `node --import tsx bench/minhash-quality.ts [n] [throughputDocs]`. Prints figures, not pass/fail.
 */
import { readFileSync } from "node:fs"
import { availableParallelism } from "node:os"
import { gunzipSync } from "node:zlib"
import { shingleSet } from "../nodes/lib/minhash-kernel.js"
import {
  DEFAULT_SET_CAP,
  lshShape,
  nearClusters,
  nearPairs,
  sketchTexts,
  type SketchBatch,
  type SketchOptions
} from "../nodes/lib/minhash.js"
import { SketchPool } from "../nodes/lib/minhash-pool.js"

export interface MinhashQualityOptions {
  readonly n?: number
  readonly threshold?: number
  readonly numPerm?: number
  readonly shingle?: number
  readonly seed?: number
  /** Texts for the throughput run. */
  readonly throughputDocs?: number
  readonly workers?: number
  /** Runs of each throughput measurement; the fastest counts (default 2). */
  readonly repeats?: number
  /** Also measure the classic K-permutation MinHash (recall, precision, docs/s) for comparison. */
  readonly compareClassic?: boolean
  readonly root?: string
  readonly log?: (line: string) => void
}

export interface MinhashQualityResult {
  readonly n: number
  readonly bands: number
  readonly rows: number
  readonly truePairs: number
  readonly foundPairs: number
  readonly recall: number
  readonly precision: number
  /** Share of true pairs whose two texts end in the same union-find cluster (what the node removes by). */
  readonly clusterRecall: number
  /** Sketching the ~500-char mix (meanChars). */
  readonly docsPerSecondOneThread: number
  readonly docsPerSecondWorkers: number
  readonly meanChars: number
  /** Sketching the same texts cut to 200 chars (meanCharsShort, ~165: prompt length). */
  readonly docsPerSecondOneThreadShort: number
  readonly docsPerSecondWorkersShort: number
  readonly meanCharsShort: number
}

/** mulberry32: a small seeded PRNG. */
const rng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

/** The real texts: HH dialogues (chosen and rejected), PandaLM prompts and string responses. */
export function realTexts(root = "."): Array<string> {
  const out: Array<string> = []
  const hh = gunzipSync(readFileSync(`${root}/data/hh-rlhf-harmless-base/test.jsonl.gz`)).toString("utf8")
  for (const line of hh.split("\n")) {
    if (line.trim() === "") continue
    const r = JSON.parse(line) as { chosen: string; rejected: string }
    out.push(r.chosen, r.rejected)
  }
  const panda = JSON.parse(readFileSync(`${root}/data/pandalm-testset/testset-v1.json`, "utf8")) as Array<
    Record<string, unknown>
  >
  for (const r of panda) {
    out.push(`${String(r["instruction"])}${r["input"] ? `\n\n${String(r["input"])}` : ""}`)
    for (const k of ["response1", "response2"])
      if (typeof r[k] === "string" && (r[k] as string).trim() !== "") out.push(r[k] as string)
  }
  return out
}

/** Light edits: replace, drop, insert or swap 1-3 words, or change case and punctuation. */
function perturb(text: string, random: () => number, donor: () => string): string {
  const words = text.split(/(\s+)/).filter((w) => w !== "")
  const edits = 1 + Math.floor(random() * 3)
  for (let e = 0; e < edits && words.length > 2; e++) {
    const at = Math.floor(random() * words.length)
    const kind = random()
    const other = donor()
      .split(/\s+/)
      .filter((w) => w !== "")
    const word = other[Math.floor(random() * other.length)] ?? "x"
    if (kind < 0.3) words[at] = word
    else if (kind < 0.5) words.splice(at, 1)
    else if (kind < 0.7) words.splice(at, 0, word, " ")
    else if (kind < 0.85 && at + 2 < words.length) [words[at], words[at + 2]] = [words[at + 2]!, words[at]!]
    else words[at] = random() < 0.5 ? words[at]!.toUpperCase() : `${words[at]!},`
  }
  return words.join("")
}

/** n texts: resampled from the pool with replacement; 60% get light edits. */
export function sample(pool: ReadonlyArray<string>, n: number, seed: number): Array<string> {
  const random = rng(seed)
  const pick = () => pool[Math.floor(random() * pool.length)]!
  return Array.from({ length: n }, () => (random() < 0.6 ? perturb(pick(), random, pick) : pick()))
}

/** Every pair with exact Jaccard >= t on full shingle sets. O(n^2) on purpose, cut by set size and early exit. */
export function bruteForcePairs(texts: ReadonlyArray<string>, shingle: number, t: number): Set<number> {
  const sets = texts.map((x) => shingleSet(x, shingle))
  const n = texts.length
  const bySize = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => sets[a]!.length - sets[b]!.length)
  const out = new Set<number>()
  for (let x = 0; x < n; x++) {
    const i = bySize[x]!,
      A = sets[i]!
    if (A.length === 0) continue
    for (let y = x + 1; y < n; y++) {
      const j = bySize[y]!,
        B = sets[j]!
      if (A.length < t * B.length) break // sizes only grow from here: J <= |A| / |B| < t
      // J >= t  <=>  shared >= t / (1 + t) * (|A| + |B|); stop once too many elements of A are unmatched
      const need = Math.ceil((t / (1 + t)) * (A.length + B.length) - 1e-9)
      const maxMiss = A.length - need
      let p = 0,
        q = 0,
        shared = 0,
        miss = 0
      while (p < A.length && q < B.length && miss <= maxMiss) {
        const u = A[p]!,
          v = B[q]!
        if (u === v) {
          shared++
          p++
          q++
        } else if (u < v) {
          miss++
          p++
        } else q++
      }
      if (shared >= need) out.add(Math.min(i, j) * n + Math.max(i, j))
    }
  }
  return out
}

const sketchOptions = (
  threshold: number,
  numPerm: number,
  shingle: number,
  seed: number,
  method: "oph" | "classic" = "oph"
): SketchOptions => {
  const { bands, rows } = lshShape(threshold, numPerm)
  return { bands, rows, shingle, seed, setCap: DEFAULT_SET_CAP, method }
}

/** Recall and precision of LSH pairs against the brute-force truth, and of its clusters. */
function score(texts: ReadonlyArray<string>, truth: Set<number>, opts: SketchOptions, threshold: number) {
  const n = texts.length
  const sk = sketchTexts(texts, opts)
  const found = nearPairs(sk, { threshold })
  const clusters = nearClusters(sk, { threshold })
  const hits = found.filter(([i, j]) => truth.has(i * n + j)).length
  let sameCluster = 0
  for (const id of truth) if (clusters[Math.floor(id / n)] === clusters[id % n]) sameCluster++
  return {
    found: found.length,
    recall: truth.size === 0 ? 1 : hits / truth.size,
    precision: found.length === 0 ? 1 : hits / found.length,
    clusterRecall: truth.size === 0 ? 1 : sameCluster / truth.size
  }
}

/** CPU seconds all processes of the machine have used (Linux /proc/stat), or undefined elsewhere. */
function machineCpuSeconds(): number | undefined {
  try {
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number)
    // user nice system (idle iowait) irq softirq steal
    return (f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!) / 100
  } catch {
    return undefined
  }
}

/** Run `f`; its wall seconds, the cores this process kept busy, and those other processes did (Linux). */
async function timed(f: () => unknown) {
  const m0 = machineCpuSeconds(),
    cpu0 = process.cpuUsage(),
    t0 = performance.now()
  await f()
  const wall = (performance.now() - t0) / 1000,
    cpu = process.cpuUsage(cpu0),
    m1 = machineCpuSeconds()
  const own = (cpu.user + cpu.system) / 1e6
  return {
    wall,
    cores: own / wall,
    others: m0 === undefined || m1 === undefined ? undefined : Math.max(0, m1 - m0 - own) / wall
  }
}

/** The fastest of `repeats` runs of `f` (timed). */
async function best(repeats: number, f: () => unknown) {
  let out = await timed(f)
  for (let r = 1; r < repeats; r++) {
    const t = await timed(f)
    if (t.wall < out.wall) out = t
  }
  return out
}

/** Sketching speed on one thread and with a fresh worker pool (started, used, closed: every run). */
async function throughput(texts: ReadonlyArray<string>, options: SketchOptions, workers: number, repeats: number) {
  const oneRun = await best(repeats, () => sketchTexts(texts, options))
  let sk: SketchBatch | undefined
  const poolRun = await best(repeats, async () => {
    const pool = new SketchPool(options, workers, texts.length)
    const at = Int32Array.from({ length: texts.length }, (_, i) => i)
    for (let i = 0; i < texts.length; i += 2048) pool.push(at.subarray(i, i + 2048), texts.slice(i, i + 2048))
    sk = await pool.finish(texts.length)
    await pool.close()
  })
  const t2 = performance.now()
  nearClusters(sk!, { threshold: 0.8 })
  return {
    one: texts.length / oneRun.wall,
    many: texts.length / poolRun.wall,
    coresBusy: poolRun.cores,
    others: Math.max(oneRun.others ?? 0, poolRun.others ?? 0),
    clusterSeconds: (performance.now() - t2) / 1000
  }
}

/** A warning when other processes took more than a tenth of a core meanwhile: the figures are then low. */
const disturbed = (others: number) =>
  others > 0.1 ? ` [other processes busy ${others.toFixed(1)} cores meanwhile: rerun]` : ""

const rate = (x: number) => `${Math.round(x).toLocaleString("en-US")} docs/s`

export async function minhashQuality(options: MinhashQualityOptions = {}): Promise<MinhashQualityResult> {
  const {
    n = 20_000,
    threshold = 0.8,
    numPerm = 128,
    shingle = 3,
    seed = 7,
    throughputDocs = 200_000,
    root = "."
  } = options
  const workers = options.workers ?? 2,
    repeats = options.repeats ?? 2
  const log = options.log ?? ((line: string) => console.log(line))
  const pool = realTexts(root)
  const texts = sample(pool, n, seed)
  const opts = sketchOptions(threshold, numPerm, shingle, 1)
  log(
    `minhash-quality: ${n} texts resampled from ${pool.length} real ones; threshold ${threshold}, ${numPerm} MinHash values ` +
      `-> ${opts.bands} bands x ${opts.rows} rows, ${shingle}-word shingles`
  )

  let t = performance.now()
  const truth = bruteForcePairs(texts, shingle, threshold)
  log(
    `  brute force: ${truth.size} pairs with Jaccard >= ${threshold} (${((performance.now() - t) / 1000).toFixed(1)} s)`
  )
  t = performance.now()
  const { found, recall, precision, clusterRecall } = score(texts, truth, opts, threshold)
  log(`  LSH: ${found} verified pairs (${((performance.now() - t) / 1000).toFixed(2)} s incl. sketching)`)
  log(
    `  recall ${recall.toFixed(4)}  precision ${precision.toFixed(4)}  same-cluster recall ${clusterRecall.toFixed(4)}`
  )
  const classic = sketchOptions(threshold, numPerm, shingle, 1, "classic")
  if (options.compareClassic === true) {
    const c = score(texts, truth, classic, threshold)
    log(
      `  classic ${numPerm}-permutation MinHash, same LSH: recall ${c.recall.toFixed(4)}  precision ${c.precision.toFixed(4)}`
    )
  }

  const big = sample(pool, throughputDocs, seed + 1)
  const short = big.map((x) => x.slice(0, 200))
  const mean = (xs: ReadonlyArray<string>) => xs.reduce((s, x) => s + x.length, 0) / xs.length
  const meanChars = mean(big),
    meanCharsShort = mean(short)
  log(
    `  sketching throughput, ${numPerm} permutations (${opts.bands} x ${opts.rows} one-permutation bins), ` +
      `${throughputDocs.toLocaleString("en-US")} texts, ${availableParallelism()} cores; pool = ${workers} worker threads incl. start-up; ` +
      `best of ${repeats} runs:`
  )
  const speed = await throughput(big, opts, workers, repeats)
  log(
    `    real mix (mean ${meanChars.toFixed(0)} chars):             one thread ${rate(speed.one)} · pool ${rate(speed.many)} ` +
      `(${speed.coresBusy.toFixed(1)} cores busy); clustering ${speed.clusterSeconds.toFixed(2)} s${disturbed(speed.others)}`
  )
  const speedShort = await throughput(short, opts, workers, repeats)
  log(
    `    prompt length (cut to 200, mean ${meanCharsShort.toFixed(0)} chars): one thread ${rate(speedShort.one)} · pool ${rate(speedShort.many)} ` +
      `(${speedShort.coresBusy.toFixed(1)} cores busy)${disturbed(speedShort.others)}`
  )
  if (options.compareClassic === true) {
    const c = await throughput(big, classic, workers, 1),
      cs = await throughput(short, classic, workers, 1)
    log(
      `    classic ${numPerm}-permutation MinHash: real mix one thread ${rate(c.one)} · pool ${rate(c.many)}; ` +
        `prompt length one thread ${rate(cs.one)} · pool ${rate(cs.many)}${disturbed(Math.max(c.others, cs.others))}`
    )
  }
  return {
    n,
    bands: opts.bands,
    rows: opts.rows,
    truePairs: truth.size,
    foundPairs: found,
    recall,
    precision,
    clusterRecall,
    docsPerSecondOneThread: speed.one,
    docsPerSecondWorkers: speed.many,
    meanChars,
    docsPerSecondOneThreadShort: speedShort.one,
    docsPerSecondWorkersShort: speedShort.many,
    meanCharsShort
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [n, docs] = process.argv.slice(2).map(Number)
  await minhashQuality({ ...(n ? { n } : {}), ...(docs ? { throughputDocs: docs } : {}), compareClassic: true })
}
