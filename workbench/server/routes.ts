/**
 * The `/api/` routes (API.md documents each). The path is split on "/" and each segment decoded once;
 * pipeline ids, node, table and view names are then looked up among those that exist, so traversal in
 * any encoding is a plain 404. Replies are JSON, Arrow IPC (`application/vnd.apache.arrow.stream`) for
 * rows and views, and an SSE stream for events.
 */
import { Effect, Stream } from "effect"
import { type HttpServerRequest, HttpServerResponse } from "effect/http"
import type { IpcResult } from "./arrow-ipc.js"
import type { ServerState } from "./server-state.js"
import { graphJson } from "./graph.js"
import { sseBody } from "./hub.js"
import { editParam, saveSqlNode } from "./edits.js"
import { badRequest, findPipeline, findTable, HttpProblem, listPipelines, notFound, openOrProblem } from "./project.js"
import { viewSql } from "./reader.js"
import { runSqlCell, SQL_MAX_ROWS, SQL_TIMEOUT_S } from "./sql-cell.js"
import { page, parsePage, summary } from "./tables.js"

export const ARROW = "application/vnd.apache.arrow.stream"

const json = (body: unknown, status = 200) =>
  HttpServerResponse.jsonUnsafe(body, { status, headers: { "cache-control": "no-store" } })

export const problemResponse = (p: HttpProblem) => json(p.body, p.status)

const arrow = (r: IpcResult | { bytes: Uint8Array }, headers: Record<string, string> = {}) =>
  HttpServerResponse.uint8Array(r.bytes, {
    contentType: ARROW,
    headers: {
      "cache-control": "no-store",
      ...("queryMs" in r
        ? {
            "server-timing": `query;dur=${r.queryMs.toFixed(1)}, encode;dur=${r.encodeMs.toFixed(1)}`,
            "x-wb-rows": String(r.rows)
          }
        : {}),
      ...headers
    }
  })

/** The path's segments, each decoded once; undefined when an escape is malformed. */
export function segments(rawPath: string): Array<string> | undefined {
  try {
    return rawPath
      .split("/")
      .slice(1)
      .map((s) => decodeURIComponent(s))
  } catch {
    return undefined
  }
}

const body = (req: HttpServerRequest.HttpServerRequest) =>
  req.json.pipe(
    Effect.mapError(() =>
      badRequest("body", "not JSON", "a JSON object", "send Content-Type: application/json with a JSON body")
    ),
    Effect.flatMap((b) =>
      b !== null && typeof b === "object" && !Array.isArray(b)
        ? Effect.succeed(b as Record<string, unknown>)
        : Effect.fail(badRequest("body", JSON.stringify(b), "a JSON object", "send a JSON object"))
    )
  )

const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined)

