/**
 * A real, fault-injecting OpenAI chat-completions server for tests, on 127.0.0.1 (a free port).
 *
 *   const server = await startFakeOpenAi({ script: [{ status: 429, retryAfter: "1" }, { answer: "2" }] })
 *   // config: { provider: "openai", baseUrls: [server.baseUrl], ... }   (baseUrl ends in /v1)
 *   server.requests            // every request that arrived, in order (FakeRequest), live
 *   server.maxOutstanding      // the most requests it held at once
 *   await server.close()
 *
 * `POST <baseUrl>/chat/completions` (any path works) answers with a chat completion. What each request
 * gets comes from `script`:
 *   - an array: reply i for request i (0-based, in arrival order); past its end, the default answer;
 *   - a function of the request (`(r) => r.prompt.includes("x") ? { status: 500 } : { answer: "1" }`),
 *     sync or async.
 * Replies (`FakeReply`):
 *   { answer: "1", logprobs?, usage?, delayMs? }   200 chat completion; `logprobs` per token (default when
 *                                                  the request asked for logprobs: one token, the answer,
 *                                                  logprob -0.1, plus "1"/"2"/"A"/"B" alternatives);
 *                                                  `usage: null` leaves usage out
 *   { status: 500, body?, retryAfter?, delayMs? }  that status; `body` may be a function of the request
 *                                                  (e.g. echo its Authorization header)
 *   { malformed: true }                            200 with a body that is not JSON
 *   { reset: true }                                the connection is destroyed without an answer
 *   { hang: true }                                 never answers (until the client gives up or close())
 * The default answer is `options.answer(request)` or "1". `delayMs` delays the reply (slow beyond a
 * client's timeout: `{ answer: "1", delayMs: 5000 }`).
 *
 * `deadBaseUrl()` gives a base URL on a port where nothing listens (a pool server that is down).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo, Socket } from "node:net"

export interface FakeLogprob {
  readonly token: string
  readonly logprob: number
  readonly top?: ReadonlyArray<{ readonly token: string; readonly logprob: number }>
}

export type FakeReply =
  | {
      readonly answer: string
      readonly logprobs?: ReadonlyArray<FakeLogprob>
      readonly usage?: { readonly prompt_tokens: number; readonly completion_tokens: number } | null
      readonly delayMs?: number
    }
  | {
      readonly status: number
      readonly body?: string | ((request: FakeRequest) => string)
      readonly retryAfter?: string
      readonly delayMs?: number
    }
  | { readonly malformed: true }
  | { readonly reset: true }
  | { readonly hang: true }

export interface FakeRequest {
  /** 0-based arrival order on this server. */
  readonly index: number
  readonly path: string
  /** The parsed JSON body (model, messages, temperature, max_tokens, seed, logprobs, top_logprobs, grammar…), or null. */
  readonly body: Record<string, unknown> | null
  /** The Authorization header as received, or undefined. */
  readonly authorization: string | undefined
  /** Date.now() at arrival. */
  readonly at: number
  /** The last message's content ("" when none). */
  readonly prompt: string
}

export type FakeScript = ReadonlyArray<FakeReply> | ((request: FakeRequest) => FakeReply | Promise<FakeReply>)

export interface FakeServerOptions {
  readonly script?: FakeScript
  readonly answer?: (request: FakeRequest) => string
}

export interface FakeServer {
  /** `http://127.0.0.1:<port>/v1` */
  readonly baseUrl: string
  readonly port: number
  readonly requests: Array<FakeRequest>
  /** Requests being handled now. */
  readonly outstanding: () => number
  readonly maxOutstanding: number
  readonly close: () => Promise<void>
}

const defaultLogprobs = (answer: string, top: number): Array<FakeLogprob> => {
  const others = ["1", "2", "A", "B"].filter((t) => t !== answer)
  const alternatives = [{ token: answer, logprob: -0.1 }, ...others.map((token, i) => ({ token, logprob: -2.4 - i }))]
  return [{ token: answer, logprob: -0.1, top: alternatives.slice(0, Math.max(1, top)) }]
}

