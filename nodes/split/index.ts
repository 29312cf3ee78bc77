/**
 * Split family: train / validation / test tables, reproducible from a seed.
 *
 * `split.hash` — rows are grouped by `groupBy` (default the prompt, so no prompt is in two splits),
 * the groups put in an order given by a seeded hash (md5 of the seed and the group's values), and cut
 * by the fractions of rows: each group goes wholly to one split, and each split gets its fraction of
 * the rows to within half a group at each cut. With `stratify`, each stratum (each value of that
 * column) is cut by the fractions on its own, so every split keeps the strata's proportions; a group
 * whose rows have several values goes with its most common one (counted in `mixed_groups`). The same
 * seed and rows give the same split on any machine; another seed gives another.
 *
 * **Input columns**
 * - `pairs` (one or more tables): any columns; those `groupBy` and `stratify` name.
 *
 * **Output columns** (each: the input's columns, in input order)
 * - `train` (main), `validation`, `test`: the rows of each split; a split without a fraction is empty.
 *
 * **Params**
 * - `fractions`: share of rows per split, e.g. `{ train: 0.8, validation: 0.1, test: 0.1 }` (the
 *   default); each between 0 and 1, summing to 1. Only train, validation and test: they are the node's
 *   output tables, which a pipeline refers to before anything runs, so they cannot depend on params;
 *   for more parts, split one of them again with another split.hash node.
 * - `seed` (default 0): changes the order the groups are cut in.
 * - `groupBy` (default "prompt"): a column or a list of columns; rows with equal values stay together.
 *   `"pair_id"` splits pair by pair.
 * - `stratify` (optional): a column whose values each split keeps in proportion (e.g. "label", "source").
 *
 * **Stats**: train_rows, validation_rows, test_rows, train_groups, validation_groups, test_groups,
 * groups; strata and mixed_groups with `stratify`.
 *
 * **Example**
 * ```ts
 * const parts = p.node("split", split.hash({ fractions: { train: 0.9, test: 0.1 }, seed: 7, stratify: "source" }), { pairs: clean })
 * p.node("export", exportTo.trl({ … }), { pairs: parts.train })
 * ```
 *
 * Gotchas: the cuts are counted in rows of this input, so adding rows can move groups near a cut into
 * the next split; keep the seed and the input fixed for a split that must not move. Small strata are
 * cut in whole groups: a stratum of 3 groups cannot be split 80 / 10 / 10.
 */
import { Effect, Schema } from "effect"
import { input, outputLike, type TableSchema } from "../../workbench/core/contract.js"
import { didYouMean } from "../../workbench/core/did-you-mean.js"
import { DataError } from "../../workbench/core/errors.js"
import { defineNode } from "../../workbench/core/node.js"
import { param } from "../../workbench/core/params.js"
import { Progress, Sql } from "../../workbench/core/services.js"
import { countsSql, groupsSql, keyedSql, SPLITS, type SplitPlan, splitRowsSql } from "./plan.js"

const Fraction = Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 1 }))
const round = (x: number) => Math.round(x * 1e6) / 1e6

const Fractions = Schema.Record(Schema.String, Fraction).check(
  Schema.makeFilter((f: Readonly<Record<string, number>>) => {
    const other = Object.keys(f).filter((k) => !(SPLITS as ReadonlyArray<string>).includes(k))
    return (
      other.length === 0 ||
      `split names among train, validation and test, the node's output tables (${other.join(", ")} is not one; ` +
        "for more parts, split one of them again with another split.hash node)"
    )
  }),
  Schema.makeFilter((f: Readonly<Record<string, number>>) => {
    const sum = Object.values(f).reduce((a, b) => a + b, 0)
    return (
      Math.abs(sum - 1) < 1e-9 ||
      `fractions that sum to 1; these sum to ${round(sum)} (${
        Object.entries(f)
          .map(([k, v]) => `${k} ${v}`)
          .join(" + ") || "none given"
      })`
    )
  })
)

