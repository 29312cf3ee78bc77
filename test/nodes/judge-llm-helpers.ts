/**
 * Run `judge.llm` in a real pipeline (load.table -> judge -> a SQL node below it) with the live LLM
 * layer against the fault-injecting fake OpenAI server, and read back what it wrote.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { judge } from "../../nodes/judge/index.js"
import { load } from "../../nodes/load/index.js"
import { transform } from "../../nodes/transform/index.js"
import type { RunEvent } from "../../workbench/core/events.js"
import { pipeline } from "../../workbench/core/pipeline.js"
import { LlmLive } from "../../workbench/io/llm/live.js"
import { runPipeline } from "../../workbench/run-pipeline.js"
import type { FakeRequest } from "../support/fake-openai.js"
import { fastTuning } from "../support/llm-client.js"
import { readParquet } from "../support/sql.js"

export type Row = Record<string, unknown>

/** Pairs whose texts tell the fake judge what to say (see `fakeJudge`). */
export const PAIRS = [
  { prompt: "p1: capital of France?", response_a: "GOOD Paris.", response_b: "Lyon." },
  { prompt: "p2: 2+2?", response_a: "5.", response_b: "GOOD 4." },
  { prompt: "p3: a colour?", response_a: "Red.", response_b: "Blue." }
]

/** A temporary project root holding pairs.jsonl. */
export function project(pairs: ReadonlyArray<Row> = PAIRS): string {
  const root = mkdtempSync(join(tmpdir(), "wb-judge-"))
  writeFileSync(join(root, "pairs.jsonl"), pairs.map((p) => JSON.stringify(p)).join("\n") + "\n")
  writeFileSync(join(root, "package.json"), "{}\n")
  return root
}

/** The two outputs a judge prompt shows, in order (our built-in pairwise template). */
export function shown(prompt: string): [string, string] {
  const m = /## Output 1\n\n([\s\S]*?)\n\n## Output 2\n\n([\s\S]*?)\n/.exec(prompt)
  if (m === null) throw new Error(`not a pairwise judge prompt: ${prompt.slice(0, 200)}`)
  return [m[1]!, m[2]!]
}

/**
 * A judge with a position bias: it prefers the output starting with GOOD; when neither does, the one
 * shown first. An output containing UNSURE gets an answer that is no verdict.
 */
export function fakeJudge(request: FakeRequest): string {
  const [one, two] = shown(request.prompt)
  if (one.includes("UNSURE") || two.includes("UNSURE")) return "I cannot decide between them."
  return two.startsWith("GOOD") && !one.startsWith("GOOD") ? "2" : "1"
}

/**
 * The pipeline: pairs -> judge (params given) -> count, a SQL node over the judge's votes (to see
 * the downstream follow the judge by cache keys).
 */
export const judgePipeline = (spec: ReturnType<typeof judge.llm>) =>
  pipeline("judge-test", (p) => {
    const pairs = p.node("pairs", load.table({ path: "pairs.jsonl", source: "t" }))
    const judged = p.node("judge", spec, { pairs })
    p.node("count", transform.sql({ sql: "select vote, count(*) as n from votes group by vote order by vote" }), {
      votes: judged.votes
    })
  })

export interface JudgeRun {
  readonly status: string
  readonly judge: { readonly status: string; readonly stats: Readonly<Record<string, number | string>> }
  readonly count: string
  readonly tables: (name: string) => Promise<Array<Row>>
  /** The Parquet file of one of the judge's output tables. */
  readonly file: (name: string) => string
  readonly events: ReadonlyArray<RunEvent>
  readonly error: string | undefined
}

/** What a test may pass on to runPipeline: --retry-failed, --force, --from. */
export type RunFlags = { readonly retryFailed?: boolean; readonly force?: boolean; readonly from?: string }

export const runJudge = (
  root: string,
  params: Parameters<typeof judge.llm>[0],
  options: RunFlags = {}
): Promise<JudgeRun> => runSpec(root, judge.llm(params), options)

/** Run the pipeline with any judge node (judge.llm, judge.gguf). */
export async function runSpec(
  root: string,
  spec: ReturnType<typeof judge.llm>,
  options: RunFlags = {}
): Promise<JudgeRun> {
  const events: Array<RunEvent> = []
  const result = await runPipeline(judgePipeline(spec), {
    root,
    threads: 1,
    onEvent: (e) => events.push(e),
    // the live LLM layer with short backoffs, on the run's own workspace
    layer: LlmLive(join(root, ".wb"), fastTuning),
    ...options
  })
  const node = (name: string) => result.report.nodes.find((n) => n.name === name)!
  return {
    status: result.report.status,
    judge: { status: node("judge").status, stats: node("judge").stats ?? {} },
    count: node("count").status,
    tables: async (name) => [...(await readParquet(result.nodes.judge!.tables[name]!))],
    file: (name) => result.nodes.judge!.tables[name]!,
    events,
    error: node("judge").error
  }
}

/** Every file under `dir`, recursively. */
export function filesUnder(dir: string): Array<string> {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? filesUnder(path) : [path]
  })
}

/** The files under `dir` whose bytes contain `text`. */
export const filesContaining = (dir: string, text: string) =>
  filesUnder(dir).filter((f) => readFileSync(f).includes(Buffer.from(text)))

/** A row's meta as an object. */
export const metaOf = (row: Row): Row => JSON.parse(String(row.meta)) as Row

/** Rows keyed by their prompt's "pN" tag and order: "p1 ab". */
export const byPair = (rows: ReadonlyArray<Row>, pairIds: ReadonlyMap<string, string>) =>
  new Map(rows.map((r) => [`${pairIds.get(String(r.pair_id))}${r.order === undefined ? "" : ` ${r.order}`}`, r]))
