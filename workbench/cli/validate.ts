/**
 * `wb validate <file>`: build and check the graph without running anything; for a TypeScript pipeline,
 * also type-check it with the project's TypeScript (esbuild, which loads it, strips types unchecked),
 * or say plainly that its types were not checked.
 */
import { Console, Effect } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { extname, resolve } from "node:path"
import { DataError } from "../core/errors.js"
import { inferSchemas } from "../core/infer.js"
import { openPipeline } from "../io/catalog/pipeline-context.js"
import { SchemaProbeLive } from "../io/schema-probe.js"
import { typeCheck } from "../io/typecheck.js"
import { setFlag } from "./args.js"
import { reportErrors } from "./exit.js"

const TYPESCRIPT = [".ts", ".mts", ".cts", ".tsx"]

export const validateCommand = Command.make(
  "validate",
  {
    file: Argument.String("file").pipe(Argument.withDescription("Pipeline file (.ts or .yaml)")),
    set: setFlag,
    skipTypes: Flag.Boolean("skip-types").pipe(
      Flag.withDescription("Do not type-check a TypeScript pipeline (graph checks only)"),
      Flag.withDefault(false)
    )
  },
  ({ file, set, skipTypes }) =>
    Effect.gen(function* () {
      // "check": wb.config.ts's layer is built, so a node whose service it lacks is reported here
      const { graph, projectRoot } = yield* openPipeline(file, ".wb", { services: "check", set })
      // SQL transforms, filters and splits check their params against the upstream columns (core/infer.ts):
      // the probe, a small DuckDB with no file access, opens only when one of them asks
      const { notes } = yield* inferSchemas(graph).pipe(Effect.provide(SchemaProbeLive))
      const say = (line: string) =>
        Console.log(
          [line, ...notes.map((note) => `  note: node "${note.node}" (${note.kind}): ${note.text}`)].join("\n")
        )
      const n = graph.nodes.length
      const valid = `pipeline ${graph.name} is valid · ${n} node${n === 1 ? "" : "s"}`
      if (!TYPESCRIPT.includes(extname(file).toLowerCase())) return yield* say(valid)
      if (skipTypes) return yield* say(`${valid} · types not checked (--skip-types)`)
      const checked = typeCheck(resolve(file), projectRoot.dir)
      switch (checked._tag) {
        case "Checked":
          return yield* say(`${valid} · types checked (${checked.tool})`)
        case "NotChecked":
          return yield* say(`${valid} · types not checked: ${checked.why}`)
        case "TypeErrors": {
          const count = checked.errors.filter((e) => / TS\d+ /.test(e)).length
          return yield* new DataError({
            where: `pipeline file ${file}`,
            found:
              `its graph is valid, but it does not type-check: ${count} type error${count === 1 ? "" : "s"} (${checked.tool})\n` +
              checked.errors.map((e) => `    ${e}`).join("\n"),
            expected:
              "a pipeline whose TypeScript type-checks (wb runs .ts files through esbuild, which does not check types)",
            fix: "correct the code at the positions above; --skip-types checks the graph alone"
          })
        }
      }
    }).pipe(reportErrors)
).pipe(
  Command.withDescription(
    "Check a pipeline (node kinds, params, inputs, columns, cycles, and TypeScript types) without running it"
  )
)
