/**
 * The reward model in TensorFlow.js (variables + optimizer.minimize), for the wasm, cpu and tensorflow
 * (tfjs-node / -gpu) backends. Same maths and weight layout as sparse.ts (and, with `head: "preference"`,
 * sparse-preference.ts); pairs (Bradley–Terry) or ranked lists (Plackett–Luce, padded to the longest). Loaded only by a run that asks
 * for a tfjs backend (dynamic import in backend.ts). Ported from the guide's lib/tfjs-model.ts.
 *
 * Gotchas: tf.gather's gradient needs UnsortedSegmentSum, which wasm lacks (and which is O(V·N·D) on
 * cpu), so the bag is `sparseSegmentMean` with a custom gradient (`sparseSegmentSum` into the rows);
 * wasm does not bounds-check segment ids, so ids are checked in JS; `minimize`'s tidy does not free a
 * batch's input tensors, so every batch is disposed by hand (memory stays flat: a test checks it).
 */
import * as tf from "@tensorflow/tfjs"
import { inputSlots, type ListSet, type ModelConfig, type PairSet, type TextTable } from "../../core/trainer.js"
import type { BatchResult } from "./pair-loss.js"
import { TENSOR_NAMES, type Weights } from "./weights.js"

type Vars = Record<(typeof TENSOR_NAMES)[number], tf.Variable | null>

interface Bag {
  flatIds: tf.Tensor1D
  seg: tf.Tensor1D
  invLen: tf.Tensor2D
  bwdIdx: tf.Tensor1D
  bwdSeg: tf.Tensor1D
}

/** A bag's tensors for the texts `ts` (segment layout; the id-sorted copy is the backward pass's). */
function makeBag(texts: TextTable, ts: Int32Array, V: number): Bag {
  const T = ts.length,
    offsets = texts.offsets!,
    all = texts.ids!
  let N = 0
  for (let b = 0; b < T; b++) N += offsets[ts[b]! + 1]! - offsets[ts[b]!]!
  const flat = new Int32Array(N),
    seg = new Int32Array(N),
    inv = new Float32Array(T),
    keys = new Float64Array(N)
  let n = 0
  for (let b = 0; b < T; b++) {
    const from = offsets[ts[b]!]!,
      to = offsets[ts[b]! + 1]!
    inv[b] = 1 / (to - from)
    for (let i = from; i < to; i++, n++) {
      const id = all[i]!
      // wasm's SparseSegmentReduction reads and writes outside the table for an id >= V
      if (!(id >= 0 && id < V)) throw new RangeError(`bucket id ${id} outside [0, ${V})`)
      flat[n] = id
      seg[n] = b
      keys[n] = id * 65536 + b
    }
  }
  keys.sort()
  const bwdIdx = new Int32Array(N + 1),
    bwdSeg = new Int32Array(N + 1)
  for (let j = 0; j < N; j++) {
    bwdSeg[j] = Math.floor(keys[j]! / 65536)
    bwdIdx[j] = keys[j]! % 65536
  }
  bwdIdx[N] = T // sentinel: the output has exactly V rows (data row T is zeros)
  bwdSeg[N] = V - 1
  return {
    flatIds: tf.tensor1d(flat, "int32"),
    seg: tf.tensor1d(seg, "int32"),
    invLen: tf.tensor2d(inv, [T, 1]),
    bwdIdx: tf.tensor1d(bwdIdx, "int32"),
    bwdSeg: tf.tensor1d(bwdSeg, "int32")
  }
}

/** Mean of a bag's rows; gradient: sparseSegmentSum of dy/len into the rows (neither op has one). */
function bagMean(E: tf.Tensor, b: Bag): tf.Tensor2D {
  const f = tf.customGrad((e: tf.Tensor | tf.GradSaveFunc) => {
    const table = e as tf.Tensor2D
    const value = tf.sparse.sparseSegmentMean(table, b.flatIds, b.seg) as tf.Tensor2D
    const gradFunc = (dy: tf.Tensor) => {
      const scaled = tf.concat([tf.mul(dy, b.invLen), tf.zeros([1, table.shape[1]])], 0)
      return tf.sparse.sparseSegmentSum(scaled, b.bwdIdx, b.bwdSeg)
    }
    return { value, gradFunc }
  })
  return f(E) as tf.Tensor2D
}

type Input = { kind: "bag"; bag: Bag } | { kind: "dense"; x: tf.Tensor2D }

