/**
 * `wb serve`: the browser workbench's HTTP server, on effect/http and @effect/platform-node. Bound to
 * 127.0.0.1 unless told otherwise; every request passes guard.ts (Host, Origin, token); `/api/` goes
 * to routes.ts, everything else to the built UI (static-files.ts). Artifacts are reachable only
 * through the API, never by path.
 */
import { randomBytes } from "node:crypto"
import { createServer } from "node:http"
import { join, resolve } from "node:path"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Effect, Exit, Layer, Scope } from "effect"
import { HttpRouter, HttpServer, HttpServerRequest, HttpServerResponse } from "effect/http"
import { workspacePaths } from "../io/catalog/pipeline-context.js"
import { enablePipelineReload } from "../io/pipeline-reload.js"
import { checkRequest, CSP } from "./guard.js"
import { EventHub } from "./hub.js"
import { openLabelStore } from "./labels.js"
import { openReader } from "./reader.js"
import { apiRoute } from "./routes.js"
import { RunManager } from "./runs.js"
import type { ServerState } from "./server-state.js"
import { defaultUiDir, staticFile } from "./static-files.js"

export interface ServeOptions {
  /** The project root (its pipelines/ are served). */
  readonly root: string
  readonly port?: number
  readonly host?: string
  /** Workspace as `wb` takes it (default WB_WORKSPACE or .wb), relative to the root. */
  readonly workspace?: string
  /** Fixed token (tests); random 32 bytes otherwise. */
  readonly token?: string
  readonly uiDir?: string
  /** How often the workspace's event files are polled, ms (default 20). */
  readonly eventPollMs?: number
}

export interface RunningServer {
  readonly url: string
  readonly origin: string
  readonly port: number
  readonly token: string
  readonly close: () => Promise<void>
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  // TS pipeline files are re-imported when they (or local modules they import) change
  enablePipelineReload()
  const root = resolve(options.root)
  const workspace = options.workspace ?? (process.env["WB_WORKSPACE"] || ".wb")
  const { dir } = workspacePaths(workspace, root)
  const host = options.host ?? "127.0.0.1"
  const token = options.token ?? randomBytes(32).toString("base64url")
  const uiDir = options.uiDir ?? defaultUiDir()
  const reader = await openReader(join(dir, "artifacts"))
  const hub = new EventHub(dir, options.eventPollMs)
  const labels = await openLabelStore(dir, reader).catch((e: unknown) => {
    // e.g. another wb serve holds the labels store: nothing of this server may linger
    hub.close()
    reader.close()
    throw e
  })
  const state: ServerState = { project: { root, workspace, dir }, reader, hub, runs: new RunManager(), labels }
  let port = 0

  const handler = Effect.gen(function* () {
    const req = yield* HttpServerRequest.HttpServerRequest
    const verdict = checkRequest({ token, host, port: () => port }, req)
    if (verdict._tag === "deny") return HttpServerResponse.text(verdict.text, { status: verdict.status })
    if (verdict._tag === "login")
      return HttpServerResponse.redirect(verdict.location, { status: 302, headers: { "set-cookie": verdict.cookie } })
    const url = new URL(req.url, "http://127.0.0.1")
    // the raw path, before any normalization: traversal must reach the checks to be refused
    const rawPath = req.url.split("?")[0] ?? "/"
    const res =
      rawPath === "/api" || rawPath.startsWith("/api/")
        ? yield* apiRoute(state, req, new URL(rawPath + url.search, "http://127.0.0.1"))
        : req.method === "GET" || req.method === "HEAD"
          ? (() => {
              const f = staticFile(uiDir, rawPath)
              return f._tag === "file"
                ? HttpServerResponse.uint8Array(f.body, { contentType: f.type })
                : HttpServerResponse.text("not found", { status: 404 })
            })()
          : HttpServerResponse.text("not found", { status: 404 })
    return HttpServerResponse.setHeaders(res, {
      "content-security-policy": CSP,
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer"
    })
  })

  const app = HttpRouter.add("*", "*", handler)
  const announce = Layer.effectDiscard(
    Effect.gen(function* () {
      const { address } = yield* HttpServer.HttpServer
      if ("port" in address) port = address.port
    })
  )
  const main = HttpRouter.serve(app, { disableLogger: true, disableListenLog: true }).pipe(
    Layer.merge(announce),
    Layer.provide(NodeHttpServer.layer(createServer, { port: options.port ?? 0, host }))
  )
  const scope = Scope.makeUnsafe()
  await Effect.runPromise(Layer.buildWithScope(main, scope))
  const shown = host.includes(":") ? `[${host}]` : host
  const origin = `http://${shown}:${port}`
  return {
    url: `${origin}/?token=${token}`,
    origin,
    port,
    token,
    close: async () => {
      await Effect.runPromise(state.runs.stop())
      await Effect.runPromise(Scope.close(scope, Exit.void))
      hub.close()
      labels.close()
      reader.close()
    }
  }
}
