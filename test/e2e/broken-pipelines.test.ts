// Each broken fixture pipeline is rejected by `wb validate` before anything runs, with a message that
// says where, what was found, what was expected and what to do. Messages are API: assert their text.
import { describe, expect, it } from "vitest"
import { pipelineFile, REPO, wb } from "./cli-spawn.js"

const cases: Array<{ file: string; lines: Array<string> }> = [
  {
    file: "cycle.yaml",
    lines: [
      'pipeline "broken-cycle" is invalid',
      "  the pipeline has a cycle: clean -> summary -> clean",
      "    fix: remove one of these input references"
    ]
  },
  {
    file: "typo-kind.ts",
    lines: [
      '  node "hh" uses unknown node kind "load.hh-rlfh"; did you mean "load.hh-rlhf"?',
      "    known load.* kinds: load.alpaca-eval,"
    ]
  },
  {
    file: "typo-kind.yaml",
    lines: ['  node "hh" uses unknown node kind "load.hh-rlfh"; did you mean "load.hh-rlhf"?']
  },
  {
    file: "bad-params.ts",
    lines: [
      '  node "panda" (load.pandalm) has invalid params',
      "    param maxRejectRate: found 7; expected a value between 0 and 1",
      '  node "clean" (dedupe.pairs) has invalid params',
      '    param normalize: found "unicode"; expected "none" | "whitespace" | "case" | "nfc"',
      "    fix: correct the params, or run `wb nodes dedupe.pairs` to see each param, its type and default"
    ]
  },
  {
    file: "missing-column.ts",
    lines: [
      '  node "clean" (dedupe.pairs) needs columns pair_id (utf8), prompt (utf8), response_a (utf8), response_b (utf8) on input "pairs"',
      '    its input comes from "hh" (load.hh-rlhf), whose rejects table has: file (utf8), reason (utf8), raw (utf8)'
    ]
  },
  {
    file: "unknown-input.yaml",
    lines: [
      '  node "clean" input "pairs" refers to "hh_rlhf", which is not a node or table of this pipeline; did you mean "hh"?',
      "    available: hh, hh.pairs, hh.votes, hh.rejects, hh.removed, clean,"
    ]
  }
]

describe("broken pipelines are rejected before anything runs", () => {
  for (const c of cases) {
    it(c.file, async () => {
      const r = await wb(["validate", pipelineFile(c.file)], { cwd: REPO })
      expect(r.code).toBe(1)
      for (const line of c.lines) expect(r.stderr).toContain(line)
      expect(r.stdout + r.stderr).not.toMatch(/^\s+at /m) // no stack frame of any kind for a user's mistake
    })
  }
})
