/**
 * Bags as the sparse trainer reads them: each text's distinct ids with their multiplicities. Mean
 * pooling over a multiset is the weighted sum over its distinct rows (Σ_u c_u·E[u] / len), and its
 * gradient reaches each distinct row once (c_u·g / len): the same maths as one row read and one
 * update per occurrence, with fewer of them (long texts repeat ~30% of their hashed ids).
 * Built once per text table and kept while the table lives (a WeakMap).
 */
import type { TextTable } from "../../core/trainer.js"

export interface Bags {
  /** text t's distinct ids: `ids[offsets[t] .. offsets[t+1])`, in first-occurrence order */
  readonly offsets: Int32Array
  readonly ids: Int32Array
  /** how often each id occurs in its text (a whole number, as float32 for the hot loops) */
  readonly counts: Float32Array
  /** 1 / the text's length counted with repeats: the mean's divisor */
  readonly inv: Float64Array
}

const cache = new WeakMap<TextTable, Bags>()

/** The distinct-id form of `texts`. */
export function bagsOf(texts: TextTable): Bags {
  const hit = cache.get(texts)
  if (hit !== undefined) return hit
  const src = texts.ids!,
    off = texts.offsets!,
    T = texts.count
  const offsets = new Int32Array(T + 1),
    ids = new Int32Array(src.length),
    counts = new Float32Array(src.length),
    inv = new Float64Array(T)
  // stamp[id] = t: id already seen in text t, at pos[id] of the output
  const pos = new Int32Array(texts.count > 0 ? maxId(src) + 1 : 0),
    stamp = new Int32Array(pos.length).fill(-1)
  let n = 0
  for (let t = 0; t < T; t++) {
    const from = off[t]!,
      to = off[t + 1]!
    inv[t] = 1 / (to - from)
    for (let i = from; i < to; i++) {
      const id = src[i]!
      if (stamp[id] === t) counts[pos[id]!]! += 1
      else {
        stamp[id] = t
        pos[id] = n
        ids[n] = id
        counts[n++] = 1
      }
    }
    offsets[t + 1] = n
  }
  const out: Bags = { offsets, ids: ids.slice(0, n), counts: counts.slice(0, n), inv }
  cache.set(texts, out)
  return out
}

function maxId(ids: Int32Array): number {
  let m = 0
  for (let i = 0; i < ids.length; i++) if (ids[i]! > m) m = ids[i]!
  return m
}
