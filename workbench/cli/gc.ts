/**
 * `wb gc [pipeline files...]`: remove the artifacts no pipeline of the project references. Kept: for
 * each pipeline (the files given, else every file in the project's pipelines/ folder) the artifacts of
 * its nodes' current cache keys and of its last run, and every artifact those were computed from.
 * A dry run by default, listing what would go and how many bytes; `--yes` deletes.
 */
import { Console, Effect } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { existsSync, readdirSync, statSync } from "node:fs"
import { extname, join, relative } from "node:path"
import { DataError } from "../core/errors.js"
import { cacheStates } from "../io/catalog/artifacts.js"
import { openPipeline, type PipelineContext } from "../io/catalog/pipeline-context.js"
import { findProjectRoot } from "../io/project-root.js"
import { type ArtifactEntry, artifactEntries, holdRunLog, removeArtifacts, withLineage } from "../io/workspace-gc.js"
import { shellArg, workspaceFlag } from "./args.js"
import { reportErrors } from "./exit.js"
import { count, table } from "./format.js"
import { checkSample, sampleFlag, sampleWorkspace } from "./sample.js"

const PIPELINE_EXTENSIONS = [".ts", ".mts", ".js", ".mjs", ".yaml", ".yml"]

/** 1234567 -> "1.2 MB" (decimal units, as `ls -lh --si` and disk vendors count). */
export function bytes(n: number): string {
  const units = ["bytes", "kB", "MB", "GB", "TB"]
  let i = 0
  let v = n
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000
    i++
  }
  return i === 0 ? `${count(n)} bytes` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`
}

/** The pipeline files gc keeps artifacts for: those given, else the project's pipelines/ folder. */
function pipelineFiles(given: ReadonlyArray<string>): Effect.Effect<ReadonlyArray<string>, DataError> {
  if (given.length > 0) return Effect.succeed(given)
  // the project root of a file in the current directory: the nearest package.json or .wb/ above it
  const root = findProjectRoot("wb-gc", process.cwd()).dir
  const folder = join(root, "pipelines")
  const files =
    existsSync(folder) && statSync(folder).isDirectory()
      ? readdirSync(folder)
          .filter((f) => PIPELINE_EXTENSIONS.includes(extname(f).toLowerCase()))
          .sort()
          .map((f) => join(folder, f))
      : []
  if (files.length > 0) return Effect.succeed(files.map((f) => relative(process.cwd(), f) || f))
  return Effect.fail(
    new DataError({
      where: `wb gc: project ${root}`,
      found: `no pipeline files in ${folder}`,
      expected: "the project's pipelines in its pipelines/ folder, or pipeline files named on the command line",
      fix: "name the pipelines whose artifacts to keep: wb gc path/to/pipeline.ts [more.yaml ...]"
    })
  )
}

export const gcCommand = Command.make(
  "gc",
  {
    files: Argument.String("files").pipe(
      Argument.withDescription(
        "Pipeline files whose artifacts to keep (default: every file in the project's pipelines/)"
      ),
      Argument.variadic()
    ),
    yes: Flag.Boolean("yes").pipe(
      Flag.withDescription("Delete (without it, only list what would be deleted)"),
      Flag.withDefault(false)
    ),
    sample: sampleFlag("Collect the workspace of `wb run --sample N` (<workspace>/sample-N/)"),
    workspace: workspaceFlag
  },
  (args) =>
    Effect.gen(function* () {
      const sample = yield* checkSample(args.sample, "wb gc")
      const files = yield* pipelineFiles(args.files)
      // every pipeline must load: an artifact is unreferenced only if no pipeline's key reaches it
      const contexts: Array<PipelineContext> = []
      for (const file of files) {
        const ctx = yield* openPipeline(file, sampleWorkspace(args.workspace, sample)).pipe(
          Effect.mapError(
            (e) =>
              new DataError({
                where: `wb gc: pipeline file ${file}`,
                found: `it cannot be loaded, so gc cannot tell which artifacts it references:\n    ${e.message.split("\n").join("\n    ")}`,
                expected: "pipeline files that load and validate (gc keeps what each one references)",
                fix: `fix the file, or name the pipelines to keep artifacts for: wb gc ${
                  files
                    .filter((f) => f !== file)
                    .map(shellArg)
                    .join(" ") || "<file> ..."
                }`
              })
          )
        )
        contexts.push(ctx)
      }
      const dirs = [...new Set(contexts.map((c) => c.dir))]
      if (dirs.length > 1) {
        return yield* new DataError({
          where: "wb gc",
          found: `the pipelines use different workspaces: ${dirs.join(", ")}`,
          expected: "pipelines of one project, which share its workspace",
          fix: "run wb gc once per project, from its folder"
        })
      }
      const ctx = contexts[0]!
      yield* Effect.scoped(
        Effect.gen(function* () {
          const runs = yield* holdRunLog(ctx.dir)
          const entries = artifactEntries(ctx.dir)
          const byKey = new Map(entries.map((e) => [e.key, e] as const))
          const names = new Set(contexts.map((c) => c.graph.name))
          const current = contexts.flatMap((c) =>
            cacheStates(c.graph, c.root, c.dir, sample).flatMap((s) => (s.key === undefined ? [] : [s.key]))
          )
          const lastRuns = runs.filter((r) => names.has(r.pipeline))
          const keep = withLineage([...current, ...lastRuns.flatMap((r) => r.keys)], (k) => byKey.get(k)?.manifest)
          const kept = entries.filter((e) => keep.has(e.key))
          const gone = entries.filter((e) => !keep.has(e.key))
          const total = (es: ReadonlyArray<ArtifactEntry>) => es.reduce((s, e) => s + e.bytes, 0)
          const others = runs.filter((r) => !names.has(r.pipeline))
          const lines = [
            `wb gc · workspace ${ctx.label} · ${files.length} pipeline${files.length === 1 ? "" : "s"}: ${files.join(", ")}`,
            `  keeps ${count(kept.length)} artifact${kept.length === 1 ? "" : "s"} (${bytes(total(kept))}): ` +
              "the current and last-run artifacts of those pipelines, and what they were computed from",
            ...others.map(
              (r) =>
                `  note: the run log also has pipeline "${r.pipeline}" (${r.file || "no file"}, last run ${r.started}), not among them: ` +
                "its artifacts count as unreferenced unless you name its file"
            )
          ]
          if (gone.length === 0) {
            lines.push("  nothing to remove")
            return yield* Console.log(lines.join("\n"))
          }
          lines.push(
            `  ${args.yes ? "removes" : "would remove"} ${count(gone.length)} artifact${gone.length === 1 ? "" : "s"} ` +
              `(${bytes(total(gone))}, ${count(total(gone))} bytes):`,
            ...table(
              [
                { header: "artifact" },
                { header: "node" },
                { header: "kind" },
                { header: "created" },
                { header: "size", align: "right" }
              ],
              gone.map((e) => [
                e.key,
                e.manifest?.node ?? "?",
                e.manifest?.kind ?? "(no manifest: unfinished or damaged)",
                e.manifest?.createdAt.slice(0, 16).replace("T", " ") ?? "",
                bytes(e.bytes)
              ]),
              "    "
            )
          )
          if (!args.yes) {
            lines.push(
              `dry run: nothing was removed; remove them with: wb gc ${[...args.files.map(shellArg), "--yes"].join(" ")}`
            )
            return yield* Console.log(lines.join("\n"))
          }
          const freed = removeArtifacts(ctx.dir, gone)
          lines.push(`removed ${count(gone.length)} artifact${gone.length === 1 ? "" : "s"}, ${bytes(freed)} freed`)
          yield* Console.log(lines.join("\n"))
        })
      )
    }).pipe(reportErrors)
).pipe(Command.withDescription("Remove artifacts no pipeline of the project references (a dry run unless --yes)"))
