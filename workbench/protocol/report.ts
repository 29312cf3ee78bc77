/** What a run did, as data: one report per node, one per run. The CLI renders them; the server forwards them. */
import { Schema } from "effect"
import { FailureData } from "./errors.js"

export const NodeStatus = Schema.Literals(["ran", "cached", "failed", "skipped", "interrupted"])
export type NodeStatus = typeof NodeStatus.Type

/** What happened to one node in one run. */
export const NodeReport = Schema.Struct({
  name: Schema.String,
  kind: Schema.String,
  status: NodeStatus,
  rowsIn: Schema.Number,
  rowsOut: Schema.Number,
  rejected: Schema.Number,
  removed: Schema.Number,
  seconds: Schema.Number,
  /** The artifact key (ran, cached, failed, interrupted). */
  key: Schema.optionalKey(Schema.String),
  stats: Schema.optionalKey(Schema.Record(Schema.String, Schema.Union([Schema.Number, Schema.String]))),
  /** Failure text (failed) or why it did not run (skipped, interrupted). Never a stack trace. */
  error: Schema.optionalKey(Schema.String),
  /** Why it failed, as data (failed only). */
  failure: Schema.optionalKey(FailureData)
}).annotate({ identifier: "NodeReport" })
export type NodeReport = typeof NodeReport.Type

export const RunStatus = Schema.Literals(["ok", "failed", "interrupted"])
export type RunStatus = typeof RunStatus.Type

export const RunReport = Schema.Struct({
  pipeline: Schema.String,
  runId: Schema.String,
  status: RunStatus,
  seconds: Schema.Number,
  nodes: Schema.Array(NodeReport)
}).annotate({ identifier: "RunReport" })
export type RunReport = typeof RunReport.Type
