/** `wb run <file>`: validate, run with live progress, print a summary; exit 1 if a node failed. */
import { Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { checkSelection, runGraph } from "../core/runner.js"
import type { RunEvent } from "../core/events.js"
import type { RunReport } from "../core/report.js"
import { workbenchLayer } from "../io/live.js"
import { CliExit, reportErrors } from "./exit.js"
import { openPipeline, workspaceFlag } from "./pipeline-context.js"
import { RunView, type ViewOutput } from "./render-run.js"
import { runJson, summaryLines } from "./render-summary.js"

const streamOutput = (stream: NodeJS.WriteStream): ViewOutput => ({
  write: (text) => void stream.write(text),
  isTTY: stream.isTTY === true,
  get columns() {
    return stream.columns
  }
})

export const runCommand = Command.make("run", {
  file: Argument.String("file").pipe(Argument.withDescription("Pipeline file (.ts or .yaml)")),
  only: Flag.String("only").pipe(Flag.withDescription("Run only this node and what it needs"), Flag.optional),
  from: Flag.String("from").pipe(Flag.withDescription("Re-run this node and everything downstream, even if cached"), Flag.optional),
  force: Flag.Boolean("force").pipe(Flag.withDescription("Ignore the cache: re-run every selected node"), Flag.withDefault(false)),
  json: Flag.Boolean("json").pipe(Flag.withDescription("Print the run report as JSON on stdout (progress goes to stderr)"), Flag.withDefault(false)),
  concurrency: Flag.Int("concurrency").pipe(Flag.withDescription("How many nodes may run at once"), Flag.withDefault(2)),
  workspace: workspaceFlag
}, (args) =>
  Effect.gen(function*() {
    const ctx = yield* openPipeline(args.file, args.workspace)
    const options = {
      only: Option.getOrUndefined(args.only),
      from: Option.getOrUndefined(args.from),
      force: args.force,
      concurrency: Math.max(1, args.concurrency),
      file: args.file
    }
    yield* checkSelection(ctx.graph, options) // before the workspace is opened: a typo creates nothing
    const view = new RunView(streamOutput(args.json ? process.stderr : process.stdout), ctx.label)
    const print = (report: RunReport) =>
      process.stdout.write(args.json ? `${JSON.stringify(runJson(report))}\n` : `${summaryLines(report, ctx.graph, args.file).join("\n")}\n`)
    // on Ctrl-C the runner still reports what finished, what was cut short and what never started
    let interrupted: RunReport | undefined
    const onEvent = (event: RunEvent) => {
      if (event._tag === "RunFinished" && event.report.status === "interrupted") interrupted = event.report
      view.onEvent(event)
    }
    const report = yield* runGraph(ctx.graph, options).pipe(
      Effect.provide(workbenchLayer({ root: ctx.root, dir: ctx.dir, onEvent })),
      Effect.onInterrupt(() => Effect.sync(() => {
        view.stop()
        if (interrupted !== undefined) print(interrupted)
        process.stderr.write(`interrupted · finished nodes are kept in ${ctx.label}; run the same command again to resume\n`)
      })),
      Effect.ensuring(Effect.sync(() => view.stop()))
    )
    print(report)
    if (report.status !== "ok") return yield* new CliExit({ code: 1 })
  }).pipe(reportErrors)
).pipe(Command.withDescription("Run a pipeline: only what changed, with live progress and a summary"))
