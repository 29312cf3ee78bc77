/**
 * evaluate.winRate's pure core: AlpacaEval's per-model statistics over one slice of judged rows, and
 * the length-controlled win rate from the joint GLM (lc-glm.ts) fitted over the models of the slice.
 */
import { lengthControlledWinRates } from "./lc-glm.js"
import { type Slice, sampleSd } from "./stats.js"

/** One judged comparison of a model's output with the baseline's. */
export interface WinItems {
  readonly model: ReadonlyArray<string>
  /** P(the model's output wins): AlpacaEval's preference − 1. */
  readonly y: ReadonlyArray<number>
  readonly instruction: ReadonlyArray<string>
  readonly modelLength: ReadonlyArray<number>
  readonly baselineLength: ReadonlyArray<number>
}

export interface WinOptions {
  readonly lc: boolean
  readonly difficultyL2: number
  readonly l2: number
}

export const PER_MODEL_COLUMNS = {
  slice_by: "utf8",
  slice: "utf8",
  model: "utf8",
  n: "int64",
  win_rate: "float64",
  standard_error: "float64",
  wins: "int64",
  losses: "int64",
  draws: "int64",
  discrete_win_rate: "float64",
  lc_win_rate: "float64",
  lc_length_coef: "float64",
  lc_difficulty_coef: "float64",
  avg_length: "float64"
} as const

export type PerModelRow = Readonly<Record<keyof typeof PER_MODEL_COLUMNS, string | number | null>>

const indexOf = (values: Iterable<string>) => {
  const ids = new Map<string, number>()
  for (const v of values) if (!ids.has(v)) ids.set(v, ids.size)
  return ids
}

/** The per-model rows of one slice, best win rate first (ties by model name). */
export function perModel(
  items: WinItems,
  slice: Slice,
  o: WinOptions
): { rows: Array<PerModelRow>; iterations: number } {
  const idx = slice.items
  const models = indexOf(idx.map((i) => items.model[i]!))
  const byModel: Array<Array<number>> = Array.from({ length: models.size }, () => [])
  for (const i of idx) byModel[models.get(items.model[i]!)!]!.push(i)
  let lc: ReturnType<typeof lengthControlledWinRates> | undefined
  if (o.lc && idx.length > 0) {
    const instructions = indexOf(idx.map((i) => items.instruction[i]!))
    lc = lengthControlledWinRates(
      {
        model: idx.map((i) => models.get(items.model[i]!)!),
        instruction: idx.map((i) => instructions.get(items.instruction[i]!)!),
        y: idx.map((i) => items.y[i]!),
        delta: idx.map((i) => items.modelLength[i]! - items.baselineLength[i]!),
        models: models.size,
        instructions: instructions.size
      },
      { difficultyL2: o.difficultyL2, l2: o.l2 }
    )
  }
  const rows = [...models.entries()].map(([model, m]): PerModelRow => {
    const ys = byModel[m]!.map((i) => items.y[i]!)
    const n = ys.length
    // summed in input order: the same float sum AlpacaEval's pandas mean makes on the file's rows
    const mean = ys.reduce((s, y) => s + y, 0) / n
    const wins = ys.filter((y) => y > 0.5).length
    const losses = ys.filter((y) => y < 0.5).length
    const draws = n - wins - losses
    return {
      slice_by: slice.by,
      slice: slice.slice,
      model,
      n,
      win_rate: mean * 100,
      standard_error: (sampleSd(ys) / Math.sqrt(n)) * 100,
      wins,
      losses,
      draws,
      discrete_win_rate: ((wins + draws / 2) / n) * 100,
      lc_win_rate: lc === undefined ? null : lc.lcWinRate[m]!,
      lc_length_coef: lc === undefined ? null : lc.phi[m]!,
      lc_difficulty_coef: lc === undefined ? null : lc.psi[m]!,
      avg_length: byModel[m]!.reduce((s, i) => s + items.modelLength[i]!, 0) / n
    }
  })
  rows.sort((a, b) => (b.win_rate as number) - (a.win_rate as number) || String(a.model).localeCompare(String(b.model)))
  return { rows, iterations: lc?.iterations ?? 0 }
}