export const SplitParams = Schema.Struct({
  fractions: param(
    Fractions,
    { train: 0.8, validation: 0.1, test: 0.1 },
    "share of rows per split (train, validation, test), each 0-1, summing to 1; a split left out is empty"
  ),
  seed: param(Schema.Int, 0, "seed of the hash that orders the groups: same seed, same split"),
  groupBy: param(
    Schema.Union([Schema.String, Schema.Array(Schema.String).check(Schema.isMinLength(1))]),
    "prompt",
    'column (or list of columns) whose equal values stay in one split; "pair_id" splits pair by pair'
  ),
  stratify: Schema.optionalKey(
    Schema.String.annotate({
      description: "column whose values every split keeps in proportion (each value's rows are cut by the fractions)"
    })
  )
})
export type SplitParams = typeof SplitParams.Type

const planOf = (params: SplitParams): SplitPlan => ({
  fractions: params.fractions,
  seed: params.seed,
  groupBy: typeof params.groupBy === "string" ? [params.groupBy] : params.groupBy,
  stratify: params.stratify
})

/** The first column a param names that the input does not have (when its columns are all known). */
function missingColumn(plan: SplitPlan, schema: TableSchema, where: (param: string) => string): DataError | undefined {
  if (schema.open) return undefined
  const names = schema.columns.map((c) => c.name)
  const named = [
    ...plan.groupBy.map((c) => ["groupBy", c] as const),
    ...(plan.stratify === undefined ? [] : [["stratify", plan.stratify] as const])
  ]
  const missing = named.find(([, c]) => !names.includes(c))
  if (missing === undefined) return undefined
  const [p, c] = missing
  return new DataError({
    where: where(p),
    found: `column ${c} does not exist in its input pairs`,
    expected: `a column of pairs: ${schema.columns.map((x) => `${x.name} (${x.type})`).join(", ") || "(none)"}`,
    fix: `${didYouMean(c, names) ? `${didYouMean(c, names)} ` : ""}name an existing column, or produce ${c} upstream`
  })
}

const pairsLike = (split: string) =>
  outputLike(split === "train" ? "main" : "aux", "pairs", { doc: `the rows of the ${split} split` })

export const hash = defineNode({
  kind: "split.hash",
  version: 1,
  summary:
    "Seeded train / validation / test split by a hash of a group key (default: the prompt), optionally stratified",
  params: SplitParams,
  inputs: {
    pairs: input(
      {},
      {
        optional: { prompt: "utf8" },
        many: true,
        doc: "the rows to split (any columns; those groupBy and stratify name)"
      }
    )
  },
  outputs: { train: pairsLike("train"), validation: pairsLike("validation"), test: pairsLike("test") },
  // no SQL needed: the columns the params name are checked against the upstream's before anything runs
  inferOutputs: ({ params, inputs }) => {
    const problem = missingColumn(planOf(params), inputs["pairs"]!, (p) => `param ${p}`)
    return problem === undefined ? Effect.succeed({}) : Effect.fail(problem)
  },
  run: (ctx) =>
    Effect.gen(function* () {
      const db = yield* Sql
      const plan = planOf(ctx.params)
      const pairs = ctx.inputs.pairs
      const problem = missingColumn(plan, pairs.schema, (p) => `node "${ctx.node}" (${ctx.kind}) param ${p}`)
      if (problem !== undefined) return yield* problem
      const keyed = yield* db.create("split_keyed", keyedSql(pairs.numbered, plan))
      const groups = yield* db.create("split_groups", groupsSql(keyed, plan))
      const tables = {
        train: yield* db.create("split_train", splitRowsSql(keyed, groups, "train")),
        validation: yield* db.create("split_validation", splitRowsSql(keyed, groups, "validation")),
        test: yield* db.create("split_test", splitRowsSql(keyed, groups, "test"))
      }
      const [c] = yield* db.rows<Record<string, number>>(countsSql(groups))
      const counts = c!
      if (counts["train_rows"]! + counts["validation_rows"]! + counts["test_rows"]! !== pairs.rows) {
        return yield* Effect.die(new Error(`split.hash lost rows: ${pairs.rows} in, ${JSON.stringify(counts)}`))
      }
      // the run's summary shows the main table (train) as rows out: the note says where the others went
      const n = (x: number) => x.toLocaleString("en-US")
      yield* (yield* Progress).note(
        `${n(pairs.rows)} rows split: ` + SPLITS.map((s) => `${s} ${n(counts[`${s}_rows`]!)}`).join(", ")
      )
      const { strata, mixed_groups, ...rest } = counts
      const stats = plan.stratify === undefined ? rest : { ...rest, strata: strata!, mixed_groups: mixed_groups! }
      return { tables, stats }
    })
})

export const split = { hash }
