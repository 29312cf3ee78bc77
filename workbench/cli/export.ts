/**
 * `wb export <file> <node[.table]> --to PATH [--format F]`: write one table of a node's cached artifact
 * to a file (JSON Lines, JSON, CSV, Parquet), every row, with a data card section in the README.md
 * beside it. It never runs a node (it refuses one that has not run) and changes no artifact. The file is
 * written as the export nodes write theirs (ExportFiles): atomically, recorded in the workspace, and
 * never inside the workspace, over a file no wb export wrote, or over a README.md that is not a data card.
 */
import { Console, Effect } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { basename, dirname, join } from "node:path"
import { type CardCount, cardCountsSql, renderCardSection } from "../core/data-card.js"
import { didYouMean } from "../core/did-you-mean.js"
import { DataError } from "../core/errors.js"
import type { ExportCaller, ExportTarget } from "../core/export-files.js"
import { FORMATS, type FileFormat, formatOf, KNOWN_ENDINGS } from "../core/export-format.js"
import type { Manifest } from "../core/report.js"
import { Database } from "../core/services.js"
import { checkArtifactSync } from "../io/artifact-integrity.js"
import { cacheStates, mainTable, tableFile, waitingFor } from "../io/catalog/artifacts.js"
import { artifactDir } from "../io/parquet-store.js"
import { openPipeline } from "../io/catalog/pipeline-context.js"
import { DuckDbLive } from "../io/duckdb.js"
import { exportFiles } from "../io/export-files.js"
import { lastNodeRun } from "../io/meta-db.js"
import { sqlString } from "../io/sql-text.js"
import { shellArg, workspaceFlag } from "./args.js"
import { reportErrors } from "./exit.js"
import { count } from "./format.js"

/** The node's cached artifact, or a message saying why there is none and how to make it. */
const cachedArtifact = (file: string, workspace: string, node: string) =>
  Effect.gen(function* () {
    const ctx = yield* openPipeline(file, workspace)
    const names = ctx.graph.nodes.map((n) => n.name)
    const states = cacheStates(ctx.graph, ctx.root, ctx.dir)
    const state = states.find((s) => s.node.name === node)
    if (state === undefined) {
      return yield* new DataError({
        where: `wb export ${node}`,
        found: `pipeline "${ctx.graph.name}" has no node "${node}"`,
        expected: `one of: ${names.join(", ")}`,
        fix: didYouMean(node, names) || `pick a node from \`wb ls ${shellArg(file)}\``
      })
    }
    const kind = state.node.definition.kind
    const run = `wb run ${shellArg(file)} --only ${node}`
    // the cache state checks sizes (and hashes files whose mtime moved); an export is data leaving wb,
    // so bit rot that keeps size and mtime must not leave with it: every file is hashed here
    const checked =
      state.state._tag === "Cached"
        ? checkArtifactSync(artifactDir(ctx.dir, state.state.manifest.key), state.state.manifest, true)
        : undefined
    if (checked?._tag === "Intact") return { ctx, kind, manifest: checked.manifest }
    const problem =
      checked?._tag === "Damaged" ? checked.problem : state.state._tag === "Damaged" ? state.state.problem : undefined
    if (problem !== undefined) {
      return yield* new DataError({
        where: `node "${node}" (${kind}): artifact ${state.key} in ${ctx.dir}`,
        found: `the artifact is damaged, so it is not read: ${problem}`,
        expected: "every file of the artifact with the size and content hash its manifest recorded",
        // a plain run finds what the cache state found; what only hashing finds needs --verify
        fix: `recompute it: ${run}${checked?._tag === "Damaged" ? " --verify" : ""}, then export again`
      })
    }
    const last = state.key === undefined ? undefined : yield* lastNodeRun(ctx.dir, state.key)
    const failed = last?.status === "failed"
    return yield* new DataError({
      where: `node "${node}" (${kind})`,
      found: failed
        ? `its last run (${last.finished}) failed, so there is nothing to export: ${(last.error ?? "unknown error").split("\n")[0]}`
        : state.state._tag === "NotRun"
          ? "it has not run yet, so there is nothing to export (wb export only reads artifacts; it runs nothing)"
          : state.state._tag === "Upstream"
            ? `upstream ${waitingFor(states, state.state.upstream)} must run first, so there is nothing to export yet`
            : "its last artifact is stale: its params or inputs changed since it ran",
      expected: "an artifact for the node's current params and inputs",
      fix: failed
        ? `fix what made it fail (${run} shows the whole error), run it again, then export`
        : `run it first: ${run}`
    })
  })

/**
 * COPY the artifact table to the target through ExportFiles (the guards and the atomic write of the
 * export nodes), and gather the facts the card needs on the same connection.
 */
const writeTable = (
  dir: string,
  parquet: string,
  target: ExportTarget,
  caller: ExportCaller,
  format: FileFormat,
  removedFile: string | undefined
) =>
  Effect.scoped(
    Effect.gen(function* () {
      const sql = yield* (yield* Database).connect
      const source = `read_parquet(${sqlString(parquet)})`
      const written = yield* exportFiles.writeData({ sql, caller, select: `SELECT * FROM ${source}`, target, format })
      const counts = (column: string, from: string) =>
        Effect.gen(function* () {
          if (!(yield* sql.describe(from)).columns.some((c) => c.name === column)) return undefined
          return yield* sql.rows<CardCount>(cardCountsSql(from, column))
        })
      const removedSource = removedFile === undefined ? undefined : `read_parquet(${sqlString(removedFile)})`
      return {
        written,
        labelSources: yield* counts("label_source", source),
        sources: yield* counts("source", source),
        upstreamRemoved: removedSource === undefined ? undefined : yield* counts("reason", removedSource)
      }
    })
  ).pipe(Effect.provide(DuckDbLive({ tempDirectory: join(dir, "tmp"), threads: 2 })))

