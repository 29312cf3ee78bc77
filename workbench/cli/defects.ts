/**
 * The last line of defence: whatever bug escapes a command (a defect: a thrown TypeError, a contract
 * function that throws while `wb validate` builds the graph) is logged with its full trace under
 * `<workspace>/logs/<id>.log`, and the user sees `internal error <id>`, the defect's one-line message
 * and where the trace is — never a stack.
 */
import { Cause, Console, Effect } from "effect"
import { existsSync } from "node:fs"
import { resolve } from "node:path"
import { causeTrace, defectMessage, internalErrorText } from "../core/defects.js"
import { writeDefectLog } from "../io/defect-log.js"
import { findProjectRoot } from "../io/project-root.js"
import { CliExit } from "./exit.js"

const CULPRIT = "wb or in a node kind it loaded"

/** The workspace the command line names (`--workspace DIR` / `--workspace=DIR`), else $WB_WORKSPACE or `.wb` in the pipeline's project root. */
export function workspaceFromArgs(args: ReadonlyArray<string>, cwd: string = process.cwd()): string {
  let workspace = process.env["WB_WORKSPACE"] || ".wb"
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (a === "--workspace" && args[i + 1] !== undefined) workspace = args[i + 1]!
    if (a.startsWith("--workspace=")) workspace = a.slice("--workspace=".length)
  }
  // like the commands: a relative workspace lives in the project root of the pipeline file named
  const file = args.find((a) => /\.(ts|mts|js|mjs|ya?ml)$/.test(a) && existsSync(resolve(cwd, a)))
  return resolve(file === undefined ? cwd : findProjectRoot(file, cwd).dir, workspace)
}

/** Log a defect and say so on stderr in the house form; returns the text printed. */
export function reportDefect(args: ReadonlyArray<string>, trace: string, defect: unknown): string {
  const { id, log } = writeDefectLog(workspaceFromArgs(args), {
    context: `wb ${args.join(" ")} (in ${process.cwd()})`,
    trace
  })
  return internalErrorText({ _tag: "InternalError", id, message: defectMessage(defect), log }, CULPRIT)
}

/**
 * Wrap the whole command line: a cause holding a defect becomes an id'd internal error (exit 1);
 * failures (already reported by the command) and interruptions (Ctrl-C) pass through untouched.
 */
export const reportDefects =
  (args: ReadonlyArray<string>) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | CliExit, R> =>
    Effect.catchCause(effect, (cause): Effect.Effect<never, E | CliExit> => {
      if (!Cause.hasDies(cause)) return Effect.failCause(cause)
      const text = reportDefect(args, causeTrace(cause), Cause.squash(cause))
      return Console.error(`wb: ${text}`).pipe(Effect.andThen(Effect.fail(new CliExit({ code: 1 }))))
    })

/**
 * Errors thrown outside any Effect (a timer callback, a stream handler): the same treatment, then exit 1,
 * as Node would have, but without printing the stack.
 */
export function installProcessDefectHandlers(args: ReadonlyArray<string>): void {
  const handle = (e: unknown) => {
    const trace = e instanceof Error ? (e.stack ?? String(e)) : String(e)
    process.stderr.write(`wb: ${reportDefect(args, trace, e)}\n`)
    process.exit(1)
  }
  // `wb … | head`: the reader closed the pipe, so the next write fails with EPIPE. Not a bug: stop
  // quietly as Unix tools do, with the status a shell shows for a process SIGPIPE killed (128 + 13).
  // Artifacts are published atomically, so a run cut short here is resumed like a killed one.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EPIPE") process.exit(141)
      handle(e)
    })
  }
  process.on("uncaughtException", handle)
  process.on("unhandledRejection", handle)
}