const completion = (request: FakeRequest, reply: Extract<FakeReply, { answer: string }>) => {
  const asked = request.body?.["logprobs"] === true
  const top = typeof request.body?.["top_logprobs"] === "number" ? (request.body["top_logprobs"] as number) : 0
  const tokens = reply.logprobs ?? (asked ? defaultLogprobs(reply.answer, top) : null)
  const usage =
    reply.usage === null
      ? undefined
      : (reply.usage ?? {
          prompt_tokens: Math.ceil(JSON.stringify(request.body?.["messages"] ?? "").length / 4),
          completion_tokens: Math.max(1, Math.ceil(reply.answer.length / 4))
        })
  return {
    id: `chatcmpl-${request.index}`,
    object: "chat.completion",
    created: Math.floor(request.at / 1000),
    model: String(request.body?.["model"] ?? "fake"),
    choices: [
      {
        index: 0,
        message: { role: "assistant", content: reply.answer },
        logprobs:
          tokens === null
            ? null
            : {
                content: tokens.map((t) => ({
                  token: t.token,
                  logprob: t.logprob,
                  bytes: null,
                  top_logprobs: (t.top ?? [{ token: t.token, logprob: t.logprob }]).map((x) => ({ ...x, bytes: null }))
                }))
              },
        finish_reason: "stop"
      }
    ],
    ...(usage === undefined ? {} : { usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } })
  }
}

export async function startFakeOpenAi(options: FakeServerOptions = {}): Promise<FakeServer> {
  const requests: Array<FakeRequest> = []
  const sockets = new Set<Socket>()
  let outstanding = 0
  let maxOutstanding = 0

  const replyFor = async (request: FakeRequest): Promise<FakeReply> => {
    const script = options.script
    if (typeof script === "function") return script(request)
    const scripted = script?.[request.index]
    return scripted ?? { answer: options.answer?.(request) ?? "1" }
  }

  const handle = async (req: IncomingMessage, res: ServerResponse, raw: string) => {
    let body: Record<string, unknown> | null = null
    try {
      body = JSON.parse(raw) as Record<string, unknown>
    } catch {
      body = null
    }
    const messages = Array.isArray(body?.["messages"]) ? (body["messages"] as Array<{ content?: unknown }>) : []
    const request: FakeRequest = {
      index: requests.length,
      path: req.url ?? "",
      body,
      authorization: req.headers.authorization,
      at: Date.now(),
      prompt: String(messages.at(-1)?.content ?? "")
    }
    requests.push(request)
    const reply = await replyFor(request)
    if ("hang" in reply) return
    if ("reset" in reply) return void req.socket.destroy()
    if ("delayMs" in reply && reply.delayMs !== undefined) await new Promise((r) => setTimeout(r, reply.delayMs))
    if (res.destroyed) return
    if ("malformed" in reply) {
      res.writeHead(200, { "content-type": "application/json" })
      return void res.end('{"choices": [{"message": {"content": "1"')
    }
    if ("status" in reply) {
      const text =
        typeof reply.body === "function"
          ? reply.body(request)
          : (reply.body ?? `{"error":{"message":"status ${reply.status}"}}`)
      res.writeHead(reply.status, {
        "content-type": "application/json",
        ...(reply.retryAfter === undefined ? {} : { "retry-after": reply.retryAfter })
      })
      return void res.end(text)
    }
    res.writeHead(200, { "content-type": "application/json" })
    res.end(JSON.stringify(completion(request, reply)))
  }

  const server = createServer((req, res) => {
    outstanding++
    maxOutstanding = Math.max(maxOutstanding, outstanding)
    let done = false
    const finish = () => {
      if (!done) {
        done = true
        outstanding--
      }
    }
    res.on("close", finish)
    let raw = ""
    req.setEncoding("utf8")
    req.on("data", (chunk: string) => (raw += chunk))
    req.on("end", () => {
      handle(req, res, raw).catch((e: unknown) => {
        if (!res.headersSent) res.writeHead(500).end(String(e))
      })
    })
  })
  server.on("connection", (socket) => {
    sockets.add(socket)
    socket.on("close", () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    port,
    requests,
    outstanding: () => outstanding,
    get maxOutstanding() {
      return maxOutstanding
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      })
  }
}

/** A base URL where nothing listens: a port that was free a moment ago. */
export async function deadBaseUrl(): Promise<string> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return `http://127.0.0.1:${port}/v1`
}