function makeInput(c: ModelConfig, texts: TextTable, ts: Int32Array): Input {
  if (c.input === "bag") return { kind: "bag", bag: makeBag(texts, ts, 2 ** c.bucketsLog2) }
  const D = c.dim,
    x = new Float32Array(ts.length * D)
  for (let i = 0; i < ts.length; i++) x.set(texts.vectors!.subarray(ts[i]! * D, ts[i]! * D + D), i * D)
  return { kind: "dense", x: tf.tensor2d(x, [ts.length, D]) }
}

const disposeInput = (i: Input) =>
  i.kind === "dense" ? i.x.dispose() : tf.dispose([i.bag.flatIds, i.bag.seg, i.bag.invLen, i.bag.bwdIdx, i.bag.bwdSeg])

interface Batch {
  p: Input
  c: Input
  r: Input
  alpha: tf.Tensor1D
  margin: tf.Tensor1D
  weight: tf.Tensor1D
  tie: Uint8Array
}

const pick = (a: Float32Array | Int32Array, idx: Int32Array) => {
  const out = a instanceof Int32Array ? new Int32Array(idx.length) : new Float32Array(idx.length)
  for (let i = 0; i < idx.length; i++) out[i] = a[idx[i]!]!
  return out
}

export class TfjsModel {
  private readonly v: Vars
  private opt: tf.Optimizer
  constructor(
    readonly config: ModelConfig,
    w: Weights,
    readonly optimizer: "adam" | "sgd",
    lr: number
  ) {
    const shapes: Record<string, number[]> = {
      emb: [w.emb.length / config.dim, config.dim],
      w1: [inputSlots(config) * config.dim, config.hidden],
      b1: [config.hidden],
      w2: [config.hidden, 1],
      b2: [1]
    }
    const make = (n: (typeof TENSOR_NAMES)[number]) => {
      if (n === "emb" && config.input !== "bag") return null
      const t = tf.tensor(w[n].slice(), shapes[n], "float32")
      const out = tf.variable(t, true, undefined, "float32")
      t.dispose() // the variable keeps its own reference; tf.memory counts t until disposed
      return out
    }
    this.v = { emb: make("emb"), w1: make("w1"), b1: make("b1"), w2: make("w2"), b2: make("b2") }
    this.opt = optimizer === "adam" ? tf.train.adam(lr) : tf.train.sgd(lr)
  }

  private vec(i: Input): tf.Tensor2D {
    return i.kind === "dense" ? i.x : bagMean(this.v.emb!, i.bag)
  }

  /** r(p, x) for a reward model; g(p, x, y) for a preference model (w1 then reads [p; x; y]). */
  private score(pv: tf.Tensor2D, xv: tf.Tensor2D, yv?: tf.Tensor2D): tf.Tensor1D {
    const h = tf.relu(
      tf.add(tf.matMul(tf.concat(yv === undefined ? [pv, xv] : [pv, xv, yv], 1), this.v.w1!), this.v.b1!)
    )
    return tf.reshape(tf.add(tf.matMul(h, this.v.w2!), this.v.b2!), [-1]) as tf.Tensor1D
  }

  private batch(pairs: PairSet, idx: Int32Array): Batch {
    const c = this.config
    return {
      p: makeInput(c, pairs.texts, pick(pairs.prompt, idx) as Int32Array),
      c: makeInput(c, pairs.texts, pick(pairs.chosen, idx) as Int32Array),
      r: makeInput(c, pairs.texts, pick(pairs.rejected, idx) as Int32Array),
      alpha: tf.tensor1d(pick(pairs.smoothing, idx)),
      margin: tf.tensor1d(pick(pairs.margin, idx)),
      weight: tf.tensor1d(pick(pairs.weight, idx)),
      tie: Uint8Array.from(idx, (i) => pairs.tie[i]!)
    }
  }

  private dispose(b: Batch): void {
    for (const i of [b.p, b.c, b.r]) disposeInput(i)
    tf.dispose([b.alpha, b.margin, b.weight])
  }

  /** Loss Σwℓ/Σw plus the scores, stacked [loss; s_c; s_r] for one sync. */
  private forward(b: Batch): { loss: tf.Scalar; sc: tf.Tensor1D; sr: tf.Tensor1D } {
    const pv = this.vec(b.p),
      cv = this.vec(b.c),
      rv = this.vec(b.r)
    // a preference model's two "scores" are g(p, c, r) and g(p, r, c): their difference is its logit
    const pref = this.config.head === "preference"
    const sc = pref ? this.score(pv, cv, rv) : this.score(pv, cv),
      sr = pref ? this.score(pv, rv, cv) : this.score(pv, rv)
    const d = tf.sub(tf.sub(sc, sr), b.margin)
    const l = tf.add(tf.mul(tf.softplus(tf.neg(d)), tf.sub(1, b.alpha)), tf.mul(tf.softplus(d), b.alpha))
    return { loss: tf.div(tf.sum(tf.mul(l, b.weight)), tf.sum(b.weight)) as tf.Scalar, sc, sr }
  }

