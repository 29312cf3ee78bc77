/**
 * A run as a stream of events. Every event carries the run's id, a sequence number (0, 1, 2, … within
 * the run, in the order the events were emitted) and the time it was emitted (ISO 8601, UTC), so a
 * consumer that joins late, or reads several runs interleaved, can order and group them.
 * `wb run --events` prints them as NDJSON; the server forwards the same objects.
 */
import { Schema } from "effect"
import { NodeReport, RunReport } from "./report.js"

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/

/** The fields every event carries. */
export const EventStamp = {
  runId: Schema.String,
  seq: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
  time: Schema.String.check(Schema.isPattern(ISO_TIME))
}

export const RunStarted = Schema.TaggedStruct("RunStarted", {
  ...EventStamp,
  pipeline: Schema.String,
  /** Every node of the pipeline, in run order; `selected` is false for nodes --only leaves out. */
  nodes: Schema.Array(Schema.Struct({ name: Schema.String, kind: Schema.String, selected: Schema.Boolean }))
})

export const NodeStarted = Schema.TaggedStruct("NodeStarted", {
  ...EventStamp,
  node: Schema.String,
  kind: Schema.String
})

export const NodeProgress = Schema.TaggedStruct("NodeProgress", {
  ...EventStamp,
  node: Schema.String,
  done: Schema.Number,
  total: Schema.optionalKey(Schema.Number),
  /** "rows", "records", "steps", … or "%" for the engine's estimate of the running statement. */
  unit: Schema.String
})

export const NodeNote = Schema.TaggedStruct("NodeNote", { ...EventStamp, node: Schema.String, text: Schema.String })

/**
 * Named series a running node reports as it goes (a trainer's `loss`, `accuracy`, `pairs_per_s` per
 * step, `val_loss` per epoch), for live curves: each value is one point at x = `step`. Generic: the
 * names are the node's; by convention `val_<name>` is the held-out twin of `<name>`, and `<name>_per_s`
 * a rate. Throttled by the runner (core/run-progress.ts) to about 10 a second per node and series set,
 * the last always sent. Values are finite (JSON has no NaN).
 */
export const NodeMetrics = Schema.TaggedStruct("NodeMetrics", {
  ...EventStamp,
  node: Schema.String,
  /** The x of every value: steps done (optimizer steps, batches, …), counting up within the node's run. */
  step: Schema.Number,
  /** Steps in all, when known. */
  steps: Schema.optionalKey(Schema.Number),
  /** The pass over the data the step belongs to (0-based), when the node works in passes. */
  epoch: Schema.optionalKey(Schema.Number),
  values: Schema.Record(Schema.String, Schema.Finite)
})

export const NodeFinished = Schema.TaggedStruct("NodeFinished", { ...EventStamp, report: NodeReport })

export const RunFinished = Schema.TaggedStruct("RunFinished", { ...EventStamp, report: RunReport })

export const RunEvent = Schema.Union([
  RunStarted,
  NodeStarted,
  NodeProgress,
  NodeNote,
  NodeMetrics,
  NodeFinished,
  RunFinished
]).annotate({ identifier: "RunEvent" })
export type RunEvent = typeof RunEvent.Type

/** One NDJSON line (no newline) per event, and back. */
export const RunEventJson = Schema.fromJsonString(RunEvent)
export const encodeRunEventLine = Schema.encodeSync(RunEventJson)
export const decodeRunEventLine = Schema.decodeUnknownSync(RunEventJson)
