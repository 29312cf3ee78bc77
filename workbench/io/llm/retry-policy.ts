/**
 * When a failed request is tried again, and after how long: exponential backoff with full jitter (a
 * random delay in [0, min(cap, base·2^attempt)], which spreads a crowd of clients that all failed at
 * once), or the server's own `Retry-After` when it sent one.
 */

/** What one try ended with, as the retry policy sees it. */
export type AttemptResult =
  | { readonly _tag: "Ok" }
  /** An HTTP status other than 2xx. */
  | { readonly _tag: "Status"; readonly status: number; readonly retryAfterMs: number | null }
  | { readonly _tag: "Timeout" }
  /** Connection refused, reset, DNS: nothing came back. */
  | { readonly _tag: "Connection" }
  /** A 2xx whose body is not a chat completion. */
  | { readonly _tag: "Unparseable" }

/** 408 Request Timeout and 429 Too Many Requests and 5xx are worth another try; other 4xx are not. */
export function isRetryable(result: AttemptResult): boolean {
  switch (result._tag) {
    case "Ok":
      return false
    case "Status":
      return result.status === 408 || result.status === 429 || result.status >= 500
    default:
      return true
  }
}

/** Whether a result says the server itself is unwell (counted towards resting it), not the request. */
export function isServerFault(result: AttemptResult): boolean {
  return result._tag === "Timeout" || result._tag === "Connection" || (result._tag === "Status" && result.status >= 500)
}

/**
 * `Retry-After` as milliseconds from `now`: delay-seconds ("120") or an HTTP date. Null when absent
 * or unreadable (the backoff applies then).
 */
export function parseRetryAfter(header: string | undefined, now: number): number | null {
  if (header === undefined) return null
  const text = header.trim()
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000)
  const at = Date.parse(text)
  return Number.isNaN(at) ? null : Math.max(0, at - now)
}

/** Full-jitter backoff before retry number `retry` (1 for the first retry). */
export function backoffMs(retry: number, baseMs: number, capMs: number, random: () => number): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** (retry - 1))
  return Math.floor(random() * ceiling)
}
