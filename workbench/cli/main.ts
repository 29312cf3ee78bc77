/** The `wb` command line: run, inspect and query preference-data pipelines. */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Effect } from "effect"
import { Command } from "effect/cli"
import { lsCommand } from "./ls.js"
import { nodesCommand } from "./nodes.js"
import { runCommand } from "./run.js"
import { showCommand } from "./show.js"
import { sqlCommand } from "./sql.js"
import { validateCommand } from "./validate.js"

const wb = Command.make("wb").pipe(
  Command.withDescription("Preference Workbench: typed, cached dataflow pipelines for preference data"),
  Command.withSubcommands([runCommand, validateCommand, lsCommand, showCommand, sqlCommand, nodesCommand])
)

/**
 * Run the command line on `process.argv`. A function, not a side effect of importing: `bin/wb.js`
 * loads this module first and installs its module hooks (TypeScript, the prebuilt bundle) before
 * anything imports a pipeline file.
 */
export const main = (): void =>
  wb.pipe(
    Command.run({ version: "0.1.0" }),
    Effect.provide(NodeServices.layer),
    NodeRuntime.runMain
  )
