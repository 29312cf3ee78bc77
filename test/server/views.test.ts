/**
 * The views node families declare (core/views.ts), served by `wb serve` from a real pipeline run by
 * `wb run`: PandaLM pairs with recorded, heuristic and simulated raters, judge.aggregate, strength,
 * mix, evaluate.agreement; AlpacaEval win rates; a reward model trained, scored, evaluated; and
 * judge.llm against a fake OpenAI server with a position bias. Every declared view is fetched over
 * the API and its Arrow rows are checked against counts in TS over the artifacts' rows (the rows
 * route, whole tables: independent of the views' SQL).
 */
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { tableFromIPC } from "apache-arrow"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type RunningServer, startServer } from "../../workbench/server/server.js"
import { REPO, tempDir, wb } from "../e2e/cli-spawn.js"
import { fakeJudge, PAIRS } from "../nodes/judge-llm-helpers.js"
import { type FakeServer, startFakeOpenAi } from "../support/fake-openai.js"

const FILE = "pipelines/views.yaml"
const P = `/api/pipelines/${encodeURIComponent(FILE)}`
const TOKEN = "v".repeat(43)
const yaml = (llm: string) => `pipeline: views
nodes:
  panda: { use: load.pandalm, with: { path: data/pandalm-testset, maxRejectRate: 0.01 } }
  longer: { use: judge.heuristic, in: { pairs: panda }, with: { rule: prefer-longer } }
  sim: { use: judge.simulated, in: { pairs: panda }, with: { annotators: 3, flipRate: 0.25, seed: 0 } }
  ai: { use: judge.aggregate, in: { pairs: panda, votes: [panda.votes, longer.votes, sim.votes] } }
  # the human label against the AI ensemble: some pairs flipped, some dropped
  strength: { use: strength.filter, in: { pairs: panda, votes: ai.votes }, with: { flipBelow: -0.2, drop: { below: -0.1 } } }
  mix: { use: mix.route, in: { pairs: ai, human: panda.votes, ai: ai.votes } }
  agree: { use: evaluate.agreement, in: { votes: [longer.votes, sim.votes], pairs: panda }, with: { by: [label], resamples: 50 } }
  ae: { use: load.alpaca-eval, with: { path: data/alpaca-eval-gpt-3.5-turbo-0301/weighted_alpaca_eval_gpt4_turbo.annotations.json.gz } }
  leaderboard: { use: evaluate.win-rate, in: { votes: ae.votes, pairs: ae }, with: { lc: false } }
  feats: { use: featurize.hash, in: { pairs: panda } }
  rm: { use: train.reward-model, in: { pairs: feats }, with: { epochs: 3, dim: 16, hidden: 16 } }
  scored: { use: train.score, in: { model: rm, pairs: feats } }
  accuracy: { use: evaluate.accuracy, in: { pairs: scored }, with: { by: [label], resamples: 50 } }
  calibration: { use: evaluate.calibration, in: { pairs: scored }, with: { bins: 10, resamples: 50 } }
  pairs: { use: load.table, with: { path: pairs.jsonl } }
  judge: { use: judge.llm, in: { pairs: pairs }, with: { baseUrl: "${llm}", model: m, maxRetries: 0 } }
`

let root = ""
let llm: FakeServer
let server: RunningServer

beforeAll(async () => {
  llm = await startFakeOpenAi({ script: (r) => ({ answer: fakeJudge(r) }) })
  root = tempDir("wb-views-")
  mkdirSync(join(root, "pipelines"))
  symlinkSync(join(REPO, "data"), join(root, "data"))
  writeFileSync(join(root, "package.json"), '{ "name": "views-test", "type": "module" }\n')
  writeFileSync(join(root, "pairs.jsonl"), `${PAIRS.map((p) => JSON.stringify(p)).join("\n")}\n`)
  writeFileSync(join(root, FILE), yaml(llm.baseUrl))
  const run = await wb(["run", FILE], { cwd: root })
  if (run.code !== 0) throw new Error(`views pipeline failed: ${run.stdout}\n${run.stderr}`)
  server = await startServer({ root, token: TOKEN })
}, 180_000)
afterAll(async () => {
  server?.close()
  await llm?.close()
})

