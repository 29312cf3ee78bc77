/** Content addresses for artifacts: a hash of what determines a node's output. */
import { createHash } from "node:crypto"

/** JSON with object keys sorted, so equal values always give equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null"
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`
}

export interface CacheKeyParts {
  readonly kind: string
  readonly version: number
  readonly params: unknown
  readonly inputs: Readonly<Record<string, ReadonlyArray<{ readonly key: string; readonly table: string }>>>
  readonly fingerprint: string
}

/** 24 hex digits of sha256 over the canonical parts (96 bits: collisions are not a practical concern). */
export const cacheKey = (parts: CacheKeyParts): string =>
  createHash("sha256").update(canonicalJson(parts)).digest("hex").slice(0, 24)
