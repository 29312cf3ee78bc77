/**
 * What `wb serve` draws for the evaluate family (core/views.ts), each over the node's own metrics
 * table: bars with their intervals (the bootstrap 95% CI the node computed, or ±1 SE for win rates),
 * a kappa heatmap per rater and slice, and the reliability diagram.
 */
import type { NodeView } from "../../workbench/core/views.js"

/** A slice's label: '(all)', or `by = value`. */
const SLICE = "CASE WHEN slice_by = '(all)' THEN '(all)' ELSE slice_by || ' = ' || coalesce(slice, '(null)') END"

/** One metric per rater over every pair ('(all)'), with its CI: a bar per rater, 0.5 marked. */
const raterMetricBar = (name: string, metric: string, title: string, yLabel: string, doc: string): NodeView => ({
  name,
  title,
  table: "metrics",
  kind: "bar",
  x: "rater",
  y: "max(value)",
  lo: "max(ci_lo)",
  hi: "max(ci_hi)",
  where: `metric = '${metric}' AND slice_by = '(all)' AND value IS NOT NULL`,
  reference: 0.5,
  yLabel,
  doc
})

export const accuracyViews: ReadonlyArray<NodeView> = [
  {
    name: "accuracy",
    title: "Accuracy per slice, 95% CI",
    table: "metrics",
    kind: "bar",
    x: SLICE,
    y: "max(value)",
    lo: "max(ci_lo)",
    hi: "max(ci_hi)",
    where: "metric = 'accuracy' AND value IS NOT NULL",
    reference: 0.5,
    yLabel: "accuracy",
    doc: "a slice whose interval stays under the overall bar is where the model is weaker"
  }
]

export const calibrationViews: ReadonlyArray<NodeView> = [
  {
    name: "reliability",
    title: "Reliability diagram",
    table: "bins",
    kind: "line",
    x: "mean_pred",
    y: "observed",
    where: "slice_by = '(all)' AND n > 0",
    reference: "diagonal",
    xLabel: "mean predicted probability (per the node's mode: confidence, or P(a))",
    yLabel: "observed rate",
    doc: "on the diagonal the probabilities are calibrated; under it, the model is over-confident"
  }
]

export const agreementViews: ReadonlyArray<NodeView> = [
  {
    name: "kappa",
    title: "Cohen's kappa per rater and slice",
    table: "metrics",
    kind: "heatmap",
    x: "rater",
    y: SLICE,
    value: "max(value)",
    where: "metric = 'kappa' AND value IS NOT NULL",
    doc: "0 is chance agreement, 1 perfect; a pale row is a slice the raters find hard"
  },
  raterMetricBar(
    "length-bias",
    "p_prefer_longer",
    "Length bias: P(prefer the longer response), 95% CI",
    "P(prefer longer)",
    "decisive votes where the lengths differ; 0.5 is no length bias"
  ),
  raterMetricBar(
    "position-bias",
    "p_prefer_first",
    "Position bias: P(prefer the response shown first), 95% CI",
    "P(prefer first)",
    "decisive votes; 0.5 is no position bias"
  )
]

export const winRateViews: ReadonlyArray<NodeView> = [
  {
    name: "win-rate",
    title: "Win rate per model, ±1 SE",
    table: "per_model",
    kind: "bar",
    x: "model",
    y: "max(win_rate)",
    lo: "max(win_rate - standard_error)",
    hi: "max(win_rate + standard_error)",
    where: "slice_by = '(all)'",
    reference: 50,
    yLabel: "win rate (%)",
    doc: "against the baseline; 50 is a tie with it"
  }
]
