/**
 * The built UI, and nothing else, as static files: the path is decoded once (a malformed escape is a
 * 404), must hold no NUL or backslash, and must resolve inside the UI folder; anything else is a 404,
 * whatever the encoding (`..%2f`, `%2e%2e`, `%252e`, overlong UTF-8 …), and so is any path that is not
 * a file of the UI (it routes by the location hash). Before the UI is built, a placeholder page says how.
 */
import { existsSync, readFileSync, realpathSync, statSync } from "node:fs"
import { extname, join, resolve, sep } from "node:path"
import { fileURLToPath } from "node:url"

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".map": "application/json"
}

/** The UI build: workbench/ui/dist in a source checkout, dist/ui in the installed package. */
export function defaultUiDir(): string {
  const here = fileURLToPath(new URL(".", import.meta.url))
  const candidates = [resolve(here, "../ui/dist"), resolve(here, "../../ui"), resolve(here, "../../dist/ui")]
  return candidates.find((d) => existsSync(join(d, "index.html"))) ?? candidates[0]!
}

export const PLACEHOLDER = `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>wb serve</title></head><body><h1>wb serve</h1><p>The browser UI is not built yet
(<code>workbench/ui/dist</code> is missing). Build it with <code>npm run build</code>; the API under
<code>/api/</code> works already (see workbench/server/API.md).</p></body></html>`

export type StaticReply =
  | { readonly _tag: "file"; readonly body: Uint8Array; readonly type: string }
  | { readonly _tag: "notFound" }

export function staticFile(uiDir: string, rawPath: string): StaticReply {
  let path: string
  try {
    path = decodeURIComponent(rawPath)
  } catch {
    return { _tag: "notFound" }
  }
  if (path.includes("\0") || path.includes("\\") || path.split("/").some((s) => s === ".." || s === "."))
    return { _tag: "notFound" }
  if (!existsSync(join(uiDir, "index.html"))) {
    return path === "/" || path === "/index.html"
      ? { _tag: "file", body: new TextEncoder().encode(PLACEHOLDER), type: TYPES[".html"]! }
      : { _tag: "notFound" }
  }
  const root = realpathSync(uiDir)
  let file = resolve(root, `.${path}`)
  if (file !== root && !file.startsWith(root + sep)) return { _tag: "notFound" }
  if (path.endsWith("/")) file = join(file, "index.html")
  // no fallback to index.html for unknown paths: the UI routes by the location hash, so any other
  // path is a 404 (and a traversal attempt never gets a 200 page back)
  const st = statSync(file, { throwIfNoEntry: false })
  if (st === undefined || !st.isFile()) return { _tag: "notFound" }
  // a symlink inside the UI folder must not lead outside it
  const real = realpathSync(file)
  if (!real.startsWith(root + sep)) return { _tag: "notFound" }
  return { _tag: "file", body: readFileSync(real), type: TYPES[extname(real)] ?? "application/octet-stream" }
}
