/**
 * Runs started from the browser: the same `runGraph`, services and run log as `wb run`, in this
 * process, one at a time per server. The run log is opened for the run and closed after it (as by
 * `wb run`), so a terminal's `wb run` works between browser runs, and one that is running makes a
 * browser run fail with the run log's own "another process holds it" message. Events reach the browser
 * through the workspace's event log, like a terminal run's.
 */
import { Deferred, Effect, Exit, Fiber } from "effect"
import { runGraph } from "../core/runner.js"
import type { PipelineContext } from "../io/catalog/pipeline-context.js"
import { workbenchLayer } from "../io/live.js"
import { HttpProblem, problemOf } from "./project.js"

export class RunManager {
  private active: { readonly pipeline: string; readonly fiber: Fiber.Fiber<unknown, unknown> } | undefined

  get current() {
    return this.active?.pipeline
  }

  /** Start a run; resolves with its run id once it started, or fails with why it could not start. */
  start(
    ctx: PipelineContext,
    id: string,
    options: { readonly from?: string | undefined; readonly only?: string | undefined }
  ) {
    const self = this
    return Effect.gen(function* () {
      if (self.active !== undefined) {
        return yield* Effect.fail(
          new HttpProblem(409, {
            error: "busy",
            found: `a run of ${self.active.pipeline} started here is still going`,
            expected: "one run at a time per workspace",
            fix: "wait for it to finish (GET /api/events shows its progress)"
          })
        )
      }
      const started = yield* Deferred.make<string, HttpProblem>()
      const run = runGraph(ctx.graph, { ...options, file: ctx.file, concurrency: 2 }).pipe(
        Effect.provide(ctx.layer),
        Effect.provide(
          workbenchLayer({
            root: ctx.root,
            dir: ctx.dir,
            onEvent: (e) => {
              if (e._tag === "RunStarted") Deferred.doneUnsafe(started, Exit.succeed(e.runId))
            }
          })
        ),
        Effect.tapError((e) =>
          Deferred.fail(started, problemOf(e as { _tag: string; message: string })).pipe(Effect.asVoid)
        ),
        Effect.ensuring(Effect.sync(() => (self.active = undefined)))
      )
      const fiber = Effect.runFork(run)
      self.active = { pipeline: id, fiber }
      // a run that fails before it starts (run log held by a terminal run, a missing service) says so here
      fiber.addObserver((exit) => {
        if (Exit.isFailure(exit))
          Deferred.doneUnsafe(started, Exit.fail(new HttpProblem(500, { error: "run ended before it started" })))
      })
      return yield* Deferred.await(started)
    })
  }

  /** Stop the run in progress (server shutdown). */
  stop() {
    const a = this.active
    return a === undefined ? Effect.void : Fiber.interrupt(a.fiber).pipe(Effect.asVoid)
  }
}
