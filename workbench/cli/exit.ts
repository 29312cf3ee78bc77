/** How commands end: a non-zero exit after the command has printed what went wrong. */
import { Console, Data, Effect, Runtime } from "effect"

/** Exit with `code`; the message was already printed, so the runtime reports nothing more. */
export class CliExit extends Data.TaggedError("CliExit")<{ readonly code: number }> {
  get [Runtime.errorExitCode](): number {
    return this.code
  }
  get [Runtime.errorReported](): boolean {
    return false
  }
}

/** Print a failure's message on stderr (no stack: our errors say where, found, expected, fix) and exit 1. */
export const reportErrors = <A, E extends { readonly message: string }, R>(
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, CliExit, R> =>
  Effect.catch(effect, (e: E) =>
    e instanceof CliExit
      ? Effect.fail(e)
      : Console.error(e.message).pipe(Effect.andThen(Effect.fail(new CliExit({ code: 1 }))))
  )
