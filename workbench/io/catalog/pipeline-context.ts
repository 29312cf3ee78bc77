/** What most commands start from: the pipeline file loaded, its graph validated, the workspace located. */
import { Data, Effect, type Layer } from "effect"
import { isAbsolute, relative, resolve } from "node:path"
import { labelLayer, mergeLayers } from "../../core/config.js"
import type { DataError } from "../../core/errors.js"
import { buildGraph, type PipelineGraph, providedServiceKeys } from "../../core/graph.js"
import { Llm } from "../../core/llm.js"
import { Trainer } from "../../core/trainer.js"
import { applyOverrides } from "../../core/param-overrides.js"
import type { NodeRegistry } from "../../core/node.js"
import type { PipelineDefinition } from "../../core/pipeline.js"
import type { PipelineInvalidError } from "../../core/errors.js"
import { DataError as DataErrorClass } from "../../core/errors.js"
import { type OverridesFile, readOverridesFile } from "../overrides-file.js"
import { loadPipelineFile } from "../pipeline-file.js"
import { findProjectRoot, type ProjectRoot } from "../project-root.js"
import { loadNodeLibrary, nodeLibraryLocation } from "./node-library.js"
import { loadProjectConfig, type ProjectConfig } from "./project-config.js"

export interface WorkspacePaths {
  /** Where relative data paths resolve: the current directory here; openPipeline sets the pipeline's project root. */
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

/** The workspace as the user should read it from the current directory. */
const labelFor = (dir: string) => workspacePaths(dir, process.cwd())

export interface PipelineContext extends WorkspacePaths {
  /**
   * The pipeline's project root (nearest folder with package.json or .wb/ from the file's folder up):
   * `root` is its dir, so relative data paths in the pipeline do not depend on the current directory.
   * The workspace (--workspace, default .wb) resolves against it too, so `cd pipelines && wb run x.ts`
   * uses the project's .wb/, not a new pipelines/.wb/ (which would then move the root on the next run).
   */
  readonly projectRoot: ProjectRoot
  /** The pipeline file as the user typed it (for hints). */
  readonly file: string
  readonly definition: PipelineDefinition
  readonly graph: PipelineGraph
  /** The project's wb.config.ts, if any (its layer and node kinds). */
  readonly project: ProjectConfig
  /** The services the run must provide beyond the core ones: wb.config.ts's layer and the pipeline's own. */
  readonly layer: Layer.Layer<never, DataError, never>
  /** Param overrides saved beside the pipeline file (`wb serve`), already applied. */
  readonly overrides?: OverridesFile
}

export interface OpenOptions {
  /**
   * Whether to check that each node's `requires` is provided. "any" (default): no check, for commands
   * that only inspect a pipeline. "check": build the layers to see what they provide (`wb validate`).
   * "defer": check now only if there is no layer to build; the runner checks again, with the layers
   * built once for the run (`wb run`).
   */
  readonly services?: "any" | "check" | "defer"
  /** Param overrides, `node.param=value` (`--set`), applied before the graph is built (core/param-overrides.ts). */
  readonly set?: ReadonlyArray<string>
}

/** Load the pipeline; YAML pipelines (kinds named by string) also load the node library (with the project's kinds). */
export const loadDefinition = (file: string, root: string = process.cwd(), project?: ProjectConfig) =>
  Effect.gen(function* () {
    const definition = yield* loadPipelineFile(file, root)
    const needsLibrary = definition.nodes.some((n) => n.spec.definition === undefined)
    const registry: NodeRegistry = needsLibrary ? (yield* loadNodeLibrary(project)).registry : new Map()
    return { definition, registry, needsLibrary }
  })

/** Services the workbench layer of every run provides (workbench/io/live.ts), for the graph's `requires` check. */
const WORKBENCH_SERVICES: ReadonlyArray<string> = [Llm.key, Trainer.key]

/** An error message with a note appended. */
class NotedError extends Data.TaggedError("NotedError")<{ readonly text: string }> {
  override get message() {
    return this.text
  }
}

export const openPipeline = (file: string, workspace: string, options: OpenOptions = {}) =>
  Effect.gen(function* () {
    const projectRoot = findProjectRoot(file, process.cwd())
    const paths = { ...workspacePaths(workspace, projectRoot.dir), ...labelFor(resolve(projectRoot.dir, workspace)) }
    const project = yield* loadProjectConfig(projectRoot.dir)
    const loadedDefinition = yield* loadDefinition(file, paths.root, project)
    const { registry, needsLibrary } = loadedDefinition
    // edits saved by `wb serve` (io/overrides-file.ts) apply first, so this command's --set wins
    const saved = readOverridesFile(resolve(process.cwd(), file))
    if (saved instanceof DataErrorClass) return yield* saved
    const set = [...(saved?.set ?? []), ...(options.set ?? [])]
    const definition =
      set.length === 0 ? loadedDefinition.definition : yield* applyOverrides(loadedDefinition.definition, registry, set)
    const layers = [
      project.config.layer === undefined
        ? undefined
        : labelLayer(project.config.layer, `the layer of ${project.shown}`),
      definition.layer === undefined
        ? undefined
        : labelLayer(definition.layer, `the layer of pipeline "${definition.name}"`)
    ]
    const layer = mergeLayers(layers)
    const services = options.services ?? "any"
    const unchecked = services === "any" || (services === "defer" && layers.some((l) => l !== undefined))
    // what every `wb run` provides beside the core services and the project's layers (io/live.ts)
    const workbench = Effect.map(providedServiceKeys, (keys) => new Set([...keys, ...WORKBENCH_SERVICES]))
    const build = unchecked
      ? buildGraph(definition, registry, { services: "any" })
      : Effect.flatMap(workbench, (services) => buildGraph(definition, registry, { services }))
    const graph = yield* (services === "check" ? build.pipe(Effect.provide(layer)) : build).pipe(
      Effect.catchTag(
        "PipelineInvalidError",
        (e): Effect.Effect<never, PipelineInvalidError | NotedError> =>
          Effect.fail(
            needsLibrary && registry.size === 0 && !nodeLibraryLocation().present
              ? new NotedError({
                  text:
                    `${e.message}\n  note: no node library is loaded (nodes/index.ts does not exist yet); ` +
                    "add kinds with `nodes` in wb.config.ts, or WB_NODE_LIBRARY=<module exporting registry>"
                })
              : e
          )
      )
    )
    return {
      ...paths,
      root: projectRoot.dir,
      projectRoot,
      file,
      definition,
      graph,
      project,
      layer,
      ...(saved === undefined ? {} : { overrides: saved })
    } satisfies PipelineContext
  })
