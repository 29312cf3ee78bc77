/**
 * Synthetic preference data for the trainer tests (the guide's lib/data.ts): responses with more "good"
 * than "bad" marker words are preferred, 5% of labels flipped; hashed with FNV-1a unigrams + bigrams.
 */
import type { ModelConfig, PairSet, TrainSpec } from "../../workbench/core/trainer.js"
import { mulberry32 } from "../../workbench/io/train/weights.js"

const fnv1a = (s: string) => {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

export function hashText(text: string, bits: number): Int32Array {
  const mask = (1 << bits) - 1
  const toks = text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((t) => t.length > 0)
  const out = toks.map((t) => fnv1a(`u\u0001${t}`) & mask)
  for (let i = 0; i + 1 < toks.length; i++) out.push(fnv1a(`b\u0001${toks[i]}\u0001${toks[i + 1]}`) & mask)
  if (out.length === 0) out.push(fnv1a("<empty>") & mask)
  return Int32Array.from(out)
}

export function rawPairs(n: number, seed: number): Array<{ prompt: string; chosen: string; rejected: string }> {
  const rng = mulberry32(seed)
  const word = (i: number) => `w${i.toString(36)}`
  const sentence = (len: number) => Array.from({ length: len }, () => word(Math.floor(rng() * 4000)))
  const response = () => {
    const words = sentence(8 + Math.floor(rng() * 17))
    const g = Math.floor(rng() * 4),
      b = Math.floor(rng() * 4)
    for (let i = 0; i < g; i++) words.splice(Math.floor(rng() * words.length), 0, `good${Math.floor(rng() * 10)}`)
    for (let i = 0; i < b; i++) words.splice(Math.floor(rng() * words.length), 0, `bad${Math.floor(rng() * 10)}`)
    return { text: words.join(" "), q: g - b }
  }
  const out: Array<{ prompt: string; chosen: string; rejected: string }> = []
  while (out.length < n) {
    const prompt = sentence(6 + Math.floor(rng() * 10)).join(" ")
    const a = response(),
      b = response()
    if (a.q === b.q) continue
    let [c, r] = a.q > b.q ? [a, b] : [b, a]
    if (rng() < 0.05) [c, r] = [r, c]
    out.push({ prompt, chosen: c.text, rejected: r.text })
  }
  return out
}

/** A PairSet (3 texts per pair) with optional per-pair weights / margins / smoothing. */
export function pairSet(
  raw: ReadonlyArray<{ prompt: string; chosen: string; rejected: string }>,
  bits: number,
  extra: { weight?: (i: number) => number; margin?: (i: number) => number; smoothing?: number } = {}
): PairSet {
  const bags: Int32Array[] = []
  for (const p of raw) bags.push(hashText(p.prompt, bits), hashText(p.chosen, bits), hashText(p.rejected, bits))
  const offsets = new Int32Array(bags.length + 1)
  bags.forEach((b, i) => (offsets[i + 1] = offsets[i]! + b.length))
  const ids = new Int32Array(offsets[bags.length]!)
  bags.forEach((b, i) => ids.set(b, offsets[i]!))
  const n = raw.length
  return {
    texts: { count: bags.length, offsets, ids },
    prompt: Int32Array.from({ length: n }, (_, i) => 3 * i),
    chosen: Int32Array.from({ length: n }, (_, i) => 3 * i + 1),
    rejected: Int32Array.from({ length: n }, (_, i) => 3 * i + 2),
    smoothing: new Float32Array(n).fill(extra.smoothing ?? 0),
    margin: Float32Array.from({ length: n }, (_, i) => extra.margin?.(i) ?? 0),
    weight: Float32Array.from({ length: n }, (_, i) => extra.weight?.(i) ?? 1),
    tie: new Uint8Array(n)
  }
}

export const bagConfig = (bits: number, dim = 16, hidden = 16): ModelConfig => ({
  format: "wb-reward-model",
  version: 1,
  input: "bag",
  bucketsLog2: bits,
  dim,
  hidden,
  features: null
})

export const spec = (config: ModelConfig, over: Partial<TrainSpec> = {}): TrainSpec => ({
  config,
  backend: "sparse",
  optimizer: "adam",
  lr: 0.01,
  schedule: "constant",
  epochs: 2,
  batchSize: 64,
  validationFraction: 0.1,
  patience: 0,
  seed: 1,
  where: 'node "rm" (train.reward-model)',
  ...over
})
