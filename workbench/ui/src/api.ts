/**
 * Calls to the `wb serve` API. The session cookie (set when the printed URL was opened) authenticates
 * every same-origin request, so no token lives in JavaScript. Arrow replies are decoded by arquero
 * (flechette inside), the only Arrow library in the bundle.
 */
import { type ColumnTable, fromArrow } from "arquero"
import type { Problem } from "./types.ts"

/** A failed call, carrying the server's problem (where / found / expected / fix). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem
  ) {
    super(problemText(problem))
  }
}

export function problemText(p: Problem): string {
  if (p.message) return p.message
  const parts = [p.where && `${p.where}:`, p.found && `found ${p.found}`, p.expected && `expected ${p.expected}`]
  const text = parts.filter(Boolean).join(" ")
  return (text || p.error) + (p.fix ? ` (${p.fix})` : "")
}

async function fail(res: Response): Promise<never> {
  let problem: Problem
  try {
    problem = (await res.json()) as Problem
  } catch {
    problem = { error: `HTTP ${res.status}` }
  }
  throw new ApiError(res.status, problem)
}

export async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path)
  return res.ok ? ((await res.json()) as T) : fail(res)
}

export async function postJson<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body)
  })
  return res.ok ? ((await res.json()) as T) : fail(res)
}

export interface ArrowReply {
  readonly table: ColumnTable
  readonly headers: Headers
}

export async function getArrow(path: string, init?: RequestInit): Promise<ArrowReply> {
  const res = await fetch(path, init)
  if (!res.ok) return fail(res)
  return { table: fromArrow(new Uint8Array(await res.arrayBuffer())), headers: res.headers }
}

export const postArrow = (path: string, body: unknown) =>
  getArrow(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })

/** `/api/pipelines/<id>` with the id as one encoded segment. */
export const pipelinePath = (id: string) => `/api/pipelines/${encodeURIComponent(id)}`
export const tablePath = (id: string, node: string, table: string) =>
  `${pipelinePath(id)}/nodes/${encodeURIComponent(node)}/tables/${encodeURIComponent(table)}`

/** Row objects of an arquero table, `__row` (the server's tie-breaker) left out of the display. */
export const rowsOf = (t: ColumnTable) => t.objects() as Array<Record<string, unknown>>
