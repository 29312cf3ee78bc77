/**
 * An OpenAI-compatible HTTP server over one GGUF model (`wb llm serve`): `POST /v1/chat/completions`
 * (messages, temperature, max_tokens, seed, logprobs/top_logprobs, and llama.cpp's `grammar` in GBNF),
 * `POST /v1/embeddings` (input: string | string[]; unit vectors), `GET /v1/models`, `GET /health`.
 * judge.llm, or any OpenAI client, points its base URL at `<url>/v1`.
 *
 * Bound to 127.0.0.1 unless the caller names another host: the server has no authentication. A bad
 * body gets 400 `{"error":{"message"}}` naming what is wrong; a request the model cannot answer as
 * asked (prompt longer than the context, a grammar that does not parse) too. A client that hangs up
 * stops its generation.
 */
import { Effect, type Scope } from "effect"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { DataError } from "../../core/errors.js"
import { type GgufEngine, GgufRequestError } from "./gguf-engine.js"
import { decodeServeChat, decodeServeEmbeddings } from "./serve-body.js"

export interface ServeOptions {
  readonly host: string
  /** 0: a free port the system picks. */
  readonly port: number
  /** One line per request (method, path, status, milliseconds); undefined: none. */
  readonly log?: ((line: string) => void) | undefined
}

export interface RunningServer {
  /** `http://host:port` (base URLs for OpenAI clients add `/v1`). */
  readonly url: string
  readonly port: number
}

const MAX_BODY = 16 * 1024 * 1024

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message)
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Array<Buffer> = []
  let size = 0
  for await (const c of req) {
    size += (c as Buffer).length
    if (size > MAX_BODY) throw new HttpProblem(413, `the body is over ${MAX_BODY / 1024 / 1024} MB`)
    chunks.push(c as Buffer)
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"))
  } catch (e) {
    throw new HttpProblem(400, `the body is not JSON: ${(e as Error).message}`)
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return
  const text = JSON.stringify(body)
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) }).end(text)
}

export function makeHandlers(engine: GgufEngine) {
  let nextId = 1
  const chat = async (json: unknown, signal: AbortSignal) => {
    const body = decodeServeChat(json)
    if ("problem" in body) throw new HttpProblem(400, `invalid chat completion request: ${body.problem}`)
    const c = await engine.complete({
      messages: body.messages,
      temperature: body.temperature,
      maxTokens: body.maxTokens ?? engine.contextSize,
      seed: body.seed,
      topLogprobs: body.topLogprobs,
      grammar: body.grammar,
      signal
    })
    return {
      id: `chatcmpl-${nextId++}`,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: engine.modelName,
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: c.text },
          logprobs:
            c.logprobs === null
              ? null
              : {
                  // bytes: null, since a single byte token is not valid UTF-8 on its own
                  content: c.logprobs.map((t) => ({
                    token: t.token,
                    logprob: t.logprob,
                    bytes: null,
                    top_logprobs: t.top.map((x) => ({ token: x.token, logprob: x.logprob, bytes: null }))
                  }))
                },
          finish_reason: c.finish
        }
      ],
      usage: {
        prompt_tokens: c.promptTokens,
        completion_tokens: c.completionTokens,
        total_tokens: c.promptTokens + c.completionTokens
      }
    }
  }
  const embeddings = async (json: unknown) => {
    const input = decodeServeEmbeddings(json)
    if ("problem" in input) throw new HttpProblem(400, `invalid embeddings request: ${input.problem}`)
    const { vectors, tokens } = await engine.embed(input)
    return {
      object: "list",
      model: engine.modelName,
      data: vectors.map((embedding, index) => ({ object: "embedding", index, embedding })),
      usage: { prompt_tokens: tokens, total_tokens: tokens }
    }
  }
  return { chat, embeddings }
}

/** Serve `engine` until the scope closes (then in-flight generations stop and connections close). */
export const serveGguf = (
  engine: GgufEngine,
  options: ServeOptions
): Effect.Effect<RunningServer, DataError, Scope.Scope> =>
  Effect.gen(function* () {
    const handlers = makeHandlers(engine)
    const inFlight = new Set<AbortController>()
    const route = async (req: IncomingMessage, res: ServerResponse, signal: AbortSignal) => {
      const path = (req.url ?? "/").split("?")[0]!.replace(/\/+$/, "")
      if (req.method === "GET" && (path === "/health" || path === "/v1/health")) return { status: "ok" }
      if (req.method === "GET" && path === "/v1/models") {
        return { object: "list", data: [{ id: engine.modelName, object: "model", owned_by: "wb" }] }
      }
      if (req.method === "POST" && path === "/v1/chat/completions") return handlers.chat(await readJson(req), signal)
      if (req.method === "POST" && path === "/v1/embeddings") return handlers.embeddings(await readJson(req))
      res.setHeader("allow", path === "/v1/chat/completions" || path === "/v1/embeddings" ? "POST" : "GET")
      throw new HttpProblem(
        404,
        `no ${req.method} ${path}; this server has POST /v1/chat/completions, POST /v1/embeddings, GET /v1/models, GET /health`
      )
    }
    const server = createServer((req, res) => {
      const started = performance.now()
      const abort = new AbortController()
      inFlight.add(abort)
      // the client hung up before the answer: stop generating for it
      res.on("close", () => {
        if (!res.writableFinished) abort.abort()
        inFlight.delete(abort)
      })
      route(req, res, abort.signal)
        .then(
          (body) => send(res, 200, body),
          (e: unknown) => {
            const status = e instanceof HttpProblem ? e.status : e instanceof GgufRequestError ? 400 : 500
            send(res, status, { error: { message: e instanceof Error ? e.message : String(e) } })
          }
        )
        .finally(() =>
          options.log?.(`${req.method} ${req.url} ${res.statusCode} ${Math.round(performance.now() - started)} ms`)
        )
    })
    const port = yield* Effect.callback<number, DataError>((resume) => {
      const onError = (e: NodeJS.ErrnoException) =>
        resume(
          Effect.fail(
            new DataError({
              where: `wb llm serve: ${options.host}:${options.port}`,
              found: e.code === "EADDRINUSE" ? "the port is already in use" : `cannot listen: ${e.message}`,
              expected: "a free port on a local address",
              fix: "choose another --port (0 picks a free one), or stop what is listening there"
            })
          )
        )
      server.once("error", onError)
      server.listen(options.port, options.host, () => {
        server.off("error", onError)
        resume(Effect.succeed((server.address() as AddressInfo).port))
      })
    })
    yield* Effect.addFinalizer(() =>
      Effect.callback<void>((resume) => {
        for (const a of inFlight) a.abort()
        server.close(() => resume(Effect.void))
        server.closeAllConnections()
      })
    )
    const host = options.host.includes(":") ? `[${options.host}]` : options.host
    return { url: `http://${host}:${port}`, port }
  })