type Row = Record<string, any>
const post = (path: string, body: unknown) =>
  fetch(server.origin + path, {
    method: body === undefined ? "GET" : "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
const rowsOf = async (res: Response): Promise<Array<Row>> => {
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${await res.text()}`)
  return tableFromIPC(new Uint8Array(await res.arrayBuffer()))
    .toArray()
    .map((r) => r.toJSON() as Row)
}
/** A declared view, as the browser fetches it. */
const view = async (node: string, name: string) => {
  const res = await post(`${P}/nodes/${node}/views/${name}`, undefined)
  return rowsOf(res)
}
/** The independent side: every row of a node's table (the rows route; these tables fit one page). */
const rows = async (node: string, table = "main"): Promise<Array<Row>> => {
  const res = await post(`${P}/nodes/${node}/tables/${table}/rows?limit=5000`, undefined)
  expect(res.headers.get("x-wb-next")).toBeNull()
  return rowsOf(res)
}
const countBy = (rs: ReadonlyArray<Row>, key: (r: Row) => string) => {
  const out: Record<string, number> = {}
  for (const r of rs) out[key(r)] = (out[key(r)] ?? 0) + 1
  return out
}
const sum = (rows: ReadonlyArray<Row>, k: string) => rows.reduce((s, r) => s + Number(r[k]), 0)
const byKey = (rows: ReadonlyArray<Row>, ...keys: Array<string>) =>
  Object.fromEntries(rows.map((r) => [keys.map((k) => String(r[k])).join("|"), r]))

describe("declared views", { timeout: 120_000 }, () => {
  it("every node's declared views are well formed and answer 200 with rows", async () => {
    const graph = (await (await post(`${P}/graph`, undefined)).json()) as {
      nodes: Array<{ name: string; kind: string; views: Array<{ name: string }>; viewProblems: Array<string> }>
    }
    const declared = graph.nodes.flatMap((n) => n.views.map((v) => `${n.name}/${v.name}`))
    expect(graph.nodes.flatMap((n) => n.viewProblems)).toEqual([])
    // every family the item names declares its plots (loaders: every load node)
    for (const n of [
      "panda",
      "ae",
      "pairs",
      "strength",
      "mix",
      "judge",
      "ai",
      "agree",
      "rm",
      "accuracy",
      "calibration"
    ])
      expect(
        declared.some((d) => d.startsWith(`${n}/`)),
        n
      ).toBe(true)
    expect(declared.includes("leaderboard/win-rate")).toBe(true)
    for (const d of declared) {
      const [node, name] = d.split("/") as [string, string]
      expect((await view(node, name)).length, d).toBeGreaterThan(0)
    }
  })

  it("loader labels: one bar per (source, label), counts = the loaded pairs", async () => {
    const bars = await view("panda", "labels")
    const counted = countBy(await rows("panda"), (r) => `${r["source"]}|${r["label"] ?? "unlabelled"}`)
    expect(Object.fromEntries(bars.map((b) => [`${b["x"]}|${b["color"]}`, b["y"]]))).toEqual(counted)
    expect(sum(bars, "y")).toBe(993)
  })

  it("strength histogram: non-empty bins only; per action, totals = the rows with a strength", async () => {
    const bins = await view("strength", "strength")
    for (const b of bins) {
      expect(b["n"]).toBeGreaterThan(0)
      expect(b["x1"]).toBeGreaterThan(b["x0"])
    }
    const all = [...(await rows("strength")), ...(await rows("strength", "dropped"))]
    const withStrength = all.filter((r) => r["strength"] !== null)
    const perAction: Record<string, number> = {}
    for (const b of bins) perAction[b["color"]] = (perAction[b["color"]] ?? 0) + b["n"]
    expect(perAction).toEqual(countBy(withStrength, (r) => r["strength_action"]))
    // flips and drops are both there: the colours are not decoration
    expect(Object.keys(perAction).sort()).toEqual(["dropped", "flipped", "kept"])
    expect(all.length).toBe(993)
    expect(sum(bins, "n")).toBe(withStrength.length)
  })

  it("mix: agreement cells = the agreement table's accuracy and kappa; position-bias bars = p_prefer_first", async () => {
    const cells = await view("mix", "agreement")
    const table = await rows("mix", "agreement")
    const expected = table.flatMap((r) =>
      (["accuracy", "kappa"] as const).filter((m) => r[m] !== null).map((m) => `${r["rater"]}|${m}|${r[m].toFixed(9)}`)
    )
    expect(cells.map((c) => `${c["x"]}|${c["y"]}|${c["value"].toFixed(9)}`).sort()).toEqual(expected.sort())
    expect(cells.some((c) => c["y"] === "kappa" && c["value"] < 1)).toBe(true)
    const bars = await view("mix", "position-bias")
    expect(bars.map((b) => [b["x"], b["y"]]).sort()).toEqual(
      table
        .filter((r) => r["p_prefer_first"] !== null)
        .map((r) => [r["rater"], r["p_prefer_first"]])
        .sort()
    )
  })

  it("judge.llm position consistency: the fake judge's position bias shows as 2 consistent, 1 inconsistent", async () => {
    const bars = await view("judge", "position-consistency")
    expect(bars.map((b) => [b["x"], b["color"], b["y"]]).sort()).toEqual([
      ["m", "consistent", 2],
      ["m", "inconsistent", 1]
    ])
    expect(countBy(await rows("judge", "judgments"), (r) => String(r["position_consistent"]))).toEqual({
      true: 2,
      false: 1
    })
  })

  it("judge.aggregate length bias: the binned points cover the decisive labels and their share of a", async () => {
    const points = await view("ai", "length-bias")
    const decisive = (await rows("ai")).filter((r) => r["label"] === "a" || r["label"] === "b")
    expect(points.length).toBeGreaterThan(5)
    expect(sum(points, "n")).toBe(decisive.length)
    const shareA = decisive.filter((r) => r["label"] === "a").length / decisive.length
    expect(points.reduce((s, p) => s + p["y"] * p["n"], 0) / sum(points, "n")).toBeCloseTo(shareA, 9)
    // the ensemble includes prefer-longer: where a is much longer, a wins more often than where b is
    expect(points.at(-1)!["y"]).toBeGreaterThan(points[0]!["y"])
  })

  it("evaluate: kappa cells, bias bars with CIs, accuracy and win-rate bars = the metrics rows", async () => {
    const kappa = await view("agree", "kappa")
    const metrics = await rows("agree")
    const k = metrics.filter((r) => r["metric"] === "kappa" && r["value"] !== null)
    expect(kappa.length).toBe(k.length)
    for (const c of kappa) {
      const [by, slice] = c["y"] === "(all)" ? ["(all)", "(all)"] : (c["y"] as string).split(" = ")
      const m = k.find((r) => r["rater"] === c["x"] && r["slice_by"] === by && (by === "(all)" || r["slice"] === slice))
      expect(m?.["value"], JSON.stringify(c)).toBe(c["value"])
    }
    for (const [name, metric] of [
      ["length-bias", "p_prefer_longer"],
      ["position-bias", "p_prefer_first"]
    ] as const) {
      const bars = await view("agree", name)
      const m = byKey(
        metrics.filter((r) => r["metric"] === metric && r["slice_by"] === "(all)"),
        "rater"
      )
      for (const b of bars)
        expect([b["y"], b["lo"], b["hi"]]).toEqual([m[b["x"]]!["value"], m[b["x"]]!["ci_lo"], m[b["x"]]!["ci_hi"]])
      expect(bars.length).toBe(Object.values(m).filter((r) => r["value"] !== null).length)
    }
    // prefer-longer prefers the longer response whenever lengths differ
    expect((await view("agree", "length-bias")).find((b) => b["x"] === "heuristic:prefer-longer")?.["y"]).toBe(1)

    const acc = await view("accuracy", "accuracy")
    const am = (await rows("accuracy")).filter((r) => r["metric"] === "accuracy")
    expect(acc.length).toBe(am.length)
    const all = acc.find((b) => b["x"] === "(all)")!
    const amAll = am.find((r) => r["slice_by"] === "(all)")!
    expect([all["y"], all["lo"], all["hi"]]).toEqual([amAll["value"], amAll["ci_lo"], amAll["ci_hi"]])
    expect(all["lo"]).toBeLessThanOrEqual(all["y"])
    expect(all["hi"]).toBeGreaterThanOrEqual(all["y"])

    const wr = await view("leaderboard", "win-rate")
    const pm = (await rows("leaderboard")).filter((r) => r["slice_by"] === "(all)")
    expect(wr.length).toBe(pm.length)
    const m = byKey(pm, "model")
    for (const b of wr) {
      expect(b["y"]).toBe(m[b["x"]]!["win_rate"])
      expect(b["hi"] - b["lo"]).toBeCloseTo(2 * m[b["x"]]!["standard_error"], 9)
    }
  })

  it("training curves: train and validation loss and accuracy per epoch; the reliability points = the bins", async () => {
    const history = (await rows("rm", "history")).sort((a, b) => a["epoch"] - b["epoch"])
    expect(history.length).toBe(3)
    for (const m of ["loss", "accuracy"] as const) {
      const points = await view("rm", m)
      expect(points.map((p) => [p["x"], p["color"], p["y"]])).toEqual(
        history.flatMap((h) => [
          [Number(h["epoch"]), "train", h[m]],
          [Number(h["epoch"]), "validation", h[`val_${m}`]]
        ])
      )
    }
    const rel = await view("calibration", "reliability")
    const bins = (await rows("calibration", "bins"))
      .filter((b) => b["slice_by"] === "(all)" && b["n"] > 0)
      .sort((a, b) => a["mean_pred"] - b["mean_pred"])
    expect(rel.map((p) => [p["x"], p["y"]])).toEqual(bins.map((b) => [b["mean_pred"], b["observed"]]))
    expect(rel.length).toBeGreaterThan(2)
  })

  it("a model table's page: its 16 MiB weight blob as its size, small tensors as hex", async () => {
    const model = await rows("rm", "model")
    const byTensor = Object.fromEntries(model.map((r) => [r["tensor"], r["data"]]))
    // 2^18 × 16 float32: sent as bytes it made a 16 MiB page
    expect(byTensor["emb"]).toBe("<blob of 16,777,216 bytes>")
    // b2: one float32, 8 hex digits; b1: 16 of them
    // lower-case, as `wb show` and `wb sql` print them
    expect(byTensor["b2"]).toMatch(/^[0-9a-f]{8}$/)
    expect(byTensor["b1"]).toMatch(/^[0-9a-f]{128}$/)
    // the page shows blobs as text, so its cursor could not page by one: sorting by a blob is refused
    const sorted = await post(`${P}/nodes/rm/tables/model/rows?limit=2&sort=data`, undefined)
    expect(sorted.status).toBe(400)
    expect(await sorted.json()).toMatchObject({ where: "sort", found: '"data" (a blob column)' })
  })
})
