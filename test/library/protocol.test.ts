/**
 * A program that reads `wb run --events` (or forwards a run's events, as the server will) decodes them
 * with the protocol's Schemas, and gets those from the package itself: "preference-workbench" exports
 * `decodeRunEventLine` and the Schemas, which used to live only in workbench/protocol/, outside the
 * package's exports.
 */
import { Effect, Schema } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import {
  decodeRunEventLine,
  defineNode,
  encodeRunEventLine,
  FailureData,
  output,
  pipeline,
  RunEvent,
  RunReport,
  runPipeline,
  Sql
} from "../../workbench/index.js"

const numbers = defineNode({
  kind: "protocol.numbers",
  version: 1,
  summary: "three numbers",
  params: Schema.Struct({}),
  inputs: {},
  outputs: { rows: output("main", { n: "int64" }) },
  run: () =>
    Effect.map(
      Effect.flatMap(Sql, (sql) => sql.create("rows", "SELECT range AS n FROM range(3)")),
      (rows) => ({ tables: { rows } })
    )
})

describe("the protocol, from the package", () => {
  it("round-trips every event of a run through NDJSON lines and the exported Schemas", async () => {
    const lines: Array<string> = []
    const result = await runPipeline(
      pipeline("protocol", (p) => void p.node("nums", numbers())),
      {
        root: mkdtempSync(join(tmpdir(), "wb-protocol-")),
        threads: 1,
        onEvent: (e) => lines.push(encodeRunEventLine(e))
      }
    )
    const events = lines.map((l) => decodeRunEventLine(l))
    expect(events.map((e) => e._tag)).toEqual(["RunStarted", "NodeStarted", "NodeFinished", "RunFinished"])
    expect(events.every((e) => Schema.is(RunEvent)(e))).toBe(true)
    const last = events.at(-1)!
    expect(last._tag === "RunFinished" && Schema.is(RunReport)(last.report)).toBe(true)
    expect(Schema.decodeUnknownSync(RunReport)(JSON.parse(JSON.stringify(result.report))).nodes[0]!.rowsOut).toBe(3)
    expect(Schema.is(FailureData)({ _tag: "InternalError", id: "1", message: "m", log: "l" })).toBe(true)
  })
})
