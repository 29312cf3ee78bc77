/**
 * `wb llm`: local language models.
 *
 *   wb llm serve --model file.gguf [--port 8080] [--host 127.0.0.1] [--threads N] [--parallel 4]
 *                [--context-size N] [--gpu] [--quiet]
 *     An OpenAI-compatible server (/v1/chat/completions, /v1/embeddings) over a GGUF model, in process
 *     with node-llama-cpp (an optional peer dependency). Prints its URL; Ctrl+C or SIGTERM stops it.
 *   wb llm tiny-model <path> [--seed N] [--context-length N] [--force]
 *     Write a tiny random-weight GGUF (158 KB, no download) for offline tests and examples.
 */
import { Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { existsSync, readFileSync } from "node:fs"
import { availableParallelism } from "node:os"
import { resolve } from "node:path"
import { DataError } from "../core/errors.js"
import { openGgufEngine } from "../io/llm/gguf-engine.js"
import { serveGguf } from "../io/llm/serve.js"
import { buildTinyGguf, TINY_MODEL_NAME, writeTinyGguf } from "../io/llm/tiny-gguf.js"
import { reportErrors } from "./exit.js"
import { count } from "./format.js"

const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost", "::1"])

const positive = (flag: string, value: number, fix: string, zeroOk = false) =>
  Number.isInteger(value) && (value > 0 || (zeroOk && value === 0))
    ? Effect.void
    : Effect.fail(
        new DataError({
          where: `wb llm serve ${flag}`,
          found: String(value),
          expected: zeroOk ? "a whole number, 0 or more" : "a whole number greater than 0",
          fix
        })
      )

const serveCommand = Command.make(
  "serve",
  {
    model: Flag.String("model").pipe(Flag.withDescription("The .gguf model file to serve")),
    port: Flag.Int("port").pipe(
      Flag.withDescription("Port (default 8080; 0: a free one, printed)"),
      Flag.withDefault(8080)
    ),
    host: Flag.String("host").pipe(
      Flag.withDescription(
        "Address to bind (default 127.0.0.1); another exposes the model, unauthenticated, to the network"
      ),
      Flag.withDefault("127.0.0.1")
    ),
    threads: Flag.Int("threads").pipe(
      Flag.withDescription("CPU threads (default: the machine's cores; 1 is fastest for tiny models)"),
      Flag.optional
    ),
    parallel: Flag.Int("parallel").pipe(
      Flag.withDescription("Requests generated at once, as sequences of one context (default 4)"),
      Flag.withDefault(4)
    ),
    contextSize: Flag.Int("context-size").pipe(
      Flag.withDescription("Tokens per request, prompt and answer (default: the model's, at most 4096)"),
      Flag.withDefault(0)
    ),
    gpu: Flag.Boolean("gpu").pipe(
      Flag.withDescription("Use CUDA/Vulkan/Metal when present (default: CPU, the same numbers everywhere)"),
      Flag.withDefault(false)
    ),
    quiet: Flag.Boolean("quiet").pipe(Flag.withDescription("No line per request"), Flag.withDefault(false))
  },
  (args) =>
    Effect.gen(function* () {
      const threads = Option.getOrElse(args.threads, () => availableParallelism())
      yield* positive("--threads", threads, "pass --threads 1 or more (at most the machine's cores)")
      yield* positive("--parallel", args.parallel, "pass --parallel 1 or more")
      yield* positive("--context-size", args.contextSize, "pass --context-size 2048, or 0 for the model's", true)
      if (args.port < 0 || args.port > 65535) yield* positive("--port", -1, "pass a port 1-65535, or 0 for a free one")
      const modelPath = resolve(args.model)
      const where = `wb llm serve --model ${args.model}`
      if (!LOCAL_HOSTS.has(args.host)) {
        yield* Console.error(
          `warning: --host ${args.host}: the server has no authentication; anyone who can reach this address can use the model`
        )
      }
      yield* Effect.scoped(
        Effect.gen(function* () {
          const engine = yield* openGgufEngine(
            {
              modelPath,
              threads,
              contextSize: args.contextSize,
              sequences: args.parallel,
              gpu: args.gpu ? "auto" : false,
              usedBy: "wb llm serve",
              log: (level, text) => process.stderr.write(`llama.cpp ${level}: ${text.trim()}\n`)
            },
            where
          )
          const server = yield* serveGguf(engine, {
            host: args.host,
            port: args.port,
            log: args.quiet ? undefined : (line) => process.stdout.write(`${line}\n`)
          })
          yield* Console.log(
            `wb llm serve: ${server.url}/v1 · model ${engine.modelName} (${engine.fileName}) · ` +
              `${threads} thread${threads === 1 ? "" : "s"} · ${args.parallel} parallel · context ${count(engine.contextSize)} tokens\n` +
              `  OpenAI-compatible: POST ${server.url}/v1/chat/completions, POST ${server.url}/v1/embeddings; Ctrl+C stops it`
          )
          return yield* Effect.never
        })
      ).pipe(Effect.onInterrupt(() => Console.log("wb llm serve: stopped")))
    }).pipe(reportErrors)
).pipe(Command.withDescription("Serve a GGUF model as an OpenAI-compatible API on 127.0.0.1 (node-llama-cpp)"))

const tinyModelCommand = Command.make(
  "tiny-model",
  {
    path: Argument.String("path").pipe(Argument.withDescription("Where to write the .gguf file")),
    seed: Flag.Int("seed").pipe(Flag.withDescription("Seed of the random weights (default 42)"), Flag.withDefault(42)),
    contextLength: Flag.Int("context-length").pipe(
      Flag.withDescription("The context the model declares, in tokens (default 512; judge prompts need ~2048)"),
      Flag.withDefault(512)
    ),
    force: Flag.Boolean("force").pipe(
      Flag.withDescription("Replace a different existing file"),
      Flag.withDefault(false)
    )
  },
  (args) =>
    Effect.gen(function* () {
      const path = resolve(args.path)
      const options = { seed: args.seed, contextLength: args.contextLength }
      if (!Number.isInteger(args.contextLength) || args.contextLength < 16) {
        return yield* new DataError({
          where: "wb llm tiny-model --context-length",
          found: String(args.contextLength),
          expected: "a whole number of tokens, 16 or more",
          fix: "pass --context-length 2048 (or leave it out for 512)"
        })
      }
      // never replace a user's real model by accident; the same tiny model again changes nothing
      if (existsSync(path) && !args.force && !readFileSync(path).equals(buildTinyGguf(options))) {
        return yield* new DataError({
          where: `wb llm tiny-model ${args.path}`,
          found: "a different file is already there",
          expected: "a new path, or the same tiny model",
          fix: `choose another path, or pass --force to replace it: wb llm tiny-model ${args.path} --seed ${args.seed} --context-length ${args.contextLength} --force`
        })
      }
      const bytes = writeTinyGguf(path, options)
      yield* Console.log(
        `wrote ${args.path}: ${count(bytes)} bytes, ${TINY_MODEL_NAME} (seed ${args.seed}, context ${count(args.contextLength)}): ` +
          "random weights, for offline tests of the judge path, not for labels"
      )
    }).pipe(reportErrors)
).pipe(Command.withDescription("Write a tiny random-weight GGUF model (158 KB) for offline tests"))

export const llmCommand = Command.make("llm").pipe(
  Command.withDescription("Local language models: serve a GGUF file as an OpenAI-compatible API, write a test model"),
  Command.withSubcommands([serveCommand, tinyModelCommand])
)
