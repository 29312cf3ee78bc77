/**
 * A real `wb run` of load.pandalm → featurize.hash → train.reward-model: its event log
 * (.wb/events/<run>.ndjson) holds NodeMetrics events that decode with the protocol's Schema, carry
 * finite loss / accuracy / pairs_per_s on a rising step axis ending at the last step, thinned to about
 * 10 a second, with the training loss falling; per-epoch val_loss ends on the history table's last
 * row. The CLI's line without a terminal shows the final values and no spinner frame.
 */
import { readdirSync, readFileSync, symlinkSync, writeFileSync, mkdirSync } from "node:fs"
import { join } from "node:path"
import { availableParallelism } from "node:os"
import { beforeAll, describe, expect, it } from "vitest"
import { decodeRunEventLine, type RunEvent } from "../../workbench/protocol/events.js"
import { REPO, tempDir, type WbResult, wb } from "./cli-spawn.js"

const FILE = "pipelines/rm.yaml"
const EPOCHS = 10
const YAML = `pipeline: rm-metrics
nodes:
  panda: { use: load.pandalm, with: { path: data/pandalm-testset, maxRejectRate: 0.01 } }
  feats: { use: featurize.hash, in: { pairs: panda } }
  rm: { use: train.reward-model, in: { pairs: feats }, with: { epochs: ${EPOCHS}, dim: 16, hidden: 16, batchSize: 32, patience: 0, validationFraction: 0.2 } }
  ens: { use: train.ensemble, in: { pairs: feats }, with: { members: 2, epochs: 2, dim: 8, hidden: 8, batchSize: 64 } }
`

type Metrics = Extract<RunEvent, { _tag: "NodeMetrics" }>
let root = ""
let run: WbResult
let events: Array<RunEvent> = []

