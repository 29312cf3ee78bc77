/**
 * The distinct texts of one batch, numbered in first-seen order ("slots"). A prompt or response that
 * several pairs of a batch share is pooled once and its gradient spread once: the sparse models
 * (sparse.ts, sparse-preference.ts) keep each slot's pooled vector at `slot × stride` of their
 * batch scratch. `textSlot` is sized to the whole text table once and put back to −1 by `release`,
 * so a batch costs its own texts, never the table's size.
 */
export class BatchTexts {
  /** text → slot, −1: not in this batch */
  private textSlot = new Int32Array(0)
  /**
   * slot → text, for slots 0 .. count. Replaced when it grows (in `slot`): hot loops read it into a
   * local once, after the batch's slots are in.
   */
  slotText = new Int32Array(1024)
  /** How many distinct texts the batch has so far. */
  count = 0

  /** @param stride what `slot` multiplies a slot by (the models' vector width D) */
  constructor(readonly stride: number) {}

  /** Start a batch over a text table of `n` texts (the previous batch's slots are forgotten). */
  begin(n: number): void {
    if (this.textSlot.length < n) {
      this.textSlot = new Int32Array(n).fill(-1)
      this.count = 0
    } else this.release()
  }

  /** Text t's offset (slot × stride), giving it the next slot when the batch does not have it yet. */
  slot(t: number): number {
    let s = this.textSlot[t]!
    if (s < 0) {
      s = this.count++
      if (s >= this.slotText.length) {
        const a = new Int32Array(s * 2)
        a.set(this.slotText)
        this.slotText = a
      }
      this.textSlot[t] = s
      this.slotText[s] = t
    }
    return s * this.stride
  }

  /** Forget the batch's texts (only their own entries of the text → slot map are reset). */
  release(): void {
    const st = this.slotText,
      ts = this.textSlot
    for (let s = 0; s < this.count; s++) ts[st[s]!] = -1
    this.count = 0
  }
}
