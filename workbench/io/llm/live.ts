/**
 * `LlmLive(workspaceDir)`: the live `Llm` service. `open` opens the model's response cache under
 * `<workspace>/llm-cache/` and hands it to the provider: the OpenAI-compatible HTTP pool
 * (http-client.ts) or an in-process GGUF model (gguf.ts, loaded only when asked for, since
 * node-llama-cpp is an optional peer dependency of hundreds of MB).
 */
import { Effect, Layer } from "effect"
import { createHash } from "node:crypto"
import { closeSync, openSync, readSync, statSync } from "node:fs"
import { basename } from "node:path"
import { DataError } from "../../core/errors.js"
import { type GgufModelConfig, Llm, type ModelConfig } from "../../core/llm.js"
import type { HttpTuning } from "./http-client.js"
import { openEmbeddingCache } from "./embedding-cache.js"
import { type ModelIdentity, openResponseCache } from "./response-cache.js"

// every run provides Llm, most never judge: the HTTP stack (effect/http, node:http agents) loads on first use
const httpModule = Effect.promise(() => import("./http-client.js"))

/**
 * A model file's identity for the cache: name, size and a hash of its first and last MiB (header,
 * metadata and the last tensors), so a file regenerated with other weights gets a new cache without
 * hashing gigabytes on every run.
 */
function ggufIdentity(config: GgufModelConfig, where: string): ModelIdentity | DataError {
  try {
    const size = statSync(config.modelPath).size
    const hash = createHash("sha256")
    const fd = openSync(config.modelPath, "r")
    try {
      const chunk = Buffer.alloc(Math.min(size, 1 << 20))
      hash.update(chunk.subarray(0, readSync(fd, chunk, 0, chunk.length, 0)))
      if (size > chunk.length) hash.update(chunk.subarray(0, readSync(fd, chunk, 0, chunk.length, size - chunk.length)))
    } finally {
      closeSync(fd)
    }
    return { provider: "gguf", model: `${basename(config.modelPath)}:${size}:${hash.digest("hex").slice(0, 16)}` }
  } catch (e) {
    return new DataError({
      where,
      found: `the model file ${config.modelPath} could not be read (${e instanceof Error ? e.message : String(e)})`,
      expected: "the path of a readable .gguf file",
      fix: "correct the model path (relative paths resolve against the project root)"
    })
  }
}

const openGguf = (workspaceDir: string, config: GgufModelConfig, where: string) =>
  Effect.gen(function* () {
    const identity = ggufIdentity(config, where)
    if (identity instanceof DataError) return yield* identity
    const module = yield* Effect.tryPromise({
      try: () => import("./gguf.js"),
      catch: (e) => {
        const text = e instanceof Error ? e.message : String(e)
        return new DataError({
          where,
          found: /node-llama-cpp/.test(text)
            ? "node-llama-cpp, which runs GGUF models in process, is not installed"
            : `the GGUF provider could not be loaded (${text.split("\n")[0]})`,
          expected: "node-llama-cpp 3.21.1 installed next to wb",
          fix: "npm i -E node-llama-cpp@3.21.1, or serve the model with `wb llm serve --model <file.gguf>` and point baseUrl at it"
        })
      }
    })
    const cache = yield* openResponseCache(workspaceDir, identity, where)
    const embeddings = yield* openEmbeddingCache(workspaceDir, identity, where)
    return yield* module.openGgufClient(config, where, cache, embeddings)
  })

/** `tuning`: retry, rest and rate-window timings; only tests change them. */
export const LlmLive = (workspaceDir: string, tuning: Partial<HttpTuning> = {}) =>
  Layer.succeed(
    Llm,
    Llm.of({
      open: (config: ModelConfig, where: string) =>
        config.provider === "openai"
          ? Effect.gen(function* () {
              const identity = { provider: "openai", model: config.model }
              const cache = yield* openResponseCache(workspaceDir, identity, where)
              const embeddings = yield* openEmbeddingCache(workspaceDir, identity, where)
              const { openHttpClient } = yield* httpModule
              return yield* openHttpClient(config, where, cache, embeddings, tuning)
            })
          : openGguf(workspaceDir, config, where)
    })
  )
