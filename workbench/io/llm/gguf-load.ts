/**
 * Loading a GGUF model with node-llama-cpp, an optional peer dependency: it is imported only here, only
 * dynamically, so a user who never runs a GGUF model never loads it (769 MB installed, a native addon).
 * Every way loading fails becomes a DataError naming where, what was found and what to do.
 */
import { Effect, type Scope } from "effect"
import { existsSync, statSync } from "node:fs"
import { arch, platform } from "node:os"
import type { Llama, LlamaModel } from "node-llama-cpp"
import { DataError } from "../../core/errors.js"

/** The version our tests run; 3.22's macOS/Windows binary packages are missing from the registry. */
export const NODE_LLAMA_CPP_VERSION = "3.21.1"
export const INSTALL_HINT = `npm i -E node-llama-cpp@${NODE_LLAMA_CPP_VERSION}`

export type NodeLlamaCpp = typeof import("node-llama-cpp")

export interface GgufLoadOptions {
  readonly modelPath: string
  /** CPU threads for the whole instance (node-llama-cpp's default of 4 on a 2-core machine is ~500x slower). */
  readonly threads: number
  /** false: the CPU backend, the same numbers on every machine; "auto": CUDA/Vulkan/Metal when present. */
  readonly gpu?: "auto" | false | undefined
  /** What needs the model, for the install hint (default "judge.gguf"). */
  readonly usedBy?: string | undefined
  /** llama.cpp's own messages at warn level and above (default: kept for error messages only). */
  readonly log?: ((level: string, message: string) => void) | undefined
}

export interface LoadedGguf {
  readonly lib: NodeLlamaCpp
  readonly llama: Llama
  readonly model: LlamaModel
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e))

/** Import node-llama-cpp, or say how to install it. */
export const importNodeLlamaCpp = (where: string, usedBy = "judge.gguf"): Effect.Effect<NodeLlamaCpp, DataError> =>
  Effect.tryPromise({
    try: () => import("node-llama-cpp"),
    catch: (e) => {
      const missing = (e as { code?: string }).code === "ERR_MODULE_NOT_FOUND" && /node-llama-cpp/.test(message(e))
      return new DataError({
        where,
        found: missing
          ? "node-llama-cpp is not installed (an optional peer dependency of preference-workbench)"
          : `node-llama-cpp could not be loaded: ${message(e)}`,
        expected: `node-llama-cpp ${NODE_LLAMA_CPP_VERSION} installed next to preference-workbench`,
        fix: missing
          ? `${usedBy} needs node-llama-cpp: ${INSTALL_HINT}`
          : `reinstall it (${INSTALL_HINT}); node-llama-cpp ships its llama.cpp binaries in npm packages`
      })
    }
  })

/**
 * node-llama-cpp, its native backend and the model, disposed when the scope closes. Never builds
 * llama.cpp from source or downloads anything (`build: "never"`, `skipDownload`): a platform without a
 * prebuilt binary fails at once with a message, instead of a silent multi-minute cmake build.
 */
export const loadGguf = (options: GgufLoadOptions, where: string): Effect.Effect<LoadedGguf, DataError, Scope.Scope> =>
  Effect.gen(function* () {
    const path = options.modelPath
    if (!existsSync(path) || !statSync(path).isFile()) {
      return yield* new DataError({
        where,
        found: `no model file at ${path}`,
        expected: "the path of a .gguf model file",
        fix: "correct the path; for an offline test model run `wb llm tiny-model models/tiny.gguf`"
      })
    }
    const lib = yield* importNodeLlamaCpp(where, options.usedBy)
    const recent: Array<string> = []
    const logger = (level: string, text: string) => {
      recent.push(text.trim())
      if (recent.length > 5) recent.shift()
      options.log?.(level, text)
    }
    const llama = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () =>
          lib.getLlama({
            gpu: options.gpu ?? false,
            build: "never",
            skipDownload: true,
            maxThreads: options.threads,
            logLevel: lib.LlamaLogLevel.warn,
            logger,
            progressLogs: false
          }),
        catch: (e) =>
          new DataError({
            where,
            found:
              e instanceof lib.NoBinaryFoundError
                ? `node-llama-cpp has no prebuilt llama.cpp binary for ${platform()}-${arch()}${options.gpu === "auto" ? " (gpu: auto)" : ""}`
                : `node-llama-cpp could not start llama.cpp: ${message(e)}`,
            expected: "a prebuilt binary from the @node-llama-cpp/* packages npm installs with node-llama-cpp",
            fix: `reinstall with optional dependencies (${INSTALL_HINT}, not --omit=optional); wb never builds llama.cpp from source`
          })
      }),
      (l) => Effect.promise(() => l.dispose())
    )
    const model = yield* Effect.tryPromise({
      try: () => llama.loadModel({ modelPath: path }),
      catch: (e) =>
        new DataError({
          where,
          found: `${path} could not be loaded as a model: ${message(e)}${recent.length > 0 ? ` (llama.cpp: ${recent.join("; ")})` : ""}`,
          expected: "a GGUF model file that llama.cpp (node-llama-cpp 3.21.1) supports",
          fix: "check the file is a complete .gguf (not a partial download, not safetensors) of an architecture llama.cpp knows"
        })
    })
    return { lib, llama, model }
  })
