/**
 * `wb serve [dir] [--port P] [--host H]`: the browser workbench over the project in `dir` (default the
 * current directory). Prints the URL with its token; runs until Ctrl-C. Other hosts than 127.0.0.1 only
 * when asked, with a warning: anyone who can reach the port and has the token can run the pipelines.
 */
import { Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { resolve } from "node:path"
import { DataError } from "../core/errors.js"
import { startServer } from "../server/server.js"
import { workspaceFlag } from "./args.js"
import { reportErrors } from "./exit.js"

export const serveCommand = Command.make(
  "serve",
  {
    dir: Argument.String("dir").pipe(
      Argument.withDescription("Project folder (default: the current one)"),
      Argument.optional
    ),
    port: Flag.Int("port").pipe(Flag.withDescription("Port (default: a free one)"), Flag.withDefault(0)),
    host: Flag.String("host").pipe(
      Flag.withDescription(
        "Interface to listen on (default 127.0.0.1; anything else is reachable from other machines)"
      ),
      Flag.withDefault("127.0.0.1")
    ),
    workspace: workspaceFlag
  },
  (args) =>
    Effect.gen(function* () {
      if (args.port < 0 || args.port > 65535) {
        return yield* new DataError({
          where: "wb serve --port",
          found: String(args.port),
          expected: "a port from 1 to 65535, or 0 for a free one",
          fix: "pass --port 8787, or leave the flag out"
        })
      }
      const root = resolve(Option.getOrElse(args.dir, () => "."))
      if (args.host !== "127.0.0.1" && args.host !== "localhost" && args.host !== "::1") {
        process.stderr.write(
          `warning: listening on ${args.host}: other machines that reach this port can use the workbench with the token (run pipelines, read every artifact). Use the default 127.0.0.1 unless you mean it.\n`
        )
      }
      const server = yield* Effect.tryPromise({
        try: () => startServer({ root, port: args.port, host: args.host, workspace: args.workspace }),
        catch: (e) => e
      }).pipe(
        // a DataError (the labels store locked by another wb serve) is the user's to read; anything else is a bug
        Effect.catch((e) => (e instanceof DataError ? Effect.fail(e) : Effect.die(e)))
      )
      process.stdout.write(`wb serve · ${root}\n  open ${server.url}\n  (Ctrl-C to stop)\n`)
      yield* Effect.addFinalizer(() => Effect.promise(() => server.close()))
      return yield* Effect.never
    }).pipe(Effect.scoped, reportErrors)
).pipe(Command.withDescription("Serve the browser workbench for a project (127.0.0.1, token in the printed URL)"))
