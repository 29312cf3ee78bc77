/** `wb show <file> <node>`: rows of one of a node's tables, from its cached artifact, via the read-only sandbox. */
import { Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { didYouMean } from "../core/did-you-mean.js"
import { DataError } from "../core/errors.js"
import { openSandbox } from "../io/sandbox-sql.js"
import { cacheStates, mainTable, tableFile } from "./artifacts.js"
import { reportErrors } from "./exit.js"
import { count } from "./format.js"
import { openPipeline, shellArg, workspaceFlag } from "./pipeline-context.js"
import { rowsTable } from "./render-rows.js"
import { join } from "node:path"

export const showCommand = Command.make("show", {
  file: Argument.String("file").pipe(Argument.withDescription("Pipeline file (.ts or .yaml)")),
  node: Argument.String("node").pipe(Argument.withDescription("Node whose table to print")),
  table: Flag.String("table").pipe(Flag.withDescription("Which of the node's tables (default: its main table)"), Flag.optional),
  limit: Flag.Int("limit").pipe(Flag.withDescription("How many rows to print"), Flag.withDefault(20)),
  where: Flag.String("where").pipe(Flag.withDescription("SQL condition on the rows, e.g. \"n > 10\""), Flag.optional),
  workspace: workspaceFlag
}, (args) =>
  Effect.gen(function*() {
    const ctx = yield* openPipeline(args.file, args.workspace)
    const names = ctx.graph.nodes.map((n) => n.name)
    const state = cacheStates(ctx.graph, ctx.root, ctx.dir).find((s) => s.node.name === args.node)
    if (state === undefined) {
      return yield* new DataError({
        where: `wb show ${args.node}`,
        found: `pipeline "${ctx.graph.name}" has no node "${args.node}"`,
        expected: `one of: ${names.join(", ")}`,
        fix: didYouMean(args.node, names) || `pick a node from \`wb ls ${shellArg(args.file)}\``
      })
    }
    if (state.state._tag !== "Cached") {
      return yield* new DataError({
        where: `node "${args.node}" (${state.node.definition.kind})`,
        found: state.state._tag === "NotRun"
          ? "it has not run yet, so there is no table to show"
          : "its last artifact is stale: its params or inputs changed since it ran",
        expected: "an artifact for the node's current params and inputs",
        fix: `run it first: wb run ${shellArg(args.file)} --only ${args.node}`
      })
    }
    const manifest = state.state.manifest
    const tables = Object.keys(manifest.tables)
    const tableName = Option.getOrUndefined(args.table) ?? mainTable(manifest)
    if (tableName === undefined || !tables.includes(tableName)) {
      return yield* new DataError({
        where: `node "${args.node}" (${state.node.definition.kind})`,
        found: `no table "${tableName}"`,
        expected: `one of its tables: ${tables.join(", ")}`,
        fix: didYouMean(tableName ?? "", tables) || `use --table ${tables[0]}`
      })
    }
    const view = `${args.node}.${tableName}`
    const where = Option.match(args.where, { onNone: () => "", onSome: (w) => ` WHERE (${w})` })
    const limit = Math.max(0, args.limit)
    const lines = yield* Effect.scoped(Effect.gen(function*() {
      const sandbox = yield* openSandbox({
        directory: join(ctx.dir, "artifacts"),
        tables: [{ name: view, file: tableFile(ctx.dir, manifest, tableName) }]
      })
      const total = yield* sandbox.query(`SELECT count(*) AS n FROM "${view}"${where}`, { label: "wb show --where" })
      const rows = yield* sandbox.query(`SELECT * FROM "${view}"${where} LIMIT ${limit}`, { maxRows: limit, label: "wb show --where" })
      const matching = Number(total.rows[0]?.[0] ?? 0)
      const of = Option.isSome(args.where) ? `${count(matching)} matching of ${count(manifest.tables[tableName]!.rows)}` : count(matching)
      return [`${view} · ${of} rows · showing ${count(rows.rows.length)}`, ...rowsTable(rows)]
    }))
    yield* Console.log(lines.join("\n"))
  }).pipe(reportErrors)
).pipe(Command.withDescription("Print rows of a node's table from its cached artifact"))
