/**
 * Synthetic preference pairs at scale, made by seeded resampling and light perturbation of the
 * shipped real pairs (HH-RLHF harmless-base test + PandaLM test set). Writes TRL explicit-prompt JSONL
 * ({prompt, chosen, rejected}) and plants known duplicates: `exactRate` exact copies of an earlier
 * row and `mirrorRate` copies with the sides swapped.
 */
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs"
import { dirname } from "node:path"
import { gunzipSync } from "node:zlib"

export interface RealPair {
  readonly prompt: string
  readonly chosen: string
  readonly rejected: string
}

/** The shipped real pairs as (prompt, chosen, rejected). */
export function realPairs(root = "."): Array<RealPair> {
  const out: Array<RealPair> = []
  const hh = gunzipSync(readFileSync(`${root}/data/hh-rlhf-harmless-base/test.jsonl.gz`)).toString("utf8")
  for (const line of hh.split("\n")) {
    if (line.trim() === "") continue
    const r = JSON.parse(line) as { chosen: string; rejected: string }
    const cut = r.chosen.lastIndexOf("\n\nAssistant:")
    const prompt = r.chosen.slice(0, cut)
    out.push({
      prompt,
      chosen: r.chosen.slice(cut + 12).trim(),
      rejected: r.rejected.slice(r.rejected.lastIndexOf("\n\nAssistant:") + 12).trim()
    })
  }
  const panda = JSON.parse(readFileSync(`${root}/data/pandalm-testset/testset-v1.json`, "utf8")) as Array<
    Record<string, unknown>
  >
  for (const r of panda) {
    if (typeof r["response1"] !== "string" || typeof r["response2"] !== "string") continue
    const prompt = `${r["instruction"]}${r["input"] ? `\n\n${r["input"]}` : ""}`
    const firstWins = r["annotator1"] !== 2
    out.push({
      prompt,
      chosen: firstWins ? r["response1"] : r["response2"],
      rejected: firstWins ? r["response2"] : r["response1"]
    })
  }
  return out
}

/** mulberry32: a small, fast, seedable PRNG. */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const WORDS = ["please", "really", "also", "maybe", "today", "exactly", "quickly", "again", "now", "first"]

/** A light perturbation: a word inserted, dropped or swapped, and a counter, so rows stay realistic but distinct. */
export function perturb(text: string, random: () => number, n: number): string {
  const words = text.split(" ")
  const i = Math.floor(random() * words.length)
  const op = random()
  if (op < 0.4) words.splice(i, 0, WORDS[Math.floor(random() * WORDS.length)]!)
  else if (op < 0.7 && words.length > 3) words.splice(i, 1)
  else if (words.length > 2) {
    const j = Math.min(words.length - 1, i + 1)
    ;[words[i], words[j]] = [words[j]!, words[i]!]
  }
  return `${words.join(" ")} (${n})`
}

export interface GenerateOptions {
  readonly rows: number
  readonly seed?: number
  readonly exactRate?: number
  readonly mirrorRate?: number
}

/** Write `rows` pairs to `path` (JSONL), unless a file made with the same options is already there. */
export async function generatePairs(
  path: string,
  options: GenerateOptions
): Promise<{ path: string; planted: { exact: number; mirrored: number } }> {
  const { rows, seed = 42, exactRate = 0.05, mirrorRate = 0.025 } = options
  const meta = `${path}.meta.json`
  const tag = JSON.stringify({ rows, seed, exactRate, mirrorRate, v: 1 })
  if (existsSync(path) && existsSync(meta) && JSON.parse(readFileSync(meta, "utf8")).tag === tag) {
    return { path, planted: JSON.parse(readFileSync(meta, "utf8")).planted }
  }
  mkdirSync(dirname(path), { recursive: true })
  const base = realPairs()
  const random = rng(seed)
  const kept: Array<RealPair> = []
  let exact = 0,
    mirrored = 0
  const tmp = `${path}.tmp`
  const out = createWriteStream(tmp)
  let buffer = ""
  for (let n = 0; n < rows; n++) {
    const roll = random()
    let pair: RealPair
    if (kept.length > 0 && roll < exactRate) {
      pair = kept[Math.floor(random() * kept.length)]!
      exact++
    } else if (kept.length > 0 && roll < exactRate + mirrorRate) {
      const p = kept[Math.floor(random() * kept.length)]!
      pair = { prompt: p.prompt, chosen: p.rejected, rejected: p.chosen }
      mirrored++
    } else {
      const b = base[Math.floor(random() * base.length)]!
      pair = { prompt: perturb(b.prompt, random, n), chosen: b.chosen, rejected: b.rejected }
      if (kept.length < 200_000) kept.push(pair)
      else kept[Math.floor(random() * kept.length)] = pair
    }
    buffer += `${JSON.stringify(pair)}\n`
    if (buffer.length > 1 << 22) {
      if (!out.write(buffer)) await new Promise<void>((r) => out.once("drain", () => r()))
      buffer = ""
    }
  }
  out.write(buffer)
  await new Promise<void>((resolve, reject) => {
    out.once("error", reject)
    out.end(() => resolve())
  })
  renameSync(tmp, path)
  const planted = { exact, mirrored }
  writeFileSync(meta, JSON.stringify({ tag, planted }))
  return { path, planted }
}
