/**
 * Who may talk to the server: a request must name this server as its Host (DNS rebinding: a page on
 * evil.example resolving to 127.0.0.1 sends Host: evil.example) and, when it has an Origin, come from
 * this server's origin; a cross-site fetch is refused. Then the token: `?token=` on any URL sets an
 * HttpOnly, SameSite=Strict cookie (named by port: cookies are per host, not per port) and redirects
 * to the URL without it; every other request needs the cookie or `Authorization: Bearer <token>`.
 */
import { timingSafeEqual } from "node:crypto"

export interface GuardConfig {
  readonly token: string
  readonly host: string
  readonly port: () => number
}

export type GuardVerdict =
  | { readonly _tag: "ok" }
  | { readonly _tag: "deny"; readonly status: 401 | 403; readonly text: string }
  | { readonly _tag: "login"; readonly location: string; readonly cookie: string }

const same = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b))

export const cookieName = (port: number) => `wb_token_${port}`

function allowedHosts(c: GuardConfig): Set<string> {
  const p = c.port()
  const names = new Set(["127.0.0.1", "localhost", "[::1]", c.host.includes(":") ? `[${c.host}]` : c.host])
  return new Set([...names].map((n) => `${n}:${p}`))
}

export function checkRequest(
  c: GuardConfig,
  req: {
    readonly url: string
    readonly headers: Readonly<Record<string, string | undefined>>
    readonly cookies: Readonly<Record<string, string>>
  }
): GuardVerdict {
  const hosts = allowedHosts(c)
  const host = req.headers["host"] ?? ""
  if (!hosts.has(host)) return { _tag: "deny", status: 403, text: `forbidden: Host "${host}" is not this server` }
  const origin = req.headers["origin"]
  if (origin !== undefined && ![...hosts].some((h) => origin === `http://${h}`))
    return { _tag: "deny", status: 403, text: `forbidden: Origin "${origin}" is not this server` }
  if (req.headers["sec-fetch-site"] === "cross-site")
    return { _tag: "deny", status: 403, text: "forbidden: cross-site request" }
  const url = new URL(req.url, `http://${host}`)
  const given = url.searchParams.get("token")
  if (given !== null && same(given, c.token)) {
    url.searchParams.delete("token")
    return {
      _tag: "login",
      location: url.pathname + url.search,
      cookie: `${cookieName(c.port())}=${c.token}; HttpOnly; SameSite=Strict; Path=/`
    }
  }
  const auth = req.headers["authorization"] ?? ""
  const ok =
    (auth.startsWith("Bearer ") && same(auth.slice(7), c.token)) ||
    same(req.cookies[cookieName(c.port())] ?? "", c.token)
  return ok
    ? { _tag: "ok" }
    : { _tag: "deny", status: 401, text: "unauthorized: open the URL wb serve printed (it carries the token)" }
}

/**
 * The CSP the UI needs (browser-workbench guide §6): arquero compiles verbs with Function() ('unsafe-eval'),
 * Plot injects a <style> per chart ('unsafe-inline' styles); everything else from this origin only.
 */
export const CSP =
  "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