  private result(
    loss: number,
    sc: Float32Array | Int32Array | Uint8Array,
    sr: typeof sc,
    tie: Uint8Array
  ): BatchResult {
    let correct = 0,
      counted = 0
    for (let i = 0; i < tie.length; i++) {
      if (tie[i] !== 0) continue
      counted++
      if (sc[i]! > sr[i]!) correct++
    }
    return { loss, correct, counted }
  }

  private setLr(lr: number): void {
    const o = this.opt as unknown as { learningRate: number; setLearningRate?: (lr: number) => void }
    if (o.setLearningRate) o.setLearningRate(lr)
    else o.learningRate = lr // Adam reads this field on every step
  }

  private trainable(): tf.Variable[] {
    return TENSOR_NAMES.flatMap((n) => (this.v[n] === null ? [] : [this.v[n]]))
  }

  /** One optimizer step on the pairs `idx` at learning rate `lr`. */
  train(pairs: PairSet, idx: Int32Array, lr: number): BatchResult {
    this.setLr(lr)
    const b = this.batch(pairs, idx)
    let sc: tf.Tensor1D | null = null,
      sr: tf.Tensor1D | null = null
    const vars = this.trainable()
    const loss = this.opt.minimize(
      () => {
        const f = this.forward(b)
        sc = tf.keep(f.sc)
        sr = tf.keep(f.sr)
        return f.loss
      },
      true,
      vars
    ) as tf.Scalar
    const out = this.result(loss.dataSync()[0]!, sc!.dataSync(), sr!.dataSync(), b.tie)
    tf.dispose([loss, sc!, sr!])
    this.dispose(b)
    return out
  }

  /** Loss and accuracy without a step, in chunks (a bag holds at most 65,535 texts). */
  evaluate(pairs: PairSet, idx: Int32Array): BatchResult {
    let wl = 0,
      ws = 0,
      correct = 0,
      counted = 0
    for (let i = 0; i < idx.length; i += 4096) {
      const part = idx.subarray(i, i + 4096),
        b = this.batch(pairs, part)
      const [loss, sc, sr] = tf.tidy(() => {
        const f = this.forward(b)
        return [f.loss.dataSync()[0]!, f.sc.dataSync(), f.sr.dataSync()] as const
      })
      let w = 0
      for (const j of part) w += pairs.weight[j]!
      const r = this.result(loss, sc, sr, b.tie)
      wl += loss * w
      ws += w
      correct += r.correct
      counted += r.counted
      this.dispose(b)
    }
    return { loss: ws > 0 ? wl / ws : 0, correct, counted }
  }

  scorePairs(pairs: PairSet): { chosen: Float32Array; rejected: Float32Array } {
    const n = pairs.prompt.length,
      chosen = new Float32Array(n),
      rejected = new Float32Array(n)
    for (let i = 0; i < n; i += 4096) {
      const idx = Int32Array.from({ length: Math.min(4096, n - i) }, (_, k) => i + k),
        b = this.batch(pairs, idx)
      tf.tidy(() => {
        const f = this.forward(b)
        chosen.set(f.sc.dataSync(), i)
        rejected.set(f.sr.dataSync(), i)
      })
      this.dispose(b)
    }
    return { chosen, rejected }
  }

  /**
   * Lists `idx` padded to K (the longest; padding repeats the list's first member): `add` [L, K, K] is 0 where
   * column j is in row a's suffix (a ≤ j < k), else −1e30, so padding gets exactly zero gradient; `rowW`
   * keeps the Plackett–Luce rows a < k − 1.
   */
  private listBatch(lists: ListSet, idx: Int32Array) {
    const L = idx.length
    let K = 1
    for (const l of idx) K = Math.max(K, lists.starts[l + 1]! - lists.starts[l]!)
    const mem = new Int32Array(L * K),
      pr = new Int32Array(L * K),
      len = new Int32Array(L),
      add = new Float32Array(L * K * K).fill(-1e30),
      rowW = new Float32Array(L * K)
    for (let i = 0; i < L; i++) {
      const l = idx[i]!,
        from = lists.starts[l]!,
        k = (len[i] = lists.starts[l + 1]! - from)
      for (let j = 0; j < K; j++) {
        mem[i * K + j] = lists.members[from + (j < k ? j : 0)]!
        pr[i * K + j] = lists.prompt[l]!
      }
      for (let a = 0; a < K; a++) {
        if (a < k - 1) rowW[i * K + a] = 1
        for (let j = a; j < (a < k ? k : a + 1); j++) add[(i * K + a) * K + j] = 0
      }
    }
    const c = this.config
    return {
      L,
      K,
      len,
      p: makeInput(c, lists.texts, pr),
      m: makeInput(c, lists.texts, mem),
      add: tf.tensor3d(add, [L, K, K]),
      rowW: tf.tensor2d(rowW, [L, K])
    }
  }

