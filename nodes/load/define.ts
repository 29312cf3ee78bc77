/**
 * `defineLoader`: a load-family node from its one specific step. The steps every loader shares are
 * here: the source node shape (no inputs; pairs, votes and rejects outputs), the cache key's file
 * fingerprint, finding and reading the file a `path` param names, the rejects table with the
 * `maxRejectRate` check, and `finishLoad` (counts, the completeness and accounting checks, the votes
 * and removed tables).
 *
 * A `path` naming several files (a list, or a pattern with `glob: true`; `inputs.ts`) runs the
 * loader's step once per file and stacks the results (`many-files.ts`), so a step only ever reads
 * one file. Loaders that declare their own `files` (a folder of judge files) read them themselves.
 *
 * @example
 * export const qa = defineLoader({
 *   kind: "load.qa", version: 1, summary: "question/good/bad records -> pairs",
 *   params: Schema.Struct({ path: PathParam("the file"), format: FormatParam, maxRejectRate: MaxRejectRateParam }),
 *   load: ({ params, read, rejectsOf }) => Effect.gen(function*() {
 *     const source = yield* read()
 *     const rejects = yield* rejectsOf([source])
 *     const pairs = yield* (yield* Sql).create("pairs", qaPairsSql(source.records.table))
 *     return { pairs, rejects, files: [source] }
 *   })
 * })
 */
import { Effect } from "effect"
import type { DataError, SqlError } from "../../workbench/core/errors.js"
import { type CoreServices, defineNode, type NodeOutput, type ParamsSchema } from "../../workbench/core/node.js"
import { Progress, Workspace } from "../../workbench/core/services.js"
import type { ColumnType } from "../../workbench/core/column-type.js"
import type { NodeView } from "../../workbench/core/views.js"
import { output, type OutputContract } from "../../workbench/core/contract.js"
import { pairColumns, pairsOutput, rejectsOutput, votesOutput } from "../lib/pair-tables.js"
import { type CheckedFile, collectRejects } from "./check.js"
import { fileFingerprint } from "../lib/file-fingerprint.js"
import { type LoadContext, type SourceFile, sourceFile } from "./files.js"
import { finishLoad, type Loaded } from "./finish.js"
import { fingerprintPaths, inputFiles, inputPaths, type PathValue } from "./inputs.js"
import { loadEach } from "./many-files.js"
import { readRecords } from "./read.js"
import { removedOutput } from "./removed.js"

/** What `wb serve` draws for every loader (core/views.ts): how the loaded pairs' labels split by source. */
export const loaderViews: ReadonlyArray<NodeView> = [
  {
    name: "labels",
    title: "Label distribution by source",
    table: "pairs",
    kind: "bar",
    x: "source",
    color: "coalesce(label, 'unlabelled')",
    yLabel: "pairs",
    doc: "a source labelled mostly one side, or mostly unlabelled, is worth a look before mixing it in"
  }
]

/** The params every loader has; `path`, `glob` and `format` are what `read()` reads. */
interface LoaderParams {
  readonly maxRejectRate: number
  readonly path?: unknown
  readonly glob?: boolean
  readonly format?: string
}

const pathOf = (params: LoaderParams): PathValue =>
  typeof params.path === "string" || Array.isArray(params.path) ? (params.path as PathValue) : String(params.path)

/** What a loader's own step gets: who is loading, its params, and the shared reading steps. */
export interface LoaderStep<P> {
  readonly ctx: LoadContext
  readonly params: P
  /** The file the `path` param names (this run's file, when it names several), in the `format` param's format, read into a records table. */
  readonly read: (
    options?: Parameters<typeof readRecords>[2]
  ) => Effect.Effect<CheckedFile, DataError | SqlError, CoreServices>
  /** The rejects table of these files; fails past the `maxRejectRate` param. */
  readonly rejectsOf: (files: ReadonlyArray<CheckedFile>) => ReturnType<typeof collectRejects>
}

