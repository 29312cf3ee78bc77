/**
 * A base URL as the client uses it: the URL requests go to (credentials taken out, since fetch refuses
 * URLs that carry them), the credentials as a Basic Authorization header, and the form shown to users
 * (in outcomes, events, logs), which never carries credentials.
 */

export interface ServerAddress {
  /** Where chat requests go: `<base>/chat/completions` (plus the base URL's query); no credentials. */
  readonly endpoint: string
  /** Where embedding requests go: `<base>/embeddings` (plus the base URL's query). */
  readonly embeddings: string
  /** What users see: the URL without credentials, query or fragment. */
  readonly display: string
  /** `Basic …` from `http://user:pass@host`, or null. */
  readonly basicAuth: string | null
  /** The credentials as written and as decoded, so they can be scrubbed from any text. */
  readonly secrets: ReadonlyArray<string>
}

/** Parse one base URL; a string result says what is wrong with it, in user words. */
export function parseServerAddress(raw: string): ServerAddress | string {
  let url: URL
  try {
    url = new URL(raw.trim())
  } catch {
    return "is not a URL"
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    return `uses ${url.protocol.replace(/:$/, "")}, not http or https`
  const secrets: Array<string> = []
  let basicAuth: string | null = null
  if (url.username !== "" || url.password !== "") {
    const user = decodeURIComponent(url.username)
    const pass = decodeURIComponent(url.password)
    basicAuth = `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`
    secrets.push(url.username, url.password, user, pass, basicAuth.slice("Basic ".length))
    url.username = ""
    url.password = ""
  }
  url.hash = ""
  const query = url.search
  url.search = ""
  const base = url.toString().replace(/\/+$/, "")
  return {
    endpoint: `${base}/chat/completions${query}`,
    embeddings: `${base}/embeddings${query}`,
    display: base,
    basicAuth,
    secrets: [...new Set(secrets.filter((s) => s !== ""))]
  }
}

/** A URL as shown to users when it could not be parsed: at most its scheme and host-looking part, no credentials. */
export function displayUnparsed(raw: string): string {
  return raw.replace(/\/\/[^/@]*@/, "//").slice(0, 200)
}
