/**
 * Weights shared by every backend: row-major float32 `emb` [V, D] (empty for dense inputs), `w1` [2D, H]
 * ([3D, H] for a preference model; `x @ w1`), `b1` [H], `w2` [H, 1], `b2` [1]; a seeded init; the one PRNG all training randomness
 * comes from (init, validation split, shuffling), so a seed gives the same weights on one backend.
 */
import { createHash } from "node:crypto"
import { inputSlots, type Model, type ModelConfig, tensorShapes } from "../../core/trainer.js"

export interface Weights {
  emb: Float32Array
  w1: Float32Array
  b1: Float32Array
  w2: Float32Array
  b2: Float32Array
}

export const TENSOR_NAMES = ["emb", "w1", "b1", "w2", "b2"] as const

/** mulberry32: a tiny seeded PRNG, floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Fisher–Yates over `idx` in place, with a seeded rng. */
export function shuffleInPlace(idx: Int32Array, rng: () => number): Int32Array {
  for (let i = idx.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1))
    const t = idx[i]!
    idx[i] = idx[j]!
    idx[j] = t
  }
  return idx
}

/** Seeded init: emb ~ U(−0.05, 0.05), w1 / w2 Glorot-uniform, biases 0 (the guide's init). */
export function initWeights(c: ModelConfig, seed: number): Weights {
  const rng = mulberry32(seed)
  const uniform = (n: number, lim: number) => {
    const a = new Float32Array(n)
    for (let i = 0; i < n; i++) a[i] = (rng() * 2 - 1) * lim
    return a
  }
  const V = c.input === "bag" ? 2 ** c.bucketsLog2 : 0,
    D = c.dim,
    H = c.hidden,
    X = inputSlots(c) * D // layer 1's input width: 2D, or 3D for a preference model
  return {
    emb: uniform(V * D, 0.05),
    w1: uniform(X * H, Math.sqrt(6 / (X + H))),
    b1: new Float32Array(H),
    w2: uniform(H, Math.sqrt(6 / (H + 1))),
    b2: new Float32Array(1)
  }
}

export function toModel(config: ModelConfig, w: Weights, copy: boolean): Model {
  return {
    config,
    tensors: tensorShapes(config).map(({ name, shape }) => ({ name, shape, data: copy ? w[name].slice() : w[name] }))
  }
}

/** A model's tensors as weights (copies), checked against its config's shapes. */
export function fromModel(m: Model): Weights | string {
  const w: Weights = {
    emb: new Float32Array(0),
    w1: new Float32Array(0),
    b1: new Float32Array(0),
    w2: new Float32Array(0),
    b2: new Float32Array(0)
  }
  for (const { name, shape } of tensorShapes(m.config)) {
    const t = m.tensors.find((x) => x.name === name)
    const n = shape.reduce((a, b) => a * b, 1)
    if (t === undefined) return `tensor ${name} is missing`
    if (t.data.length !== n)
      return `tensor ${name} has ${t.data.length} values, its shape [${shape.join(", ")}] needs ${n}`
    w[name] = t.data.slice()
  }
  return w
}

/** sha256 over all weights, in tensor order (determinism checks). */
export function checksum(w: Weights): string {
  const h = createHash("sha256")
  for (const n of TENSOR_NAMES) h.update(new Uint8Array(w[n].buffer, w[n].byteOffset, w[n].byteLength))
  return h.digest("hex")
}
