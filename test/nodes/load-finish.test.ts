/** The last line of defence of every loader: no pair leaves it with a NULL id, prompt or response. */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { finishLoad } from "../../nodes/load/finish.js"
import { Sql } from "../../workbench/core/services.js"
import { runWithSql } from "../support/sql.js"

const finishWith = (rows: string) =>
  runWithSql(Effect.gen(function*() {
    const sql = yield* Sql
    yield* sql.run(`CREATE TABLE p AS SELECT * FROM (VALUES ${rows})
      t(pair_id, prompt, response_a, response_b, label, label_source, source, source_row)`)
    yield* sql.run(`CREATE TABLE r (file VARCHAR, record BIGINT, reason VARCHAR, raw VARCHAR)`)
    return yield* finishLoad({
      ctx: { node: "n", kind: "load.test", root: "/" },
      pairs: "p",
      rejects: { table: "r", rejected: 0, records: 2 },
      files: []
    }).pipe(Effect.map((out) => out.stats), Effect.catchTag("DataError", (e) => Effect.succeed(e.message)))
  }))

describe("finishLoad", () => {
  it("fails, naming the first source row, when a pair lacks its prompt or id", async () => {
    const message = await finishWith(`('id0', 'p', 'a', 'b', 'a', NULL, 's', 0), (NULL, NULL, 'a', 'b', 'a', NULL, 's', 7)`)
    expect(message).toBe(
      `node "n" (load.test) pairs: 1 pair(s) with a NULL pair_id, prompt, response_a, response_b (first: source_row 7)\n` +
        `  expected: every loaded pair has all of them; records that cannot give them are rejects\n` +
        `  fix: this is a bug in the loader: report it with that source record; until then, remove the record from the file`
    )
  })

  it("counts complete pairs as before", async () => {
    const stats = await finishWith(`('id0', 'p', 'a', '', 'a', NULL, 's', 0), ('id1', 'p', 'a', 'b', NULL, NULL, 's', 1)`)
    expect(stats).toEqual({ records: 0, pairs: 2, label_a: 1, label_b: 0, label_tie: 0, label_none: 1, empty_responses: 1, rejected: 0, votes: 0 })
  })
})
