/** mix.route's params (see index.ts for what each strategy does). */
import { Schema } from "effect"
import { param } from "../../workbench/core/params.js"

export const MixParams = Schema.Struct({
  strategy: param(
    Schema.Literals(["prefer-human", "fixed-ratio", "route-by-uncertainty", "route-by-features"]),
    "route-by-uncertainty",
    "which rows go to humans: all (prefer-human), a seeded random k, the k most uncertain, or the k of highest predicted gain"
  ),
  budget: param(
    Schema.Union([
      Schema.Struct({ fraction: Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 1 })) }),
      Schema.Struct({ pairs: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)) })
    ]),
    { fraction: 0.2 },
    "rows routed to humans: {fraction: 0.2} of the rows (rounded down) or {pairs: 500}"
  ),
  seed: param(Schema.Int, 0, "seed of the hash for fixed-ratio and for ties"),
  humanKinds: param(
    Schema.Array(Schema.String).check(Schema.isMinLength(1)),
    ["human"],
    "rater kinds that count as human (human input); votes of these kinds are left out of the ai input"
  ),
  bins: param(
    Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 50 })),
    4,
    "route-by-features: quantile bins per feature"
  ),
  ridge: param(Schema.Number.check(Schema.isGreaterThan(0)), 1, "route-by-features: L2 penalty of the gain model"),
  minFit: param(
    Schema.Int.check(Schema.isGreaterThan(0)),
    20,
    "route-by-features: fewest rows with both a human and an AI label to fit the gain model on"
  )
})
export type MixParams = typeof MixParams.Type
