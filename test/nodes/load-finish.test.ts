/**
 * The last line of defence of every loader: no pair leaves it with a NULL id, prompt or response, and
 * no record goes unaccounted for (rows in = out + rejected + removed).
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { finishLoad } from "../../nodes/load/finish.js"
import { Sql } from "../../workbench/core/services.js"
import { runWithSql } from "../support/sql.js"

/** finishLoad on pairs given as SQL VALUES rows, read from `records` source records; `removed` rows of them. */
const finishWith = (rows: string, records = 2, options: { removed?: number; expands?: boolean } = {}) =>
  runWithSql(
    Effect.gen(function* () {
      const sql = yield* Sql
      yield* sql.run(`CREATE TABLE p AS SELECT * FROM (VALUES ${rows})
      t(pair_id, prompt, response_a, response_b, label, label_source, source, source_row)`)
      yield* sql.run(`CREATE TABLE r (file VARCHAR, record BIGINT, reason VARCHAR, raw VARCHAR)`)
      yield* sql.run(`CREATE TABLE f AS SELECT range AS record FROM range(${records})`)
      yield* sql.run(
        `CREATE TABLE m AS SELECT 'id0' AS pair_id, 'merged-into' AS reason FROM range(${options.removed ?? 0})`
      )
      const file = {
        file: { abs: "/in.jsonl", shown: "in.jsonl", format: "jsonl" as const },
        records: { table: "f", records, blankLines: 0 }
      }
      return yield* finishLoad({
        ctx: { node: "n", kind: "load.test", root: "/" },
        pairs: "p",
        rejects: { table: "r", rejected: 0, records },
        files: [file],
        ...(options.removed === undefined ? {} : { removed: "m" }),
        ...(options.expands === undefined ? {} : { expands: options.expands })
      }).pipe(
        Effect.map((out) => ({ ...out.stats, rowsIn: out.rowsIn })),
        Effect.catchTag("DataError", (e) => Effect.succeed(e.message))
      )
    })
  )

const TWO = `('id0', 'p', 'a', '', 'a', NULL, 's', 0), ('id1', 'p', 'a', 'b', NULL, NULL, 's', 1)`

describe("finishLoad", () => {
  it("fails, naming the first source row, when a pair lacks its prompt or id", async () => {
    const message = await finishWith(
      `('id0', 'p', 'a', 'b', 'a', NULL, 's', 0), (NULL, NULL, 'a', 'b', 'a', NULL, 's', 7)`
    )
    expect(message).toBe(
      `node "n" (load.test) pairs: 1 pair(s) with a NULL pair_id, prompt, response_a, response_b (first: source_row 7)\n` +
        `  expected: every loaded pair has all of them; records that cannot give them are rejects\n` +
        `  fix: this is a bug in the loader: report it with that source record; until then, remove the record from the file`
    )
  })

  it("counts complete pairs as before", async () => {
    const stats = await finishWith(TWO)
    expect(stats).toEqual({
      records: 2,
      pairs: 2,
      label_a: 1,
      label_b: 0,
      label_tie: 0,
      label_none: 1,
      empty_responses: 1,
      rejected: 0,
      votes: 0,
      rowsIn: 2
    })
  })

  it("fails when records go unaccounted for (folded or dropped without a removed row), and balances with them", async () => {
    expect(await finishWith(TWO, 5)).toBe(
      `node "n" (load.test) pairs: 5 records in, 2 pairs + 0 rejected + 0 removed out\n` +
        `  expected: every record is a pair, a reject, or a removed row with its reason (rows in = out + rejected + removed)\n` +
        `  fix: this is a bug in the loader: report it with the file; no output was written`
    )
    expect(await finishWith(TWO, 5, { removed: 3 })).toMatchObject({ records: 5, pairs: 2, removed: 3, rowsIn: 5 })
    // a loader that expands records into pairs counts rows in as what it accounts for
    expect(await finishWith(TWO, 1, { removed: 1, expands: true })).toMatchObject({
      records: 1,
      pairs: 2,
      removed: 1,
      rowsIn: 3
    })
  })
})
