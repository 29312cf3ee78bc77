/**
 * Per-step metrics (NodeMetrics): the one throttle (at most one event per 100 ms per node and set of
 * names, the last step always, a held one flushed at the node's end), the Progress service's metrics
 * (non-finite values left out), the protocol round trip (and old logs still decoding), and the CLI's
 * run line showing the latest values instead of a note, with no spinner frames without a terminal.
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { metricsText, RunView } from "../../workbench/cli/render-run.js"
import type { RunEventBody } from "../../workbench/core/events.js"
import { makeProgress, metricsThrottle } from "../../workbench/core/run-progress.js"
import { decodeRunEventLine, encodeRunEventLine, type RunEvent } from "../../workbench/protocol/events.js"

type Metrics = Extract<RunEventBody, { _tag: "NodeMetrics" }>
const step = (s: number, steps: number | undefined, values: Record<string, number>): Metrics => ({
  _tag: "NodeMetrics",
  node: "rm",
  step: s,
  ...(steps === undefined ? {} : { steps }),
  values
})

describe("the metrics throttle", () => {
  it("lets through at most one event per 100 ms per set of names, the last step always", () => {
    let now = 0
    const t = metricsThrottle(100, () => now)
    const sent: Array<Metrics> = []
    // 2,000 steps, one every 0.5 ms: a 1-second run of a fast trainer
    for (let s = 1; s <= 2000; s++) {
      now = s * 0.5
      sent.push(...t.offer(step(s, 2000, { loss: 1 / s, accuracy: 0.5 })))
    }
    expect(sent.length).toBeGreaterThanOrEqual(10)
    expect(sent.length).toBeLessThanOrEqual(11) // 1000 ms / 100 ms, plus the last step
    expect(sent[0]!.step).toBe(1)
    expect(sent.at(-1)!.step).toBe(2000)
    for (let i = 1; i < sent.length - 1; i++) expect(sent[i]!.step - sent[i - 1]!.step).toBeGreaterThanOrEqual(200)
    expect(t.flush()).toEqual([]) // the last step went out: nothing held
  })

  it("gives a rare series (per-epoch validation) its own budget, and flushes what it held at the end", () => {
    let now = 0
    const t = metricsThrottle(100, () => now)
    expect(t.offer(step(1, undefined, { loss: 0.7 }))).toHaveLength(1)
    now = 10
    // inside the loss gap, but another set of names: not starved by the per-step series
    expect(t.offer(step(1, undefined, { val_loss: 0.69 }))).toHaveLength(1)
    now = 20
    expect(t.offer(step(2, undefined, { loss: 0.6 }))).toEqual([])
    now = 30
    expect(t.offer(step(3, undefined, { loss: 0.5 }))).toEqual([]) // replaces step 2 as the held one
    now = 40
    expect(t.offer(step(3, undefined, { val_loss: 0.55 }))).toEqual([])
    // a run that stopped early never reached steps: the runner flushes, in step order, latest of each set
    expect(t.flush().map((e) => [e.step, Object.keys(e.values)[0]])).toEqual([
      [3, "loss"],
      [3, "val_loss"]
    ])
    expect(t.flush()).toEqual([])
  })
})

describe("Progress.metrics", () => {
  it("emits NodeMetrics with the finite values only, nothing when none is finite, and flushes held ones", async () => {
    const events: Array<RunEventBody> = []
    let now = 0
    const progress = makeProgress(
      "rm",
      (e) => Effect.sync(() => void events.push(e)),
      metricsThrottle(100, () => now)
    )
    await Effect.runPromise(
      Effect.gen(function* () {
        yield* progress.metrics(
          { loss: 0.69, accuracy: Number.NaN, rate: Number.POSITIVE_INFINITY },
          { step: 1, epoch: 0 }
        )
        now = 200
        yield* progress.metrics({ loss: Number.NaN }, { step: 2 })
        now = 210
        yield* progress.metrics({ loss: 0.5 }, { step: 3, steps: 10, epoch: 1 }) // held
        yield* progress.flushMetrics
      })
    )
    expect(events).toEqual([
      { _tag: "NodeMetrics", node: "rm", step: 1, epoch: 0, values: { loss: 0.69 } },
      { _tag: "NodeMetrics", node: "rm", step: 3, steps: 10, epoch: 1, values: { loss: 0.5 } }
    ])
  })
})

describe("NodeMetrics on the wire", () => {
  const stamp = { runId: "r1", seq: 7, time: "2026-01-01T00:00:00.000Z" }

  it("round-trips through an NDJSON line and refuses a non-finite value", () => {
    const e: RunEvent = {
      ...stamp,
      _tag: "NodeMetrics",
      node: "rm",
      step: 12,
      steps: 40,
      epoch: 0,
      values: { loss: 0.61 }
    }
    const line = encodeRunEventLine(e)
    expect(JSON.parse(line)).toEqual(e)
    expect(decodeRunEventLine(line)).toEqual(e)
    // JSON has no NaN: a writer that put null there made a line no reader should take as a value
    expect(() => decodeRunEventLine(line.replace("0.61", "null"))).toThrow()
    expect(() => decodeRunEventLine(JSON.stringify({ ...e, step: "12" }))).toThrow()
  })

  it("still decodes an event log written before metrics existed", () => {
    const old = [
      `{"_tag":"RunStarted","runId":"r0","seq":0,"time":"2025-01-01T00:00:00Z","pipeline":"p","nodes":[{"name":"rm","kind":"train.reward-model","selected":true}]}`,
      `{"_tag":"NodeProgress","runId":"r0","seq":1,"time":"2025-01-01T00:00:00Z","node":"rm","done":3,"total":9,"unit":"steps"}`,
      `{"_tag":"NodeNote","runId":"r0","seq":2,"time":"2025-01-01T00:00:00Z","node":"rm","text":"epoch 1 loss 0.6931 acc 0.500 900 pairs/s"}`
    ]
    expect(old.map((l) => decodeRunEventLine(l)._tag)).toEqual(["RunStarted", "NodeProgress", "NodeNote"])
  })
})

describe("the run line with metrics", () => {
  const start: RunEventBody = {
    _tag: "RunStarted",
    pipeline: "rm",
    nodes: [{ name: "rm", kind: "train.reward-model", selected: true }]
  }
  const feed = (view: RunView) => {
    view.onEvent(start)
    view.onEvent({ _tag: "NodeStarted", node: "rm", kind: "train.reward-model" })
    view.onEvent({ _tag: "NodeProgress", node: "rm", done: 30, total: 120, unit: "steps" })
    view.onEvent({
      _tag: "NodeMetrics",
      node: "rm",
      step: 30,
      steps: 120,
      epoch: 0,
      values: { loss: 0.641234, accuracy: 0.63125, pairs_per_s: 9876.4 }
    })
  }

  it("shows the latest values (a rate as x/s) instead of a note, and keeps them on the done line", () => {
    expect(metricsText({ pairs_per_s: 9876.4, loss: 0.641234, val_accuracy: 0.6 })).toBe(
      "loss 0.6412 val_acc 0.6 9,876 pairs/s"
    )
    let out = ""
    const view = new RunView({ write: (t) => void (out += t), isTTY: false }, ".wb/", () => 0)
    feed(view)
    view.onEvent({ _tag: "NodeMetrics", node: "rm", step: 40, epoch: 0, values: { val_loss: 0.7, val_accuracy: 0.55 } })
    expect(view.lines()[0]).toBe(
      "  ▸ rm  train.reward-model  ███░░░░░░░░░ 30/120 steps · epoch 1 loss 0.6412 acc 0.6312 val_loss 0.7 val_acc 0.55 9,876 pairs/s"
    )
    view.onEvent({
      _tag: "NodeFinished",
      report: {
        name: "rm",
        kind: "train.reward-model",
        status: "ran",
        rowsIn: 999,
        rowsOut: 1,
        rejected: 0,
        removed: 0,
        seconds: 2
      }
    })
    view.stop()
    expect(out).toContain("✓ rm  train.reward-model  999 → 1             2.0 s   loss 0.6412 acc 0.6312 val_loss 0.7")
  })

  it("draws no spinner frame and no ANSI code without a terminal", () => {
    let out = ""
    let now = 0
    const view = new RunView({ write: (t) => void (out += t), isTTY: false }, ".wb/", () => now)
    feed(view)
    now = 5000 // 30 steps in 5 s: 90 to go at 6/s
    view.heartbeat()
    view.stop()
    expect(out).toContain("▸ rm  train.reward-model  ███░░░░░░░░░ 30/120 steps · eta 15s · epoch 1 loss 0.6412")
    expect(out).not.toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]|\x1b\[/)
  })
})
