/** The `wb` command line: run, inspect and query preference-data pipelines. */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Effect } from "effect"
import { Command } from "effect/cli"
import { packageVersion } from "../io/package-root.js"
import { installProcessDefectHandlers, reportDefects } from "./defects.js"
import type { exportCommand } from "./export.js"
import type { gcCommand } from "./gc.js"
import type { llmCommand } from "./llm.js"
import type { lsCommand } from "./ls.js"
import type { nodesCommand } from "./nodes.js"
import type { runCommand } from "./run.js"
import type { serveCommand } from "./serve.js"
import type { showCommand } from "./show.js"
import type { sqlCommand } from "./sql.js"
import type { validateCommand } from "./validate.js"

type WbCommand =
  | typeof runCommand
  | typeof validateCommand
  | typeof lsCommand
  | typeof showCommand
  | typeof sqlCommand
  | typeof exportCommand
  | typeof gcCommand
  | typeof nodesCommand
  | typeof llmCommand
  | typeof serveCommand

/**
 * Each command's module, loaded only when the command runs: `run`, `show` and `sql` bring DuckDB
 * (~0.1 s to load), which `--version`, `validate`, `ls` and `nodes` never need. In the order of `wb --help`.
 */
const COMMANDS: Record<string, () => Promise<WbCommand>> = {
  run: () => import("./run.js").then((m) => m.runCommand),
  validate: () => import("./validate.js").then((m) => m.validateCommand),
  ls: () => import("./ls.js").then((m) => m.lsCommand),
  show: () => import("./show.js").then((m) => m.showCommand),
  sql: () => import("./sql.js").then((m) => m.sqlCommand),
  export: () => import("./export.js").then((m) => m.exportCommand),
  gc: () => import("./gc.js").then((m) => m.gcCommand),
  nodes: () => import("./nodes.js").then((m) => m.nodesCommand),
  llm: () => import("./llm.js").then((m) => m.llmCommand),
  serve: () => import("./serve.js").then((m) => m.serveCommand)
}

let loaded: { readonly args: string; readonly commands: ReadonlyArray<WbCommand> } | undefined

/**
 * Load the commands that `args` (the command line after `wb`) can reach: the one it names, none for
 * a bare `--version`, all of them otherwise (`--help`, a typo: the parser lists them). Resolves to
 * whether any was loaded. `bin/wb.js` calls it before it installs its module hooks, so the command's
 * modules skip them; `main` calls it again (a no-op for the same arguments).
 */
export const loadCommands = async (args: ReadonlyArray<string>): Promise<boolean> => {
  const key = JSON.stringify(args)
  if (loaded?.args !== key) {
    const named = args.find((a) => Object.hasOwn(COMMANDS, a))
    const versionOnly = args.length > 0 && args.every((a) => a === "--version" || a === "-v")
    const names = named !== undefined ? [named] : versionOnly ? [] : Object.keys(COMMANDS)
    loaded = { args: key, commands: await Promise.all(names.map((n) => COMMANDS[n]!())) }
  }
  return loaded.commands.length > 0
}

/**
 * Run the command line on `process.argv`. A function, not a side effect of importing: `bin/wb.js`
 * loads this module first and installs its module hooks (TypeScript pipeline files) before anything
 * imports a pipeline file.
 */
export const main = (): void => {
  const args = process.argv.slice(2)
  // users never see a stack: a bug anywhere below becomes `internal error <id>` and a log file
  installProcessDefectHandlers(args)
  Effect.promise(() => loadCommands(args)).pipe(
    Effect.flatMap(() =>
      Command.make("wb").pipe(
        Command.withDescription("Preference Workbench: typed, cached dataflow pipelines for preference data"),
        Command.withSubcommands(loaded!.commands),
        Command.run({ version: packageVersion() })
      )
    ),
    reportDefects(args),
    Effect.provide(NodeServices.layer),
    NodeRuntime.runMain
  )
}
