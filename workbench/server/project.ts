/**
 * The project `wb serve` serves: its pipeline files (found under `pipelines/`, ids are their paths
 * relative to the project root), each opened afresh per request (a YAML edit, a saved override or an
 * edit to a TS pipeline or its local imports, via io/pipeline-reload.ts, is seen at once), and the tables
 * of their nodes' cached artifacts. Nothing here takes a path from a
 * request: ids, node and table names are looked up in what exists, so a name that is not there —
 * `../` and every encoded form included — is simply not found.
 */
import { Effect } from "effect"
import { existsSync, readdirSync, statSync } from "node:fs"
import { join, relative, sep } from "node:path"
import { DataError } from "../core/errors.js"
import type { GraphNode } from "../core/graph.js"
import type { Manifest } from "../core/report.js"
import { type CacheState, cacheStates, mainTable, tableFile } from "../io/catalog/artifacts.js"
import { openPipeline, type PipelineContext } from "../io/catalog/pipeline-context.js"

const PIPELINE_EXTENSIONS = /\.(ts|mts|js|mjs|yaml|yml)$/
const SKIP_DIRS = new Set(["node_modules", ".git", ".wb", "dist"])

export interface PipelineEntry {
  /** Path relative to the project root, with "/" (e.g. "pipelines/quickstart.yaml"). */
  readonly id: string
  readonly file: string
  readonly format: "ts" | "yaml"
}

export interface Project {
  readonly root: string
  /** The workspace name as `wb` takes it (--workspace): WB_WORKSPACE or ".wb". */
  readonly workspace: string
  /** Absolute workspace directory. */
  readonly dir: string
}

/** Pipeline files under `<root>/pipelines/` (3 levels deep), sorted by id. */
export function listPipelines(root: string): Array<PipelineEntry> {
  const out: Array<PipelineEntry> = []
  const walk = (dir: string, depth: number) => {
    if (depth > 3 || !existsSync(dir)) return
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name)
      const st = statSync(path, { throwIfNoEntry: false })
      if (st === undefined) continue
      if (st.isDirectory()) {
        if (!SKIP_DIRS.has(name) && !name.startsWith(".")) walk(path, depth + 1)
      } else if (PIPELINE_EXTENSIONS.test(name) && !name.endsWith(".d.ts")) {
        out.push({
          id: relative(root, path).split(sep).join("/"),
          file: path,
          format: /\.ya?ml$/.test(name) ? "yaml" : "ts"
        })
      }
    }
  }
  walk(join(root, "pipelines"), 0)
  return out
}

/** A reply the routes turn into an HTTP status with a JSON body. */
export class HttpProblem {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>
  ) {}
}

export const notFound = (what: string, available?: ReadonlyArray<string>) =>
  new HttpProblem(404, {
    error: "not found",
    found: what,
    ...(available === undefined ? {} : { expected: `one of: ${available.join(", ") || "(none)"}` })
  })

export function findPipeline(project: Project, id: string): PipelineEntry | HttpProblem {
  const all = listPipelines(project.root)
  return (
    all.find((p) => p.id === id) ??
    notFound(
      `no pipeline "${id}"`,
      all.map((p) => p.id)
    )
  )
}

/** Open the pipeline (graph built, params decoded, saved overrides applied) for the server. */
export const openEntry = (project: Project, entry: PipelineEntry): ReturnType<typeof openPipeline> =>
  openPipeline(entry.file, project.workspace)

export interface NodeTables {
  readonly node: GraphNode
  readonly state: CacheState
  readonly key: string | undefined
}

export const nodeStates = (ctx: PipelineContext): Array<NodeTables> => cacheStates(ctx.graph, ctx.root, ctx.dir)

/** The Parquet file of `node`'s table `table` ("main" or "" for its main table), if it has a cached artifact. */
export function findTable(
  ctx: PipelineContext,
  nodeName: string,
  table: string
):
  | { readonly file: string; readonly manifest: Manifest; readonly table: string; readonly node: GraphNode }
  | HttpProblem {
  const states = nodeStates(ctx)
  const s = states.find((x) => x.node.name === nodeName)
  if (s === undefined)
    return notFound(
      `pipeline "${ctx.graph.name}" has no node "${nodeName}"`,
      states.map((x) => x.node.name)
    )
  const declared = Object.keys(s.node.definition.outputs)
  if (s.state._tag !== "Cached") {
    if (!declared.includes(table) && table !== "main")
      return notFound(`node "${nodeName}" has no table "${table}"`, declared)
    return new HttpProblem(409, {
      error: "not run",
      where: `node "${nodeName}"`,
      found: `it has no cached artifact for its current params and inputs (${s.state._tag === "NotRun" ? "not run" : s.state._tag.toLowerCase()})`,
      expected: "a node that has run",
      fix: "run the pipeline (POST /api/pipelines/<id>/run, or wb run in a terminal)"
    })
  }
  const m = s.state.manifest
  const name = table === "main" ? mainTable(m) : table
  if (name === undefined || m.tables[name] === undefined)
    return notFound(`node "${nodeName}" has no table "${table}"`, Object.keys(m.tables))
  return { file: tableFile(ctx.dir, m, name), manifest: m, table: name, node: s.node }
}

/** A pipeline failing to open (invalid params, missing file) as a 422 with the error's data. */
export const problemOf = (e: { readonly _tag: string; readonly message: string }) => {
  const fields = e as unknown as Record<string, unknown>
  const pick = (k: string) => (typeof fields[k] === "string" ? { [k]: fields[k] } : {})
  return new HttpProblem(422, {
    error: e._tag,
    message: e.message,
    ...pick("where"),
    ...pick("found"),
    ...pick("expected"),
    ...pick("fix")
  })
}

export const openOrProblem = (project: Project, id: string) =>
  Effect.gen(function* () {
    const entry = findPipeline(project, id)
    if (entry instanceof HttpProblem) return yield* Effect.fail(entry)
    const ctx = yield* openEntry(project, entry).pipe(Effect.mapError(problemOf))
    return { entry, ctx }
  })

export const badRequest = (where: string, found: string, expected: string, fix: string) =>
  new HttpProblem(400, { error: "bad request", where, found, expected, fix })

export { DataError }
