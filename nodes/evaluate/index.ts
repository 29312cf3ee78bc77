/**
 * The evaluate family: metrics of reward models, judges and generators, as tables the workbench plots.
 * Every metric can be sliced (`by`: any pair column, or for votes a vote / meta / rater attribute) and
 * carries a seeded 95% bootstrap interval per slice.
 *
 * | preset | kind | what |
 * |---|---|---|
 * | `accuracy` | `evaluate.accuracy` | reward / preference accuracy (strict >, RewardBench), per subset and section |
 * | `calibration` | `evaluate.calibration` | expected calibration error, Brier score, reliability bins |
 * | `agreement` | `evaluate.agreement` | rater vs label or rater: accuracy, Cohen's kappa, confusion, biases, order consistency |
 * | `winRate` | `evaluate.win-rate` | AlpacaEval win rate per model, SE, W/L/D, discrete and length-controlled |
 */
import { accuracy } from "./accuracy.js"
import { agreement } from "./agreement.js"
import { calibration } from "./calibration.js"
import { winRate } from "./win-rate.js"

export const evaluate = {
  accuracy,
  calibration,
  agreement,
  winRate
}
