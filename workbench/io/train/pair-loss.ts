/**
 * The pairwise loss both sparse models train on, tallied one pair at a time so that each model only
 * supplies its two scores: the reward model s(p, chosen) and s(p, rejected), the preference model
 * g(p, chosen, rejected) and g(p, rejected, chosen). Per pair, with d = hi − lo − margin and label
 * smoothing α (Secrets of RLHF II): ℓ = (1−α)·softplus(−d) + α·softplus(d), weighted by the pair's
 * weight; the batch loss is Σwℓ/Σw. The tfjs models compute the same expression as tensors.
 */
import type { PairSet } from "../../core/trainer.js"

export interface BatchResult {
  loss: number
  correct: number
  counted: number
}

const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)))
const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)))

export class PairLossTally {
  private readonly wsum: number
  private total = 0
  private correct = 0
  private counted = 0

  constructor(
    private readonly pairs: PairSet,
    idx: Int32Array
  ) {
    let wsum = 0
    for (let i = 0; i < idx.length; i++) wsum += pairs.weight[idx[i]!]!
    this.wsum = wsum
  }

  /**
   * Adds pair `p` scored `hi` for its chosen side and `lo` for its rejected side; returns ∂(batch loss)/∂d
   * for the backward pass. Ties are in the loss (a 0.5 target when the node keeps them) but not in
   * `counted`: a pair is ranked right when hi > lo strictly.
   */
  add(p: number, hi: number, lo: number): number {
    const pairs = this.pairs,
      a = pairs.smoothing[p]!,
      w = pairs.weight[p]!,
      d = hi - lo - pairs.margin[p]!
    this.total += w * ((1 - a) * softplus(-d) + a * softplus(d))
    if (pairs.tie[p] === 0) {
      this.counted++
      if (hi > lo) this.correct++
    }
    return ((sigmoid(d) - (1 - a)) * w) / this.wsum
  }

  result(): BatchResult {
    return { loss: this.total / this.wsum, correct: this.correct, counted: this.counted }
  }
}