export const apiRoute = (state: ServerState, req: HttpServerRequest.HttpServerRequest, url: URL) =>
  Effect.gen(function* () {
    const seg = segments(url.pathname)
    if (seg === undefined) return yield* Effect.fail(notFound("a malformed path"))
    const [, p, id, ...rest] = seg // "api", …
    const method = req.method
    const route = rest.join("/")
    const { project } = state
    if (p === "events" && id === undefined && method === "GET") {
      const signal = { closed: false }
      const body = Stream.fromAsyncIterable(
        sseBody(state.hub, url.searchParams.get("replay") !== "0", signal),
        (e) => e
      ).pipe(Stream.ensuring(Effect.sync(() => (signal.closed = true))))
      return HttpServerResponse.stream(body, {
        contentType: "text/event-stream",
        headers: { "cache-control": "no-cache, no-transform", "x-accel-buffering": "no" }
      })
    }
    if (p === "sql" && id === undefined && method === "POST") {
      const b = yield* body(req)
      const { ctx } = yield* openOrProblem(project, str(b["pipeline"]) ?? "")
      const sql = str(b["sql"])
      if (sql === undefined)
        return yield* Effect.fail(
          badRequest("sql", "no query", "one SELECT", 'send { "pipeline": id, "sql": "select …" }')
        )
      const maxRows = Math.min(100_000, Math.max(1, Number(b["maxRows"] ?? SQL_MAX_ROWS) || SQL_MAX_ROWS))
      const timeoutSeconds = Math.min(600, Math.max(0.1, Number(b["timeout"] ?? SQL_TIMEOUT_S) || SQL_TIMEOUT_S))
      const r = yield* runSqlCell(ctx, sql, { maxRows, timeoutSeconds, reader: state.reader })
      return arrow(r, {
        "x-wb-rows": String(r.rows),
        "x-wb-truncated": String(r.truncated),
        "server-timing": `sql;dur=${r.ms.toFixed(1)}`
      })
    }
    if (p !== "pipelines") return yield* Effect.fail(notFound(`no route ${method} ${url.pathname}`))
    if (id === undefined && method === "GET")
      return json({
        root: project.root,
        workspace: project.dir,
        pipelines: listPipelines(project.root).map(({ id, format }) => ({ id, format }))
      })
    if (id === undefined) return yield* Effect.fail(notFound(`no route ${method} ${url.pathname}`))
    const entry = findPipeline(project, id)
    if (entry instanceof HttpProblem) return yield* Effect.fail(entry)
    const { ctx } = yield* openOrProblem(project, id)
    if (route === "graph" && method === "GET") return json(graphJson(id, ctx, state.hub))
    if (rest[0] === "nodes" && rest.length === 5 && rest[2] === "tables" && method === "GET") {
      const t = findTable(ctx, rest[1]!, rest[3]!)
      if (t instanceof HttpProblem) return yield* Effect.fail(t)
      if (rest[4] === "rows") {
        const q = parsePage(url.searchParams)
        if (q instanceof HttpProblem) return yield* Effect.fail(q)
        const r = yield* page(state.reader, t.file, q, `${t.node.name}.${t.table}`)
        return arrow(r.ipc, {
          ...(r.next === undefined ? {} : { "x-wb-next": r.next }),
          "x-wb-total": String(r.total ?? t.manifest.tables[t.table]!.rows)
        })
      }
      if (rest[4] === "summary") {
        const bins = Number(url.searchParams.get("bins") ?? 20)
        return json(
          yield* summary(
            state.reader,
            t.file,
            url.searchParams.get("column") ?? undefined,
            Number.isFinite(bins) ? bins : 20
          )
        )
      }
    }
    if (rest[0] === "nodes" && rest.length === 4 && rest[2] === "views" && method === "GET") {
      const node = ctx.graph.nodes.find((n) => n.name === rest[1])
      if (node === undefined)
        return yield* Effect.fail(
          notFound(
            `no node "${rest[1]}"`,
            ctx.graph.nodes.map((n) => n.name)
          )
        )
      const views = node.definition.views ?? []
      const view = views.find((v) => v.name === rest[3])
      if (view === undefined)
        return yield* Effect.fail(
          notFound(
            `node "${node.name}" has no view "${rest[3]}"`,
            views.map((v) => v.name)
          )
        )
      const t = findTable(ctx, node.name, view.table)
      if (t instanceof HttpProblem) return yield* Effect.fail(t)
      return arrow(yield* state.reader.ipc(viewSql(view, t.file)), { "x-wb-view-kind": view.kind })
    }
    if (route === "run" && method === "POST") {
      const b = yield* body(req)
      const runId = yield* state.runs.start(ctx, id, { from: str(b["from"]), only: str(b["only"]) })
      return json({ runId, started: true }, 202)
    }
    if (route === "params" && method === "POST") return json(yield* editParam(project, entry, yield* body(req)))
    if (route === "sql-node" && method === "POST") {
      const saved = yield* saveSqlNode(project, entry, yield* body(req))
      // a TS pipeline gets the line to paste: nothing was created
      return json(saved, saved.saved === null ? 200 : 201)
    }
    if (rest[0] === "label") return yield* labelRoute(state, req, url, ctx, id, rest.slice(1).join("/"), method)
    return yield* Effect.fail(notFound(`no route ${method} ${url.pathname}`))
  }).pipe(
    Effect.catch((e: unknown) =>
      Effect.succeed(
        e instanceof HttpProblem
          ? problemResponse(e)
          : problemResponse(
              new HttpProblem(500, { error: "internal", message: String((e as { message?: unknown }).message ?? e) })
            )
      )
    )
  )

const labelRoute = (
  state: ServerState,
  req: HttpServerRequest.HttpServerRequest,
  url: URL,
  ctx: Parameters<typeof findTable>[0],
  id: string,
  sub: string,
  method: string
) =>
  Effect.gen(function* () {
    const fromQuery = method === "GET"
    const b: Record<string, unknown> = fromQuery ? Object.fromEntries(url.searchParams) : yield* body(req)
    const node = str(b["node"]),
      table = str(b["table"]) ?? "main",
      user = str(b["user"])
    if (node === undefined || user === undefined)
      return yield* Effect.fail(
        badRequest(
          "label",
          JSON.stringify({ node, user }),
          "node, table (default: its main table) and user",
          "say which node's pairs to label and who labels"
        )
      )
    const t = findTable(ctx, node, table)
    if (t instanceof HttpProblem) return yield* Effect.fail(t)
    const cols = t.manifest.tables[t.table]!.columns.map((c) => c.name)
    const missing = ["pair_id", "prompt", "response_a", "response_b"].filter((c) => !cols.includes(c))
    if (missing.length > 0)
      return yield* Effect.fail(
        badRequest(
          "label",
          `table ${node}.${t.table} has no ${missing.join(", ")}`,
          "a pairs table",
          "label a node's pairs table"
        )
      )
    const queue = `${id}#${node}.${t.table}`
    const tab = str(b["tab"]) ?? "default"
    if (sub === "next" && method === "GET") return json(yield* state.labels.next({ queue, file: t.file, user, tab }))
    if (sub === "" && method === "POST")
      return json(
        yield* state.labels.vote({
          queue,
          pipeline: id,
          pair_id: str(b["pair_id"]) ?? "",
          vote: str(b["vote"]) ?? "",
          order: str(b["order"]) ?? "",
          user,
          tab
        })
      )
    if (sub === "undo" && method === "POST") return json(yield* state.labels.undo({ queue, user }))
    return yield* Effect.fail(notFound(`no route ${method} ${url.pathname}`))
  })