  /** Plackett–Luce: Σ over lists of Σ_{a<k−1} [logsumexp(s_a..s_k) − s_a], over the lists; and the scores. */
  private forwardLists(b: ReturnType<TfjsModel["listBatch"]>): { loss: tf.Scalar; s: tf.Tensor1D } {
    const s = this.score(this.vec(b.p), this.vec(b.m))
    const lse = tf.logSumExp(tf.add(tf.reshape(s, [b.L, 1, b.K]), b.add), 2)
    const terms = tf.mul(tf.sub(lse, tf.reshape(s, [b.L, b.K])), b.rowW)
    return { loss: tf.div(tf.sum(terms), b.L) as tf.Scalar, s }
  }

  private listResult(loss: number, s: ArrayLike<number>, b: { K: number; len: Int32Array }): BatchResult {
    let correct = 0
    for (let i = 0; i < b.len.length; i++) {
      let top = true // the best-ranked member scores at least as high as every other (sparse.ts's argmax)
      for (let j = 1; j < b.len[i]!; j++) if (s[i * b.K + j]! > s[i * b.K]!) top = false
      if (top) correct++
    }
    return { loss, correct, counted: b.len.length }
  }

  private disposeLists(b: ReturnType<TfjsModel["listBatch"]>): void {
    disposeInput(b.p)
    disposeInput(b.m)
    tf.dispose([b.add, b.rowW])
  }

  /** One optimizer step of Plackett–Luce on the ranked lists `idx`. */
  trainLists(lists: ListSet, idx: Int32Array, lr: number): BatchResult {
    this.setLr(lr)
    const b = this.listBatch(lists, idx)
    let s: tf.Tensor1D | null = null
    const loss = this.opt.minimize(
      () => {
        const f = this.forwardLists(b)
        s = tf.keep(f.s)
        return f.loss
      },
      true,
      this.trainable()
    ) as tf.Scalar
    const out = this.listResult(loss.dataSync()[0]!, s!.dataSync(), b)
    tf.dispose([loss, s!])
    this.disposeLists(b)
    return out
  }

  /** Plackett–Luce loss and top-1 accuracy without a step, in chunks of at most 16,384 padded members. */
  evaluateLists(lists: ListSet, idx: Int32Array): BatchResult {
    let K = 1
    for (const l of idx) K = Math.max(K, lists.starts[l + 1]! - lists.starts[l]!)
    const chunk = Math.max(1, Math.floor(16384 / K))
    let total = 0,
      correct = 0
    for (let i = 0; i < idx.length; i += chunk) {
      const b = this.listBatch(lists, idx.subarray(i, i + chunk))
      const [loss, sc] = tf.tidy(() => {
        const f = this.forwardLists(b)
        return [f.loss.dataSync()[0]!, f.s.dataSync()] as const
      })
      const r = this.listResult(loss, sc, b)
      total += r.loss * b.L
      correct += r.correct
      this.disposeLists(b)
    }
    return { loss: idx.length > 0 ? total / idx.length : 0, correct, counted: idx.length }
  }

  weights(): Weights {
    const read = (n: (typeof TENSOR_NAMES)[number]) => {
      const v = this.v[n]
      return v === null ? new Float32Array(0) : Float32Array.from(v.dataSync() as Float32Array)
    }
    return { emb: read("emb"), w1: read("w1"), b1: read("b1"), w2: read("w2"), b2: read("b2") }
  }

  /** Overwrite the variables (the equivalence test's resync mode). */
  assign(w: Weights): void {
    for (const n of TENSOR_NAMES) {
      const v = this.v[n]
      if (v !== null) tf.tidy(() => v.assign(tf.tensor(w[n], v.shape)))
    }
  }

  free(): void {
    for (const n of TENSOR_NAMES) this.v[n]?.dispose()
    this.opt.dispose()
  }
}

/** tf.memory()'s tensor count and bytes (the flat-memory test). */
export const memory = () => tf.memory()
