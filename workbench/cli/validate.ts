/** `wb validate <file>`: build and check the graph without running anything. */
import { Console, Effect } from "effect"
import { Argument, Command } from "effect/cli"
import { reportErrors } from "./exit.js"
import { openPipeline } from "./pipeline-context.js"

export const validateCommand = Command.make("validate", {
  file: Argument.String("file").pipe(Argument.withDescription("Pipeline file (.ts or .yaml)"))
}, ({ file }) =>
  Effect.gen(function*() {
    const { graph } = yield* openPipeline(file, ".wb")
    const n = graph.nodes.length
    yield* Console.log(`pipeline ${graph.name} is valid · ${n} node${n === 1 ? "" : "s"}`)
  }).pipe(reportErrors)
).pipe(Command.withDescription("Check a pipeline (node kinds, params, inputs, columns, cycles) without running it"))
