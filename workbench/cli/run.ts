/** `wb run <file>`: validate, run with live progress, print a summary; exit 1 if a node failed. */
import { Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { checkSelection, runGraph } from "../core/runner.js"
import { DataError } from "../core/errors.js"
import type { RunEvent } from "../core/events.js"
import type { RunReport } from "../core/report.js"
import { workbenchLayer } from "../io/live.js"
import { errorData } from "../protocol/errors.js"
import { encodeRunEventLine } from "../protocol/events.js"
import { CliExit, reportErrors } from "./exit.js"
import { openPipeline } from "../io/catalog/pipeline-context.js"
import { checkSample, sampleFlag, sampleNote, sampleWorkspace } from "./sample.js"
import { setFlag, workspaceFlag } from "./args.js"
import { RunView, type ViewOutput } from "./render-run.js"
import { runJson, summaryLines } from "./render-summary.js"

const streamOutput = (stream: NodeJS.WriteStream): ViewOutput => ({
  write: (text) => void stream.write(text),
  isTTY: stream.isTTY === true,
  get columns() {
    return stream.columns
  }
})

export const runCommand = Command.make(
  "run",
  {
    file: Argument.String("file").pipe(Argument.withDescription("Pipeline file (.ts or .yaml)")),
    only: Flag.String("only").pipe(Flag.withDescription("Run only this node and what it needs"), Flag.optional),
    from: Flag.String("from").pipe(
      Flag.withDescription("Re-run this node even if cached; below it, nodes re-run where what they read changed"),
      Flag.optional
    ),
    force: Flag.Boolean("force").pipe(
      Flag.withDescription("Ignore the cache: re-run every selected node"),
      Flag.withDefault(false)
    ),
    verify: Flag.Boolean("verify").pipe(
      Flag.withDescription(
        "Check the content hash of every cached artifact (sizes are always checked); recompute what is damaged"
      ),
      Flag.withDefault(false)
    ),
    retryFailed: Flag.Boolean("retry-failed").pipe(
      Flag.withDescription(
        "Run again the nodes whose cached result reports retryable failures (a judge's failed requests); answered requests come from the response cache"
      ),
      Flag.withDefault(false)
    ),
    json: Flag.Boolean("json").pipe(
      Flag.withDescription("Print the run report as JSON on stdout (progress goes to stderr)"),
      Flag.withDefault(false)
    ),
    events: Flag.Boolean("events").pipe(
      Flag.withDescription("Print every run event as one JSON line on stdout (NDJSON; progress goes to stderr)"),
      Flag.withDefault(false)
    ),
    concurrency: Flag.Int("concurrency").pipe(
      Flag.withDescription("How many nodes may run at once (1 or more)"),
      Flag.withDefault(2)
    ),
    set: setFlag,
    sample: sampleFlag(
      "Dry run: the first N records of each source, in a workspace of its own (<workspace>/sample-N/)"
    ),
    workspace: workspaceFlag
  },
  (args) =>
    Effect.gen(function* () {
      if (args.json && args.events) {
        return yield* new DataError({
          where: "wb run --json --events",
          found: "both flags, and each prints on stdout",
          expected:
            "one of them: --json for the final report, --events for the event stream (its last event carries the report)",
          fix: "drop one of the two flags"
        })
      }
      if (args.concurrency < 1) {
        return yield* new DataError({
          where: "wb run --concurrency",
          found: String(args.concurrency),
          expected: "how many nodes may run at once: a whole number, 1 or more",
          fix: "pass --concurrency 1 to run one node at a time, or leave the flag out (2)"
        })
      }
      const sample = yield* checkSample(args.sample, "wb run")
      // services: checked here when no layer is needed, else by the runner once wb.config.ts's layer is built
      const ctx = yield* openPipeline(args.file, sampleWorkspace(args.workspace, sample), {
        services: "defer",
        set: args.set
      })
      // saved edits from `wb serve` change what runs: never silently
      if (ctx.overrides !== undefined)
        process.stderr.write(
          `overrides active (${ctx.overrides.file}): ${ctx.overrides.set.join(", ")} · delete the file to drop them\n`
        )
      const options = {
        only: Option.getOrUndefined(args.only),
        from: Option.getOrUndefined(args.from),
        force: args.force,
        verify: args.verify,
        retryFailed: args.retryFailed,
        concurrency: args.concurrency,
        file: args.file,
        ...(sample === undefined ? {} : { sample })
      }
      yield* checkSelection(ctx.graph, options) // before the workspace is opened: a typo creates nothing
      const scripted = args.json || args.events
      const label =
        sample === undefined ? ctx.label : `${ctx.label} · sample: the first ${sample} records of each source`
      const view = new RunView(streamOutput(scripted ? process.stderr : process.stdout), label)
      const print = (report: RunReport) => {
        // with --events the report already went out as the RunFinished event
        if (args.events) return
        if (args.json) return void process.stdout.write(`${JSON.stringify(runJson(report))}\n`)
        const lines = summaryLines(report, ctx.graph, args.file, ctx.projectRoot)
        // a sample run's hints read its own artifacts
        const hinted =
          sample === undefined
            ? lines
            : lines.map((l) => (/^ {2}wb (show|sql) /.test(l) ? `${l} --sample ${sample}` : l))
        process.stdout.write(
          `${[...hinted, ...(sample === undefined ? [] : [sampleNote(sample, ctx.label, args.file)])].join("\n")}\n`
        )
      }
      // on Ctrl-C the runner still reports what finished, what was cut short and what never started
      let interrupted: RunReport | undefined
      const onEvent = (event: RunEvent) => {
        if (event._tag === "RunFinished" && event.report.status === "interrupted") interrupted = event.report
        if (args.events) process.stdout.write(`${encodeRunEventLine(event)}\n`)
        view.onEvent(event)
      }
      const report = yield* runGraph(ctx.graph, options).pipe(
        Effect.provide(ctx.layer),
        Effect.provide(workbenchLayer({ root: ctx.root, dir: ctx.dir, onEvent })),
        Effect.onInterrupt(() =>
          Effect.sync(() => {
            view.stop()
            if (interrupted !== undefined) print(interrupted)
            process.stderr.write(
              `interrupted · finished nodes are kept in ${ctx.label}; run the same command again to resume\n`
            )
          })
        ),
        Effect.ensuring(Effect.sync(() => view.stop()))
      )
      print(report)
      if (report.status !== "ok") return yield* new CliExit({ code: 1 })
    }).pipe(
      // scripts read --json's stdout: a run refused before it starts (or stopped by an error no node reports) is a report too, status "error"
      Effect.tapError((e) =>
        args.json && !args.events && !(e instanceof CliExit)
          ? Effect.sync(() =>
              process.stdout.write(
                `${JSON.stringify({ file: args.file, status: "error", nodes: [], failure: errorData(e) })}\n`
              )
            )
          : Effect.void
      ),
      reportErrors
    )
).pipe(Command.withDescription("Run a pipeline: only what changed, with live progress and a summary"))
