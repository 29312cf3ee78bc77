/**
 * Project configuration for `wb`: a `wb.config.ts` (or .mts, .js, .mjs) at the project root
 * default-exports `defineConfig({ layer, nodes })`. `layer` provides the services node runs need
 * beyond the core ones (an LLM client, a trainer); `nodes` adds node kinds that YAML pipelines and
 * `wb nodes` can name. Library code passes the same things to `runPipeline(p, { layer, registry })`.
 *
 * @example
 * // wb.config.ts
 * import { defineConfig } from "preference-workbench"
 * import { Greeter, greet } from "./nodes/greet.js"
 * export default defineConfig({ layer: Greeter.layer, nodes: { my: { greet } } })
 */
import { Effect, Layer, Result } from "effect"
import { DataError, NodeKindClashError } from "./errors.js"
import { type NodeDefinition, type NodeRegistry, registryOf } from "./node.js"

/** A layer of extra services: it may fail to build, but needs nothing itself. */
export type ServicesLayer = Layer.Layer<never, unknown, never>

type AnyKind = { readonly definition: NodeDefinition<any, any, any, any, any> }

/** Node kinds to register: a list, or families of kinds by their TypeScript names (`{ my: { greet } }`). */
export type NodeKinds = ReadonlyArray<AnyKind> | Readonly<Record<string, Readonly<Record<string, AnyKind>>>>

export interface WbConfig {
  readonly _tag: "WbConfig"
  /** Services for node runs beyond the core ones (Sql, Progress, Workspace, ExportFiles). */
  readonly layer?: ServicesLayer
  /** Node kinds added to the built-in ones (a clash of ids is an error). */
  readonly nodes?: NodeKinds
}

/** Declare the project configuration: default-export it from wb.config.ts. */
export const defineConfig = (config: { readonly layer?: ServicesLayer; readonly nodes?: NodeKinds }): WbConfig => ({
  _tag: "WbConfig",
  ...config
})

export const isWbConfig = (u: unknown): u is WbConfig =>
  typeof u === "object" && u !== null && (u as { _tag?: unknown })._tag === "WbConfig"

/**
 * `base` plus `added`. A kind id in both is a clash (naming both sources), unless it is the very
 * same definition (a library registered twice). Kinds keep their TypeScript names.
 */
export function extendRegistry(
  base: { readonly registry: NodeRegistry; readonly label: (kind: string) => string },
  added: { readonly registry: NodeRegistry; readonly label: string }
): Result.Result<NodeRegistry, NodeKindClashError> {
  const merged = new Map(base.registry)
  const names = new Map(base.registry.names ?? [])
  for (const [kind, definition] of added.registry) {
    const existing = merged.get(kind)
    if (existing !== undefined && existing !== definition) {
      return Result.fail(new NodeKindClashError({ kind, added: added.label, existing: base.label(kind) }))
    }
    merged.set(kind, definition)
    const name = added.registry.names?.get(kind)
    if (name !== undefined) names.set(kind, name)
  }
  return Result.succeed(Object.assign(merged, { names }))
}

/** The registry of a config's `nodes` (`shown`: how messages name the config); two kinds under one id fail. */
export const configRegistry = (
  config: WbConfig,
  shown = "wb.config.ts"
): Result.Result<NodeRegistry, NodeKindClashError> => {
  try {
    return Result.succeed(registryOf(config.nodes ?? [], shown))
  } catch (e) {
    if (e instanceof NodeKindClashError) return Result.fail(e)
    throw e
  }
}

/**
 * A services layer whose failure to build is a DataError saying whose layer it was, so the CLI can
 * print it like any other problem.
 */
export const labelLayer = (layer: ServicesLayer, where: string): Layer.Layer<never, DataError, never> =>
  Layer.catch(layer, (e) =>
    Layer.effectDiscard(
      Effect.fail(
        new DataError({
          where,
          found: `the layer failed to build: ${typeof e === "object" && e !== null && "message" in e ? String(e.message) : String(e)}`,
          expected: "a layer that builds the services the nodes need",
          fix: "fix the layer, or leave it out if no node of the pipeline needs its services"
        })
      )
    )
  )

/** The layers of a run, merged: any of them may be absent. */
export const mergeLayers = <E>(
  layers: ReadonlyArray<Layer.Layer<never, E, never> | undefined>
): Layer.Layer<never, E, never> => {
  const present = layers.filter((l): l is Layer.Layer<never, E, never> => l !== undefined)
  return present.length === 0 ? Layer.empty : Layer.mergeAll(...(present as [Layer.Layer<never, E, never>]))
}
