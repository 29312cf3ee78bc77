/**
 * Bugs, kept apart from errors users can act on (style.md §5): a defect (a thrown TypeError, a broken
 * contract function, a `die`) is logged with its full trace under a short id, and users see only
 * `internal error <id>` and where the trace is. Core builds the data; io writes the log file.
 */
import { Cause, Context, Effect } from "effect"
import type { InternalErrorData } from "../protocol/errors.js"

/** Where traces go: `<workspace>/logs/<id>.log` in the real workbench. */
export class DefectLog extends Context.Service<
  DefectLog,
  {
    /**
     * Write `trace` with `context` (what was running) under a new id. Returns the id and the log's
     * path as a user should read it. Never fails: a log that cannot be written says so in `log`.
     */
    readonly record: (entry: { readonly context: string; readonly trace: string }) => Effect.Effect<{
      readonly id: string
      readonly log: string
    }>
  }
>()("wb/DefectLog") {}

/** A defect's own first line, without the stack: "TypeError: Cannot read properties of undefined". */
export function defectMessage(defect: unknown): string {
  if (defect instanceof Error) {
    const first = defect.message.split("\n")[0] ?? ""
    return defect.name === "Error" || defect.name === "" ? first : `${defect.name}: ${first}`
  }
  const text =
    typeof defect === "string"
      ? defect
      : (() => {
          try {
            return JSON.stringify(defect) ?? String(defect)
          } catch {
            return String(defect)
          }
        })()
  return text.split("\n")[0] ?? text
}

/**
 * The trace of a cause for the log: every failure and defect with Effect's spans, then the defect's
 * own JavaScript stack, whose frames Effect's rendering trims.
 */
export function causeTrace(cause: Cause.Cause<unknown>): string {
  const defect = Cause.squash(cause)
  const stack = defect instanceof Error ? defect.stack : undefined
  return stack === undefined ? Cause.pretty(cause) : `${Cause.pretty(cause)}\n\nJavaScript stack:\n${stack}`
}

/** Log a defect and return it as data (what reports, `--json` and `--events` carry). */
export const recordDefect = (cause: Cause.Cause<unknown>, context: string) =>
  Effect.gen(function* () {
    const log = yield* DefectLog
    const trace = causeTrace(cause)
    const written = yield* log.record({ context, trace })
    const error: InternalErrorData = {
      _tag: "InternalError",
      id: written.id,
      message: defectMessage(Cause.squash(cause)),
      log: written.log
    }
    return { error, trace }
  })

/** How an internal error reads: the id and message first, then where the trace is and what to do. */
export const internalErrorText = (e: InternalErrorData, culprit: string, alsoIn?: string): string =>
  `internal error ${e.id}: ${e.message}\n` +
  `  this is a bug in ${culprit}, not a problem with your data or pipeline\n` +
  `  the full trace is in ${e.log}${alsoIn === undefined ? "" : ` and in ${alsoIn}`}\n` +
  `  fix: report it with that file; re-running will not help until the code is fixed`
