/**
 * One try of one chat request against one server: the POST, the per-request timeout, and what came
 * back, classified for the retry policy and described in user words. Never fails.
 */
import { Cause, Effect } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"
import { type DecodedAnswer, decodeChatBody } from "./chat-wire.js"
import { type AttemptResult, parseRetryAfter } from "./retry-policy.js"
import type { Scrub } from "./scrub.js"
import type { ServerAddress } from "./server-address.js"

export interface AttemptOutcome<A = DecodedAnswer> {
  readonly result: AttemptResult
  /** The answer, when `result` is Ok. */
  readonly answer: A | null
  /** What went wrong, in user words ("HTTP 503 from http://h:8000/v1"); empty when Ok. */
  readonly problem: string
  readonly status: number | null
  /** The body (scrubbed of secrets, trimmed), when there was one and it was not an answer. */
  readonly raw: string | null
}

const RAW_LIMIT = 4096

/** Secrets out first, then trimmed: trimming first could cut a key in half and let its start through. */
export const trimRaw = (text: string, scrub: Scrub) => {
  const clean = scrub(text)
  return clean.length > RAW_LIMIT ? `${clean.slice(0, RAW_LIMIT)}… (${clean.length} characters)` : clean
}

/** The innermost cause's code or message: fetch says "fetch failed", its cause says why. */
const rootCause = (error: unknown): { code: string | undefined; message: string } => {
  let e: unknown = error
  for (let i = 0; i < 5 && typeof e === "object" && e !== null && "cause" in e && e.cause !== undefined; i++)
    e = e.cause
  const code = typeof e === "object" && e !== null && "code" in e ? String(e.code) : undefined
  return { code, message: e instanceof Error ? e.message : String(e) }
}

const connectionProblem = (error: unknown, server: string) => {
  const { code, message } = rootCause(error)
  if (code === "ECONNREFUSED") return `connection refused by ${server} (is the server running?)`
  if (code === "ECONNRESET" || code === "UND_ERR_SOCKET" || /other side closed|socket hang up/i.test(message)) {
    return `connection reset by ${server} before it answered`
  }
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return `host of ${server} not found (check the base URL)`
  return `could not reach ${server} (${code ?? message})`
}

const statusHint = (status: number) => {
  if (status === 401 || status === 403)
    return ": the server refused the credentials (check the API key's environment variable)"
  if (status === 404) return ": not found (check the base URL, which usually ends in /v1, and the model name)"
  if (status === 429) return ": too many requests"
  if (status === 400 || status === 422) return ": the server rejected the request"
  return ""
}

export const attemptChat = (
  http: HttpClient.HttpClient,
  address: ServerAddress,
  headers: Readonly<Record<string, string>>,
  body: string,
  timeoutMs: number,
  scrub: Scrub
): Effect.Effect<AttemptOutcome> =>
  attemptPost(http, address.endpoint, address.display, headers, body, timeoutMs, scrub, decodeChatBody)

/** One POST of a JSON body to `url`, its 2xx body decoded by `decode` (chat completions, embeddings). */
export const attemptPost = <A>(
  http: HttpClient.HttpClient,
  url: string,
  server: string,
  headers: Readonly<Record<string, string>>,
  body: string,
  timeoutMs: number,
  scrub: Scrub,
  decode: (text: string) => A | { readonly problem: string }
): Effect.Effect<AttemptOutcome<A>> => {
  const request = HttpClientRequest.post(url).pipe(
    HttpClientRequest.setHeaders(headers),
    HttpClientRequest.bodyText(body, "application/json")
  )
  return http.execute(request).pipe(
    Effect.flatMap((res) =>
      Effect.map(res.text, (text) => ({ status: res.status, retryAfter: res.headers["retry-after"], text }))
    ),
    Effect.timeout(timeoutMs),
    // no tracing spans or traceparent headers: nothing to trace into, and no reason to tell servers
    Effect.provideService(HttpClient.TracerDisabledWhen, () => true),
    Effect.match({
      onFailure: (error): AttemptOutcome<A> =>
        Cause.isTimeoutError(error)
          ? {
              result: { _tag: "Timeout" },
              answer: null,
              problem: `no answer from ${server} within ${timeoutMs / 1000} s (timeoutMs ${timeoutMs})`,
              status: null,
              raw: null
            }
          : {
              result: { _tag: "Connection" },
              answer: null,
              problem: scrub(connectionProblem(error, server)),
              status: null,
              raw: null
            },
      onSuccess: ({ status, retryAfter, text }): AttemptOutcome<A> => {
        if (status < 200 || status > 299) {
          return {
            result: { _tag: "Status", status, retryAfterMs: parseRetryAfter(retryAfter, Date.now()) },
            answer: null,
            problem: `HTTP ${status} from ${server}${statusHint(status)}`,
            status,
            raw: text === "" ? null : trimRaw(text, scrub)
          }
        }
        const decoded = decode(text)
        if (typeof decoded === "object" && decoded !== null && "problem" in decoded) {
          return {
            result: { _tag: "Unparseable" },
            answer: null,
            problem: `${decoded.problem} (from ${server})`,
            status,
            raw: trimRaw(text, scrub)
          }
        }
        return { result: { _tag: "Ok" }, answer: decoded as A, problem: "", status, raw: null }
      }
    })
  )
}
