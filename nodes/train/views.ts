/** What `wb serve` draws for the family's trainers (core/views.ts): per-epoch train and validation curves from `history`. */
export const curveViews = (["loss", "accuracy"] as const).map((m) => ({
  name: m,
  title: `${m === "loss" ? "Loss" : "Accuracy"} per epoch`,
  table: "history",
  kind: "line" as const,
  x: "epoch",
  sql: `SELECT epoch::DOUBLE AS x, y::DOUBLE AS y, color FROM (UNPIVOT (SELECT epoch, ${m} AS train, val_${m} AS validation
      FROM input) ON train, validation INTO NAME color VALUE y) ORDER BY x, color`,
  xLabel: "epoch",
  yLabel: m,
  doc: "validation drifting away from train is overfitting; the model kept is the best validation epoch"
}))