beforeAll(async () => {
  root = tempDir("wb-metrics-")
  mkdirSync(join(root, "pipelines"))
  symlinkSync(join(REPO, "data"), join(root, "data"))
  writeFileSync(join(root, "package.json"), '{ "name": "metrics-test", "type": "module" }\n')
  writeFileSync(join(root, FILE), YAML)
  run = await wb(["run", FILE], { cwd: root })
  const dir = join(root, ".wb", "events")
  const logs = readdirSync(dir).filter((f) => f.endsWith(".ndjson"))
  expect(logs).toHaveLength(1)
  // every line decodes with the protocol's Schema (a bad value would throw here)
  events = readFileSync(join(dir, logs[0]!), "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => decodeRunEventLine(l))
}, 180_000)

const metrics = (has: string, node = "rm") =>
  events.filter((e): e is Metrics => e._tag === "NodeMetrics" && e.node === node && has in e.values)
const mean = (xs: ReadonlyArray<number>) => xs.reduce((a, b) => a + b, 0) / xs.length

describe("a train run's metrics events", () => {
  it("ran", () => {
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0)
  })

  it("end in a summary that names the sparse trainer's threads and kernels", () => {
    // one thread per core up to 4 (the params default); WebAssembly SIMD is in every Node 20
    const threads = Math.min(4, availableParallelism())
    expect(run.stdout).toContain(`\n  rm: sparse (${threads} thread${threads === 1 ? "" : "s"}, wasm-simd kernels)\n`)
  })

  it("carry finite per-step loss, accuracy and pairs/s on a rising step axis, ending at the last step", () => {
    const steps = metrics("loss")
    expect(steps.length).toBeGreaterThanOrEqual(3)
    const total = steps[0]!.steps!
    expect(total).toBeGreaterThan(EPOCHS) // several steps an epoch
    for (const [i, e] of steps.entries()) {
      expect(Object.keys(e.values).sort()).toEqual(["accuracy", "loss", "pairs_per_s"])
      for (const v of Object.values(e.values)) expect(Number.isFinite(v)).toBe(true)
      expect(e.values["accuracy"]).toBeGreaterThanOrEqual(0)
      expect(e.values["accuracy"]).toBeLessThanOrEqual(1)
      expect(e.values["pairs_per_s"]).toBeGreaterThan(0)
      expect(e.steps).toBe(total)
      expect(e.epoch).toBeGreaterThanOrEqual(0)
      expect(e.epoch).toBeLessThan(EPOCHS)
      if (i > 0) expect(e.step).toBeGreaterThan(steps[i - 1]!.step)
    }
    expect(steps.at(-1)!.step).toBe(total) // the last step is never throttled away
    expect(steps.at(-1)!.epoch).toBe(EPOCHS - 1)
  })

  it("are thinned to about 10 a second, not one per step", () => {
    const steps = metrics("loss")
    const finished = events.find((e) => e._tag === "NodeFinished" && e.report.name === "rm")
    const seconds = finished?._tag === "NodeFinished" ? finished.report.seconds : 0
    expect(seconds).toBeGreaterThan(0)
    expect(steps.length).toBeLessThanOrEqual(Math.ceil(seconds * 10) + 2)
    expect(steps.length).toBeLessThan(steps[0]!.steps!)
    // 100 ms apart (the last excepted) by their stamps: ms resolution, and a clock read just after the
    // throttle's, which a loaded machine may delay (unthrottled, steps here are about 1 ms apart)
    const ms = steps.map((e) => Date.parse(e.time))
    for (let i = 1; i < ms.length - 1; i++) expect(ms[i]! - ms[i - 1]!).toBeGreaterThanOrEqual(80)
  })

  it("show the training loss falling from about ln 2", () => {
    const loss = metrics("loss").map((e) => e.values["loss"]!)
    expect(loss[0]).toBeGreaterThan(0.5)
    expect(loss[0]).toBeLessThan(0.8)
    const third = Math.max(1, Math.floor(loss.length / 3))
    expect(mean(loss.slice(-third))).toBeLessThan(mean(loss.slice(0, third)) - 0.1)
  })

  it("carry per-epoch val_loss / val_accuracy, the last equal to the history table's last epoch", async () => {
    const val = metrics("val_loss")
    expect(val.length).toBeGreaterThanOrEqual(1)
    expect(val.length).toBeLessThanOrEqual(EPOCHS)
    for (const e of val) expect(Object.keys(e.values).sort()).toEqual(["val_accuracy", "val_loss"])
    const last = val.at(-1)!
    expect(last.epoch).toBe(EPOCHS - 1)
    expect(last.step).toBe(last.steps)
    const q = await wb(
      ["sql", FILE, 'SELECT val_loss, val_accuracy FROM "rm.history" ORDER BY epoch DESC LIMIT 1', "--json"],
      {
        cwd: root
      }
    )
    const [row] = JSON.parse(q.stdout) as Array<{ val_loss: number; val_accuracy: number }>
    expect(last.values["val_loss"]).toBeCloseTo(row!.val_loss, 12)
    expect(last.values["val_accuracy"]).toBeCloseTo(row!.val_accuracy, 12)
  })

  it("of an ensemble put its members one after the other on one step axis", () => {
    const steps = metrics("loss", "ens")
    expect(steps.length).toBeGreaterThanOrEqual(2)
    const total = steps[0]!.steps!
    for (const [i, e] of steps.entries()) {
      expect(e.steps).toBe(total)
      if (i > 0) expect(e.step).toBeGreaterThan(steps[i - 1]!.step)
    }
    expect(steps.at(-1)!.step).toBe(total)
    // 2 members × 2 epochs of the same pairs: the second member's epochs end at 3/4 and 4/4 of the axis
    const val = metrics("val_loss", "ens")
    expect(val.at(-1)!.step).toBe(total)
    for (const e of val) expect(e.step % (total / 4)).toBe(0)
  })

  it("reach the CLI's line (no terminal: the final values on the done line, no spinner frames)", () => {
    const done = run.stdout.split("\n").find((l) => /✓ rm\s+train\.reward-model/.test(l))
    expect(done, run.stdout).toMatch(/ loss [\d.e-]+ acc [\d.]+ val_loss [\d.]+ val_acc [\d.]+ [\d,]+ pairs\/s$/)
    expect(run.stdout).not.toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]|\x1b\[/)
  })

  it("leave a model table `wb show` prints: a large weight blob as its size, small ones as hex", async () => {
    // the 2^18 × 16 embedding table is 16 MiB: printed as hex it once exhausted wb show's heap
    const shown = await wb(["show", FILE, "rm"], { cwd: root })
    expect(shown.code, shown.stderr).toBe(0)
    expect(shown.stdout).toMatch(/emb\s+\[262144,16\]\s+<blob of 16,777,216 bytes>/)
    const json = await wb(["show", FILE, "rm", "--format", "jsonl"], { cwd: root })
    expect(json.code, json.stderr).toBe(0)
    const rows = json.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { tensor: string; data: string })
    expect(rows.find((r) => r.tensor === "emb")!.data).toBe("<blob of 16,777,216 bytes>")
    // b2 is one float32: 4 bytes of hex, the value the model holds
    expect(rows.find((r) => r.tensor === "b2")!.data).toMatch(/^[0-9a-f]{8}$/)
  })
})
