/**
 * Removes secrets (the API key, credentials written in a base URL) from text that reaches users or
 * disk: failure reasons, raw response bodies (a server or proxy may echo the request's headers back).
 */

export type Scrub = (text: string) => string

export function makeScrub(secrets: ReadonlyArray<string>): Scrub {
  // longest first, so a secret that contains another is removed whole
  const list = [...new Set(secrets.filter((s) => s.length > 0))].sort((a, b) => b.length - a.length)
  if (list.length === 0) return (text) => text
  return (text) => {
    let out = text
    for (const s of list) if (out.includes(s)) out = out.split(s).join("[redacted]")
    return out
  }
}
