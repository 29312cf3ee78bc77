/**
 * load.trl on records whose layouts do not fit together, whose messages are incomplete, or whose
 * implicit prompt cannot be split off: each is one reject with its reason, never a failed node or
 * a pair with NULL text. Real files in a temp dir, real DuckDB.
 */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { load } from "../../nodes/load/index.js"
import { expectComplete, runLoad, writeJsonl } from "./load-helpers.js"

const dir = mkdtempSync(join(tmpdir(), "wb-trl-checks-"))
const jsonl = (name: string, records: ReadonlyArray<unknown>) => writeJsonl(dir, name, records)
const user = (content: unknown) => ({ role: "user", content })
const bot = (content: unknown) => ({ role: "assistant", content })
const GOOD = { prompt: [user("Q?")], chosen: [bot("yes")], rejected: [bot("no")] }

describe("load.trl: layouts that do not fit together", () => {
  it("rejects each mixed record with its reason instead of failing the node", async () => {
    const path = jsonl("mixed.jsonl", [
      { prompt: "x", chosen: ["a"], rejected: ["b"] },
      { chosen: [user("q"), bot("a")], rejected: "plain text" },
      { prompt: [user("q")], chosen: [bot("a")], rejected: "plain" },
      { prompt: [user("q")], chosen: "a", rejected: "b" },
      { chosen: ["a"], rejected: ["b"] },
      { prompt: "x", chosen: [bot("a")], rejected: [bot("b")] },
      GOOD
    ])
    const r = await runLoad(load.trl, { path, maxRejectRate: 1 })
    expect(r.rejects.map((x) => [x["line"], x["reason"]])).toEqual([
      [1, "prompt: expected a message list like chosen, got a string"],
      [2, "chosen and rejected: expected both strings or both message lists, got an array and a string"],
      [3, "chosen and rejected: expected both strings or both message lists, got an array and a string"],
      [4, "prompt: expected a string like chosen, got an array"],
      [5, "chosen[0]: expected a {role, content} message, got a string"],
      [6, "prompt: expected a message list like chosen, got a string"]
    ])
    expect(r.pairs.map((p) => [p["source_row"], p["prompt"]])).toEqual([[6, "Q?"]])
    expectComplete(r, 7)
  })

  it("checks every message's role and content", async () => {
    const path = jsonl("content.jsonl", [
      { prompt: [user("Q?")], chosen: [{ role: "assistant" }], rejected: [bot("bad")] },
      { prompt: [user("Q?")], chosen: [bot("ok")], rejected: [bot(5)] },
      { prompt: [user(null)], chosen: [bot("ok")], rejected: [bot("no")] },
      { chosen: [user("q"), { content: "a" }], rejected: [user("q"), bot("b")] },
      { prompt: [user("Q?")], chosen: [bot(["text"])], rejected: [bot("no")] },
      { prompt: [user("Q?"), 7], chosen: [bot("a")], rejected: [bot("b")] },
      { prompt: [{ role: 1, content: "Q?" }], chosen: [bot("a")], rejected: [bot("b")] },
      { chosen: [user("q"), bot("a")], rejected: [user("q"), { role: "assistant", content: { text: "b" } }] },
      GOOD
    ])
    const r = await runLoad(load.trl, { path, maxRejectRate: 1 })
    expect(r.rejects.map((x) => [x["line"], x["reason"]])).toEqual([
      [1, "chosen[0].content: missing"],
      [2, "rejected[0].content: expected a string, got a number"],
      [3, "prompt[0].content: expected a string, got null"],
      [4, "chosen[1].role: missing"],
      [5, "chosen[0].content: expected a string, got an array"],
      [6, "prompt[1]: expected a {role, content} message, got a number"],
      [7, "prompt[0].role: expected a string, got a number"],
      [8, "rejected[1].content: expected a string, got an object"]
    ])
    expect(r.pairs.map((p) => p["source_row"])).toEqual([8])
    expectComplete(r, 9)
  })

  it("says why identical chosen and rejected have no implicit prompt", async () => {
    const path = jsonl("same.jsonl", [
      { chosen: "same", rejected: "same" },
      { chosen: [user("q"), bot("a")], rejected: [user("q"), bot("a")] },
      { chosen: "abc", rejected: "xyz" },
      { chosen: "The sky is blue.", rejected: "The sky is blue. Or green." },
      { prompt: "p", chosen: "same", rejected: "same" }
    ])
    const r = await runLoad(load.trl, { path, maxRejectRate: 1 })
    const identical =
      "chosen and rejected are identical: no implicit prompt can be split off (without a prompt field, " +
      "the prompt is their common beginning)"
    expect(r.rejects.map((x) => [x["line"], x["reason"]])).toEqual([
      [1, identical],
      [2, identical],
      [3, "chosen and rejected share no prompt (without a prompt field, the prompt is their common beginning)"]
    ])
    // one response a prefix of the other: the prompt is all of the shorter one; identical explicit responses are data
    const cr = r.pairs.map((p) => [
      p["prompt"],
      p["label"] === "a" ? p["response_a"] : p["response_b"],
      p["label"] === "a" ? p["response_b"] : p["response_a"]
    ])
    expect(cr).toEqual([
      ["The sky is blue.", "", " Or green."],
      ["p", "same", "same"]
    ])
    expectComplete(r, 5)
  })
})
