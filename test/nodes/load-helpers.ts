/** Run a load node against a real in-memory DuckDB and read back its three tables. */
import { Effect, Schema } from "effect"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { expect } from "vitest"
import type { NodeKind, NodeOutput, ParamsSchema } from "../../workbench/core/node.js"
import { Sql } from "../../workbench/core/services.js"
import { runWithSql } from "../support/sql.js"

export type Row = Record<string, unknown>

export interface LoadResult {
  readonly out: NodeOutput
  readonly pairs: ReadonlyArray<Row>
  readonly votes: ReadonlyArray<Row>
  readonly rejects: ReadonlyArray<Row>
  /** Records neither a pair nor a reject, with the reason (merged-into, no-pair). */
  readonly removed: ReadonlyArray<Row>
  /** DuckDB column types of the pairs table, by name. */
  readonly pairTypes: Readonly<Record<string, string>>
  /** Every output table by name (ratings and raters too, where the loader has them). */
  readonly tables: Readonly<Record<string, ReadonlyArray<Row>>>
}

/** Decode `params` as the graph builder would, run the node, and return its tables as rows. */
export function runLoad<S extends ParamsSchema>(
  kind: NodeKind<S, string>,
  params: S["Encoded"],
  root: string = process.cwd()
): Promise<LoadResult> {
  return runWithSql(
    Effect.gen(function* () {
      const decoded = Schema.decodeUnknownSync(kind.definition.params as never)(params) as S["Type"]
      const out = yield* kind.definition.run({ node: "n", kind: kind.definition.kind, params: decoded, inputs: {} })
      const sql = yield* Sql
      const read = (t: string | undefined) => sql.rows<Row>(`SELECT * FROM ${t}`)
      const types = yield* sql.rows<{ column_name: string; column_type: string }>(
        `DESCRIBE SELECT * FROM ${out.tables["pairs"]}`
      )
      const tables: Record<string, ReadonlyArray<Row>> = {}
      for (const [name, t] of Object.entries(out.tables)) tables[name] = yield* read(t)
      return {
        out,
        tables,
        pairs: yield* read(out.tables["pairs"]),
        votes: yield* read(out.tables["votes"]),
        rejects: yield* read(out.tables["rejects"]),
        removed: yield* read(out.tables["removed"]),
        pairTypes: Object.fromEntries(types.map((t) => [t.column_name, t.column_type]))
      }
    }),
    root
  )
}

/** Run a load node expected to fail; resolve with the failure's message and tag. */
export function runLoadError<S extends ParamsSchema>(
  kind: NodeKind<S, string>,
  params: S["Encoded"],
  root: string = process.cwd()
): Promise<{ readonly tag: string; readonly message: string }> {
  return runWithSql(
    Effect.gen(function* () {
      const decoded = Schema.decodeUnknownSync(kind.definition.params as never)(params) as S["Type"]
      return yield* kind.definition.run({ node: "n", kind: kind.definition.kind, params: decoded, inputs: {} }).pipe(
        Effect.flip,
        Effect.map((e) => ({ tag: e._tag, message: e.message }))
      )
    }),
    root
  )
}

export const count = <T>(xs: ReadonlyArray<T>, f: (x: T) => boolean): number => xs.filter(f).length

/** Write `records` as a JSON Lines file in `dir` (a string record is written as the line itself, malformed or not). */
export function writeJsonl(dir: string, name: string, records: ReadonlyArray<unknown>): string {
  const path = join(dir, name)
  writeFileSync(path, records.map((r) => (typeof r === "string" ? r : JSON.stringify(r))).join("\n") + "\n")
  return path
}

/** rows in = rows out + rejects, and no pair leaves the loader with a NULL id, prompt or response. */
export function expectComplete(r: LoadResult, records: number): void {
  expect(r.out.rowsIn).toBe(records)
  expect(r.pairs.length + r.rejects.length).toBe(records)
  for (const p of r.pairs)
    for (const c of ["pair_id", "prompt", "response_a", "response_b"]) expect(p[c], c).not.toBeNull()
}
