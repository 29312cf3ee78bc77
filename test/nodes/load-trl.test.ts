import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { load } from "../../nodes/load/index.js"
import { runLoad, runLoadError, type Row } from "./load-helpers.js"

const F = "test/fixtures/data/"
/** The pair as (prompt, chosen, rejected), whichever side chosen landed on. */
const crOf = (p: Row) => ({
  prompt: p["prompt"],
  chosen: p["label"] === "a" ? p["response_a"] : p["response_b"],
  rejected: p["label"] === "a" ? p["response_b"] : p["response_a"]
})

describe("load.trl", () => {
  it("explicit prompt: strings kept verbatim, extra fields passed through", async () => {
    const r = await runLoad(load.trl, { path: `${F}trl-explicit.jsonl`, labelSource: "ai" })
    expect(r.pairs.map(crOf)).toEqual([
      { prompt: "The sky is", chosen: " blue.", rejected: " green." },
      { prompt: "What is 2 + 2?", chosen: "4", rejected: "5" },
      { prompt: "Name a prime number.", chosen: "7 is prime.", rejected: "" },
      { prompt: "Translate 'chat' from French.", chosen: "Cat.", rejected: "Chat." }
    ])
    expect(r.pairs.map((p) => p["score_chosen"])).toEqual([9, 10, 8, 9.5])
    expect(r.pairTypes).toMatchObject({ score_chosen: "DOUBLE", messages: "JSON" })
    expect(r.pairs.every((p) => p["label_source"] === "ai" && p["source"] === "trl" && p["messages"] === null)).toBe(
      true
    )
    expect(r.pairs.map((p) => p["source_row"])).toEqual([0, 1, 2, 3])
    expect(r.out.stats).toMatchObject({ records: 4, pairs: 4, rejected: 0, explicit_prompt: 4, empty_responses: 1 })
    expect(r.out.rowsIn).toBe(4)
  })

  it("implicit prompt: the common beginning, with TRL's space rule", async () => {
    const r = await runLoad(load.trl, { path: `${F}trl-implicit.jsonl` })
    expect(r.pairs.map(crOf)).toEqual([
      { prompt: "The sky is", chosen: " blue.", rejected: " green." },
      { prompt: "Water boils at", chosen: " 100 °C at sea level.", rejected: " 50 °C at sea level." },
      { prompt: "The capital of France is", chosen: " Paris.", rejected: " Lyon." }
    ])
    expect(r.pairs.every((p) => p["label_source"] === null)).toBe(true)
    expect(r.out.stats).toMatchObject({ implicit_prompt: 3, conversational: 0 })
  })

  it("conversational: messages kept as JSON, prompt and replies rendered as text", async () => {
    const r = await runLoad(load.trl, { path: `${F}trl-conversational.jsonl` })
    expect(r.pairs.map(crOf)).toEqual([
      { prompt: "What color is the sky?", chosen: "It is blue.", rejected: "It is green." },
      { prompt: "System: You are terse.\n\nHuman: Capital of Italy?", chosen: "Rome.", rejected: "Milan, probably." },
      {
        prompt: "Human: Hi!\n\nAssistant: Hello! How can I help?\n\nHuman: Tell me a joke.",
        chosen: "Why did the chicken cross the road?",
        rejected: "No."
      }
    ])
    expect(JSON.parse(String(r.pairs[0]!["messages"]))).toEqual([{ role: "user", content: "What color is the sky?" }])
    expect(JSON.parse(String(r.pairs[2]!["messages"])).map((m: { role: string }) => m.role)).toEqual([
      "user",
      "assistant",
      "user"
    ])
    expect(r.out.stats).toMatchObject({ conversational: 3, explicit_prompt: 2, implicit_prompt: 1 })
  })

  it("rejects malformed records with their line numbers and reasons", async () => {
    const r = await runLoad(load.trl, { path: `${F}trl-malformed.jsonl`, maxRejectRate: 1 })
    // rejects count lines from 1, as editors do (source_row stays the 0-based record)
    expect(r.rejects.map((x) => [x["file"], x["line"], x["reason"]])).toEqual([
      [`${F}trl-malformed.jsonl`, 2, "malformed JSON"],
      [`${F}trl-malformed.jsonl`, 3, "invalid UTF-8"],
      [`${F}trl-malformed.jsonl`, 4, "rejected: missing"],
      [`${F}trl-malformed.jsonl`, 5, "chosen: expected a string or an array, got a boolean"],
      [`${F}trl-malformed.jsonl`, 7, "expected a JSON object, got an array"],
      [
        `${F}trl-malformed.jsonl`,
        9,
        "chosen and rejected: expected both strings or both message lists, got a string and an array"
      ],
      [
        `${F}trl-malformed.jsonl`,
        10,
        "chosen and rejected share no prompt (without a prompt field, the prompt is their common beginning)"
      ]
    ])
    expect(r.rejects[0]!["raw"]).toBe('{"prompt": "broken", "chosen": "a", "rejected": ')
    expect(String(r.rejects[1]!["raw"])).toContain('"prompt": "caf?')
    expect(r.pairs.map((p) => p["source_row"])).toEqual([0, 7])
    expect(r.out.stats).toMatchObject({ records: 9, pairs: 2, rejected: 7, blank_lines: 1 })
    expect(r.out.rowsIn).toBe(9)
  })

  it("keeps line numbers across runs of unreadable and blank lines", async () => {
    const good = (n: number) => Buffer.from(JSON.stringify({ prompt: `q${n}`, chosen: "yes", rejected: "no" }))
    const bad = Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]) // {"\xff\xfe"}
    const lines = [good(0), bad, bad, good(3), Buffer.from("  "), bad, good(6), Buffer.from(""), good(8)]
    const path = join(mkdtempSync(join(tmpdir(), "wb-trl-")), "gaps.jsonl")
    writeFileSync(path, Buffer.concat(lines.flatMap((l) => [l, Buffer.from("\n")])))
    const r = await runLoad(load.trl, { path, maxRejectRate: 0.5 })
    expect(r.pairs.map((p) => [p["source_row"], p["prompt"]])).toEqual([
      [0, "q0"],
      [3, "q3"],
      [6, "q6"],
      [8, "q8"]
    ])
    expect(r.rejects.map((x) => [x["line"], x["reason"]])).toEqual([
      [2, "invalid UTF-8"],
      [3, "invalid UTF-8"],
      [6, "invalid UTF-8"]
    ])
    expect(r.out.stats).toMatchObject({ records: 7, blank_lines: 2 })
  })

  it("fails past maxRejectRate, quoting the first rejects", async () => {
    const e = await runLoadError(load.trl, { path: `${F}trl-malformed.jsonl` })
    expect(e.tag).toBe("DataError")
    expect(e.message).toBe(
      `node "n" (load.trl) file ${F}trl-malformed.jsonl: 7 of 9 records rejected (77.8%): line 2: malformed JSON; ` +
        `line 3: invalid UTF-8; line 4: rejected: missing; … (4 more)\n` +
        `  expected: a reject rate of at most 0% (maxRejectRate: 0)\n` +
        `  fix: fix the file, or set maxRejectRate to 0.778 or more to load the other records; ` +
        `the rejects table then lists every rejected record with its reason`
    )
  })
})
