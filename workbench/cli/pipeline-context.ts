/** What most commands start from: the pipeline file loaded, its graph validated, the workspace located. */
import { Data, Effect } from "effect"
import { Flag } from "effect/cli"
import { isAbsolute, relative, resolve } from "node:path"
import { buildGraph, type PipelineGraph } from "../core/graph.js"
import type { NodeRegistry } from "../core/node.js"
import type { PipelineDefinition } from "../core/pipeline.js"
import type { PipelineInvalidError } from "../core/errors.js"
import { loadPipelineFile } from "../io/pipeline-file.js"
import { loadNodeLibrary, nodeLibraryLocation } from "./node-library.js"

export const workspaceFlag = Flag.String("workspace").pipe(
  Flag.withDescription("Workspace directory for artifacts and the run log (relative to the current directory)"),
  Flag.withDefault(".wb")
)

export interface WorkspacePaths {
  /** Project root: relative data paths resolve here (the current directory). */
  readonly root: string
  /** Absolute workspace directory. */
  readonly dir: string
  /** The workspace as the user should read it: ".wb/" or an absolute path. */
  readonly label: string
}

export function workspacePaths(workspace: string, root: string = process.cwd()): WorkspacePaths {
  const dir = resolve(root, workspace)
  const rel = relative(root, dir)
  const label = rel === "" ? "./" : rel.startsWith("..") || isAbsolute(rel) ? `${dir}/` : `${rel}/`
  return { root, dir, label }
}

export interface PipelineContext extends WorkspacePaths {
  /** The pipeline file as the user typed it (for hints). */
  readonly file: string
  readonly definition: PipelineDefinition
  readonly graph: PipelineGraph
}

/** Load the pipeline; YAML pipelines (kinds named by string) also load the node library. */
export const loadDefinition = (file: string, root: string = process.cwd()) =>
  Effect.gen(function*() {
    const definition = yield* loadPipelineFile(file, root)
    const needsLibrary = definition.nodes.some((n) => n.spec.definition === undefined)
    const registry: NodeRegistry = needsLibrary ? yield* loadNodeLibrary : new Map()
    return { definition, registry, needsLibrary }
  })

/** An error message with a note appended. */
class NotedError extends Data.TaggedError("NotedError")<{ readonly text: string }> {
  override get message() {
    return this.text
  }
}

export const openPipeline = (file: string, workspace: string) =>
  Effect.gen(function*() {
    const paths = workspacePaths(workspace)
    const { definition, registry, needsLibrary } = yield* loadDefinition(file, paths.root)
    const graph = yield* buildGraph(definition, registry).pipe(
      Effect.catchTag("PipelineInvalidError", (e): Effect.Effect<never, PipelineInvalidError | NotedError> =>
        Effect.fail(needsLibrary && registry.size === 0 && !nodeLibraryLocation().present
          ? new NotedError({
            text: `${e.message}\n  note: no node library is loaded (nodes/index.ts does not exist yet); ` +
              "set WB_NODE_LIBRARY=<module exporting registry> to use another"
          })
          : e))
    )
    return { ...paths, file, definition, graph } satisfies PipelineContext
  })

/** Quote a CLI argument for a copy-pasteable hint. */
export const shellArg = (s: string): string => (/^[\w./@:=+-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`)
