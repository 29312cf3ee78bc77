// The gain model of route-by-features (pure): ridge regression on one-hot feature bins.
import { describe, expect, it } from "vitest"
import { type FeatureRow, fitGain } from "../../nodes/mix/gain.js"

// feature 0 decides the gain (bin 0: the AI label was wrong 3 times in 4; bin 1: never); the others are constant
const rows: Array<FeatureRow> = [
  ...[1, 1, 1, 0].map((gain) => ({ bins: [0, 0, 0, 0], gain })),
  ...[0, 0, 0, 0].map((gain) => ({ bins: [1, 0, 0, 0], gain })),
  { bins: [0, 0, 0, 0], gain: null },
  { bins: [1, 0, 0, 0], gain: null }
]

describe("fitGain", () => {
  it("with a vanishing penalty, predicts each bin's observed mean gain, unlabelled rows included", () => {
    const { gains } = fitGain(rows, 2, 1e-9)
    expect(gains.map((g) => Number(g.toFixed(6)))).toEqual([0.75, 0.75, 0.75, 0.75, 0, 0, 0, 0, 0.75, 0])
  })

  it("a larger penalty shrinks the bin effects towards the overall mean, keeping their order", () => {
    const { gains, weights } = fitGain(rows, 2, 4)
    expect(gains[8]!).toBeGreaterThan(gains[9]!)
    expect(gains[8]!).toBeLessThan(0.75)
    expect(gains[9]!).toBeGreaterThan(0)
    expect(weights).toHaveLength(1 + 4 * 2)
    // bins no row falls in get no weight from the data: the penalty holds them at 0
    expect(weights[1 + 1 * 2 + 1]).toBe(0)
  })
})