export interface LoaderDeclaration<S extends ParamsSchema, X extends string = never> {
  readonly kind: string
  readonly version: number
  readonly summary: string
  readonly params: S
  /** Whether the pairs table may carry pass-through columns beyond the pair columns (default true). */
  readonly passThrough?: boolean
  /** Columns the loader adds to every pairs table after the pair columns (declared, so later contracts see them). */
  readonly pairColumns?: Readonly<Record<string, ColumnType>>
  /** The files the loader finds and reads itself, which the cache key covers (default: the files `path` and `glob` name, read by `read()`). */
  readonly files?: (params: S["Type"], root: string) => ReadonlyArray<string>
  /**
   * Tables beyond pairs, votes, rejects and removed, with their contracts (e.g. `ratings`, `raters`):
   * `load` returns each in `extra`, by name. They are aux tables, outside rows in = out + rejected + removed.
   */
  readonly outputs?: Readonly<Record<X, OutputContract>>
  /** The loader's own step: everything between reading its files and `finishLoad`. */
  readonly load: (
    step: LoaderStep<S["Type"]>
  ) => Effect.Effect<Omit<Loaded, "ctx"> & ExtraOf<X>, DataError | SqlError, CoreServices>
}

/** What a loader with extra outputs `X` returns besides the usual tables. */
type ExtraOf<X extends string> = [X] extends [never] ? unknown : { readonly extra: Readonly<Record<X, string>> }

/** Declare a loader: a source node with pairs, votes, rejects and removed outputs (see the module doc). */
export const defineLoader = <S extends ParamsSchema & { readonly Type: LoaderParams }, X extends string = never>(
  loader: LoaderDeclaration<S, X>
) =>
  defineNode({
    kind: loader.kind,
    version: loader.version,
    summary: loader.summary,
    params: loader.params,
    inputs: {},
    outputs: {
      pairs:
        loader.pairColumns === undefined
          ? pairsOutput(loader.passThrough ?? true)
          : output(
              "main",
              { ...pairColumns, ...loader.pairColumns },
              { open: loader.passThrough ?? true, doc: "one row per comparison" }
            ),
      votes: votesOutput(),
      rejects: rejectsOutput(),
      removed: removedOutput(),
      ...(loader.outputs ?? ({} as Readonly<Record<X, OutputContract>>))
    },
    views: loaderViews,
    fingerprint: (params, root, workspace) =>
      fileFingerprint(
        root,
        loader.files?.(params, root) ?? fingerprintPaths(root, pathOf(params), params.glob === true),
        workspace
      ),
    run: ({ node, kind, params, sample }) =>
      Effect.gen(function* () {
        // the extra tables come back under the names `outputs` declares (finishLoad cannot know them)
        const finish = (loaded: Loaded) =>
          finishLoad(loaded).pipe(Effect.map((out) => out as NodeOutput<"pairs" | "votes" | "rejects" | "removed" | X>))
        const ctx: LoadContext = {
          node,
          kind,
          root: (yield* Workspace).root,
          ...(sample === undefined ? {} : { sample })
        }
        const format = params.format ?? "auto"
        /** The step over one file: `read()` reads it in context `at`; rejects fail past `maxRejectRate`. */
        const step = (
          at: LoadContext,
          file: Effect.Effect<SourceFile, DataError>,
          maxRejectRate: number
        ): LoaderStep<S["Type"]> => ({
          ctx: at,
          params,
          read: (options) =>
            Effect.gen(function* () {
              const f = yield* file
              return { file: f, records: yield* readRecords(at, f, options) }
            }),
          rejectsOf: (files) => collectRejects(at, files, maxRejectRate)
        })
        if (loader.files !== undefined) {
          const loaded = yield* loader.load(
            step(ctx, sourceFile(ctx, "path", String(params.path), format), params.maxRejectRate)
          )
          return yield* finish({ ctx, ...loaded })
        }
        const files = yield* inputFiles(ctx, pathOf(params), params.glob === true, format)
        for (const r of inputPaths(ctx.root, pathOf(params), params.glob === true).repeated) {
          yield* (yield* Progress).note(
            `${r.param} (${r.path}) names the file ${r.first} names: each file is read once`
          )
        }
        if (files.length === 1) {
          const loaded = yield* loader.load(step(ctx, Effect.succeed(files[0]!), params.maxRejectRate))
          return yield* finish({ ctx, ...loaded })
        }
        // the reject rate is checked over all files, after the last (loadEach)
        const loaded = yield* loadEach(
          ctx,
          files,
          (at, file) => loader.load(step(at, Effect.succeed(file), 1)),
          params.maxRejectRate
        )
        return yield* finish({ ctx, ...loaded })
      })
  })
