/** Run export nodes on real DuckDB tables and read back what they wrote: the file's records and the card. */
import { Effect, Schema } from "effect"
import { mkdtempSync, readFileSync, symlinkSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import type { NodeKind, NodeOutput, ParamsSchema } from "../../workbench/core/node.js"
import { Sql } from "../../workbench/core/services.js"
import { inputTable, runWithSql } from "../support/sql.js"

export type Row = Record<string, unknown>

/** A project root of its own (exports land there) whose `data/` is the repository's. */
export function tempRoot(prefix = "wb-export-"): string {
  const root = mkdtempSync(join(tmpdir(), prefix))
  symlinkSync(resolve("data"), join(root, "data"))
  return root
}

/** The records of a JSON Lines file, in order. */
export const readJsonl = (path: string): Array<Row> =>
  readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Row)

export interface ExportResult {
  readonly out: NodeOutput
  readonly rows: ReadonlyArray<Row>
  readonly removed: ReadonlyArray<Row>
  readonly card: ReadonlyArray<Row>
}

const decode = <S extends ParamsSchema>(kind: NodeKind<S, string>, params: S["Encoded"]) =>
  Schema.decodeUnknownSync(kind.definition.params as never)(params) as S["Type"]

/** `setup` creates table `t` (the node's one input); the node runs with `root` as the project root. */
export function runExport<S extends ParamsSchema>(
  kind: NodeKind<S, string>,
  params: S["Encoded"],
  setup: string,
  root: string
): Promise<ExportResult> {
  return runWithSql(
    Effect.gen(function* () {
      const sql = yield* Sql
      yield* sql.run(setup)
      const name = Object.keys(kind.definition.inputs)[0]!
      const out = yield* kind.definition.run({
        node: "x",
        kind: kind.definition.kind,
        params: decode(kind, params),
        inputs: { [name]: yield* inputTable(sql, "t") }
      })
      const read = (t: string) => sql.rows<Row>(`SELECT * FROM ${out.tables[t]}`)
      return { out, rows: yield* read("rows"), removed: yield* read("removed"), card: yield* read("card") }
    }),
    root
  )
}

/** The same, for a node expected to fail: its error's tag and message. */
export function runExportError<S extends ParamsSchema>(
  kind: NodeKind<S, string>,
  params: S["Encoded"],
  setup: string,
  root: string
) {
  return runWithSql(
    Effect.gen(function* () {
      const sql = yield* Sql
      yield* sql.run(setup)
      const name = Object.keys(kind.definition.inputs)[0]!
      return yield* kind.definition
        .run({
          node: "x",
          kind: kind.definition.kind,
          params: decode(kind, params),
          inputs: { [name]: yield* inputTable(sql, "t") }
        })
        .pipe(
          Effect.flip,
          Effect.map((e) => ({ tag: e._tag, message: e.message }))
        )
    }),
    root
  )
}

/** A pairs table `t` from rows of (prompt, a, b, label[, extra columns]). */
export const pairsSetup = (
  rows: ReadonlyArray<readonly [string, string, string, string | null, ...Array<string | number>]>,
  extra: ReadonlyArray<string> = []
) => {
  const q = (v: string | number | null) =>
    v === null ? "NULL" : typeof v === "number" ? String(v) : `'${v.replaceAll("'", "''")}'`
  const values = rows.map((r, i) => `('p${i}', ${r.map(q).join(", ")}, 'human', 'src', ${i})`).join(", ")
  return `CREATE TABLE t AS SELECT * FROM (VALUES ${values})
    AS v(pair_id, prompt, response_a, response_b, label${extra.map((e) => `, ${e}`).join("")}, label_source, source, source_row)`
}

/** Sorted JSON texts of (prompt, chosen, rejected) triples: compares two sets of pairs with their repeats. */
export const triples = (rows: ReadonlyArray<readonly [unknown, unknown, unknown]>): Array<string> =>
  rows.map((t) => JSON.stringify(t)).sort()