/** The artifact's table `removed`-role table, if it has one: what the node itself left out. */
const removedTableOf = (m: Manifest) => Object.keys(m.tables).find((t) => m.tables[t]!.role === "removed")

export const exportCommand = Command.make(
  "export",
  {
    file: Argument.String("file").pipe(Argument.withDescription("Pipeline file (.ts or .yaml)")),
    ref: Argument.String("node").pipe(
      Argument.withDescription("Node (its main table) or node.table, e.g. clean or clean.removed")
    ),
    to: Flag.String("to").pipe(
      Flag.withDescription(
        "File to write (relative to the current directory); its folder is created. Refused inside the workspace, " +
          "or where a file exists that no wb export wrote"
      )
    ),
    format: Flag.Literals("format", ["auto", ...FORMATS]).pipe(
      Flag.withDescription(`jsonl, json, csv or parquet (default: from the --to name: ${KNOWN_ENDINGS})`),
      Flag.withDefault("auto" as const)
    ),
    workspace: workspaceFlag
  },
  (args) =>
    Effect.gen(function* () {
      const [node, table] = args.ref.includes(".")
        ? [args.ref.slice(0, args.ref.indexOf(".")), args.ref.slice(args.ref.indexOf(".") + 1)]
        : [args.ref, undefined]
      const { ctx, kind, manifest } = yield* cachedArtifact(args.file, args.workspace, node)
      const tables = Object.keys(manifest.tables)
      const tableName = table ?? mainTable(manifest)
      if (tableName === undefined || !tables.includes(tableName)) {
        return yield* new DataError({
          where: `wb export ${args.ref}`,
          found: `node "${node}" (${kind}) has no table "${tableName}"`,
          expected: `one of its tables: ${tables.join(", ")}`,
          fix: didYouMean(tableName ?? "", tables) || `use ${node}.${tables[0]}`
        })
      }
      const format = formatOf(args.to, args.format)
      if ("problem" in format) {
        return yield* new DataError({
          where: `wb export --to ${args.to}`,
          found: format.problem,
          expected: `a file name ending in ${KNOWN_ENDINGS}, or --format`,
          fix: "name the file e.g. out.jsonl, or pass --format jsonl"
        })
      }
      // --to is relative to the current directory; the guards are the export nodes' (ExportFiles)
      const target = exportFiles.target({ root: process.cwd(), dir: ctx.dir }, args.to)
      const caller: ExportCaller = {
        where: `wb export --to ${args.to}`,
        option: "--to",
        example: (path) => `--to ${path}`,
        again: "export again"
      }
      yield* exportFiles.checkCardFree(caller, target)
      yield* exportFiles.checkTargetFree(caller, target)
      const removedTable = tableName === removedTableOf(manifest) ? undefined : removedTableOf(manifest)
      const facts = yield* writeTable(
        ctx.dir,
        tableFile(ctx.dir, manifest, tableName),
        target,
        caller,
        format,
        removedTable === undefined ? undefined : tableFile(ctx.dir, manifest, removedTable)
      )
      const rows = manifest.tables[tableName]!.rows
      if (facts.written.rows !== rows) {
        return yield* new DataError({
          where: `wb export ${args.ref} --to ${args.to}`,
          found: `${facts.written.rows} rows written, but the artifact's manifest records ${rows}`,
          expected: "every row of the table in the file",
          fix: `recompute the artifact (wb run ${shellArg(args.file)} --only ${node} --force) and export again`
        })
      }
      const upstream = facts.upstreamRemoved ?? []
      const section = renderCardSection({
        file: basename(target.path),
        format: format.label,
        rows,
        bytes: facts.written.bytes,
        sha256: facts.written.sha256,
        columns: manifest.tables[tableName]!.columns,
        writer: `\`wb export\` from pipeline \`${ctx.graph.name}\``,
        rowsIn: rows,
        removed: [],
        ...(facts.labelSources === undefined ? {} : { labelSources: facts.labelSources }),
        ...(facts.sources === undefined ? {} : { sources: facts.sources }),
        from: [{ node, table: tableName, key: manifest.key }],
        notes: [
          `every row of ${node}.${tableName}, in its order; wb export leaves nothing out`,
          ...(upstream.length === 0
            ? []
            : [
                `node \`${node}\` itself left out ${count(upstream.reduce((s, r) => s + r.rows, 0))} rows (its \`${removedTable}\` table): ` +
                  upstream.map((r) => `${r.value ?? "(no reason)"} ${count(r.rows)}`).join(", ")
              ])
        ]
      })
      yield* exportFiles.writeCard(caller, target, section)
      yield* Console.log(
        `wrote ${count(rows)} rows of ${node}.${tableName} to ${args.to} (${format.label}); data card: ${join(dirname(args.to), "README.md")}`
      )
    }).pipe(reportErrors)
).pipe(
  Command.withDescription(
    "Write a node's table from its cached artifact to a JSONL, JSON, CSV or Parquet file, with a data card"
  )
)
