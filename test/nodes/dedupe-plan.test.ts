/** The pure core of dedupe: tiny inline key tables in, whole plan tables out. */
import { describe, expect, it } from "vitest"
import { planDedupe, type DedupeKeys, type DedupePlan, type PlanSteps } from "../../nodes/dedupe/plan.js"

/** [prompt, response_a, response_b, label, votes?] rows -> the key table the SQL side would compute. */
function keysOf(
  rows: ReadonlyArray<readonly [string, string, string, string | null, number?]>,
  extra: Partial<DedupeKeys> = {}
): DedupeKeys {
  return {
    order: rows.map((_, i) => i),
    exactKey: rows.map(([p, a, b]) => `${p}|${a}|${b}`),
    mirrorKey: rows.map(([p, a, b]) => `${p}|${a < b ? a : b}|${a < b ? b : a}`),
    flipped: rows.map(([, a, b]) => a > b),
    identical: rows.map(([, a, b]) => a === b),
    emptySide: rows.map(([, a, b]) => a.trim() === "" || b.trim() === ""),
    label: rows.map((r) => r[3]),
    length: rows.map(([, a, b]) => a.length + b.length),
    votes: rows.map((r) => r[4] ?? 0),
    ...extra
  }
}

const steps = (s: Partial<PlanSteps> = {}): PlanSteps => ({
  keep: "first",
  exact: { onConflict: "merge" },
  mirrored: { onConflict: "drop-both" },
  emptySide: true,
  identical: true,
  decontaminate: false,
  ...s
})

/** The plan as one row per input row: [reason, twin, votesTo, votesFlip]. */
const rowsOf = (p: DedupePlan) => p.reason.map((r, i) => [r, p.twin[i], p.votesTo[i], p.votesFlip[i]])

const assertBalanced = (p: DedupePlan) => {
  expect(p.stats["rows_out"]! + p.stats["removed"]!).toBe(p.stats["rows_in"])
  expect(p.reason.filter((r) => r === null).length).toBe(p.stats["rows_out"])
}

describe("planDedupe", () => {
  it("merges exact and mirrored duplicates, flips the mirrored twin's votes, drops degenerate rows", () => {
    const keys = keysOf([
      ["p", "x", "y", "a"], // 0 kept
      ["p", "x", "y", "a"], // 1 exact twin of 0
      ["p", "y", "x", "b"], // 2 mirrored twin of 0 (label agrees once flipped)
      ["q", "z", "z", "tie"], // 3 identical sides
      ["q", "z", " ", "a"], // 4 empty side
      ["r", "u", "v", "b"] // 5 kept
    ])
    const plan = planDedupe(keys, steps())
    expect(rowsOf(plan)).toEqual([
      [null, -1, 0, 0],
      ["exact-duplicate", 0, 0, 0],
      ["mirrored-duplicate", 0, 0, 1],
      ["identical-sides", -1, -1, 0],
      ["empty-side", -1, -1, 0],
      [null, -1, 5, 0]
    ])
    expect(Array.from(plan.merged)).toEqual([1, 0, 0, 0, 0, 0])
    expect(plan.report).toEqual([
      { check: "exact", groups: 1, rows_found_in_input: 2, rows_removed: 1 },
      { check: "mirrored", groups: 1, rows_found_in_input: 3, rows_removed: 1 },
      { check: "empty-side", groups: 1, rows_found_in_input: 1, rows_removed: 1 },
      { check: "identical-sides", groups: 1, rows_found_in_input: 1, rows_removed: 1 }
    ])
    expect(plan.conflicts).toEqual([])
    assertBalanced(plan)
  })

  it("follows merges through later steps: an exact twin of a mirrored twin ends on the kept row, flipped", () => {
    const plan = planDedupe(
      keysOf([
        ["p", "x", "y", "a"],
        ["p", "y", "x", "b"],
        ["p", "y", "x", "b"]
      ]),
      steps()
    )
    expect(rowsOf(plan)).toEqual([
      [null, -1, 0, 0],
      ["mirrored-duplicate", 0, 0, 1],
      ["exact-duplicate", 0, 0, 1]
    ])
  })

  it.each([
    [
      "drop-both",
      [
        ["mirrored-conflict", -1, -1, 0],
        ["mirrored-conflict", -1, -1, 0]
      ],
      [false, false]
    ],
    [
      "keep-first",
      [
        [null, -1, 0, 0],
        ["mirrored-conflict", 0, -1, 0]
      ],
      [true, false]
    ],
    [
      "keep-both",
      [
        [null, -1, 0, 0],
        [null, -1, 1, 0]
      ],
      [true, true]
    ],
    [
      "merge",
      [
        [null, -1, 0, 0],
        ["mirrored-duplicate", 0, 0, 1]
      ],
      [true, false]
    ]
  ] as const)("mirrored conflict, onConflict %s", (onConflict, expected, kept) => {
    // (x, y) labelled a and (y, x) labelled a: after flipping, the second says b -> the labels disagree
    const plan = planDedupe(
      keysOf([
        ["p", "x", "y", "a"],
        ["p", "y", "x", "a"]
      ]),
      steps({ mirrored: { onConflict } })
    )
    expect(rowsOf(plan)).toEqual(expected)
    expect(plan.conflicts).toEqual([
      { check: "mirrored", group: 0, row: 0, flipped: false, kept: kept[0] },
      { check: "mirrored", group: 0, row: 1, flipped: true, kept: kept[1] }
    ])
    expect(plan.stats["mirrored_conflicts"]).toBe(1)
    assertBalanced(plan)
  })

  it("exact groups with disagreeing labels are merged by default and listed as conflicts", () => {
    const keys = keysOf([
      ["p", "x", "y", "a"],
      ["p", "x", "y", "b"],
      ["p", "x", "y", null]
    ])
    const merged = planDedupe(keys, steps())
    expect(rowsOf(merged)).toEqual([
      [null, -1, 0, 0],
      ["exact-duplicate", 0, 0, 0],
      ["exact-duplicate", 0, 0, 0]
    ])
    expect(merged.conflicts.map((c) => [c.check, c.row, c.kept])).toEqual([
      ["exact", 0, true],
      ["exact", 1, false],
      ["exact", 2, false]
    ])
    const dropped = planDedupe(keys, steps({ exact: { onConflict: "drop-both" } }))
    expect(dropped.reason).toEqual(["exact-conflict", "exact-conflict", "exact-conflict"])
    assertBalanced(dropped)
  })

  it("a null label does not make a conflict", () => {
    const plan = planDedupe(
      keysOf([
        ["p", "x", "y", "a"],
        ["p", "y", "x", null]
      ]),
      steps()
    )
    expect(plan.conflicts).toEqual([])
    expect(plan.reason).toEqual([null, "mirrored-duplicate"])
  })

  it.each([
    ["first", 0],
    ["longest", 1],
    ["most-votes", 2]
  ] as const)("keep policy %s picks row %i", (keep, kept) => {
    const keys = keysOf(
      [
        ["p", "x", "y", "a", 1],
        ["p", "x", "y", "a", 2],
        ["p", "x", "y", "a", 5]
      ],
      {
        length: [10, 30, 20],
        order: [0, 1, 2]
      }
    )
    const plan = planDedupe(keys, steps({ keep }))
    expect(plan.reason.map((r) => r === null)).toEqual([0, 1, 2].map((i) => i === kept))
    expect(Array.from(plan.twin)).toEqual([0, 1, 2].map((i) => (i === kept ? -1 : kept)))
  })

  it("'first' means the lowest source order, not the row position", () => {
    const keys = keysOf(
      [
        ["p", "x", "y", "a"],
        ["p", "x", "y", "a"]
      ],
      { order: [1, 0] }
    )
    expect(planDedupe(keys, steps()).reason).toEqual(["exact-duplicate", null])
  })

  it("near-duplicates: the first row of the keep order stays, the others name it and drop their votes", () => {
    const keys = keysOf([
      ["p1", "a", "b", "a", 3],
      ["p1'", "c", "d", "b", 1],
      ["p2", "e", "f", "a"],
      ["p1''", "g", "h", "a"],
      ["p1", "", "x", "a"]
    ])
    const calls: Array<Array<number>> = []
    // a stand-in finder: rows 0, 1, 3, 4 are near each other; the first given of them stays
    const near = (order: Int32Array) => {
      calls.push(Array.from(order))
      const twin = new Int32Array(5).fill(-1)
      const first = Array.from(order).find((i) => i !== 2)
      for (const i of order) if (i !== 2 && i !== first) twin[i] = first!
      return twin
    }
    const plan = planDedupe(keys, steps({ near }))
    expect(rowsOf(plan)).toEqual([
      [null, -1, 0, 0],
      ["near-duplicate", 0, -1, 0],
      [null, -1, 2, 0],
      ["near-duplicate", 0, -1, 0],
      ["empty-side", -1, -1, 0]
    ])
    // once on the rows still kept, once on all rows for rows_found_in_input; best first by the keep order
    expect(calls).toEqual([
      [0, 1, 2, 3],
      [0, 1, 2, 3, 4]
    ])
    // most votes first (row 3 has 5), ties in source order
    const voted = planDedupe({ ...keys, votes: [3, 1, 0, 5, 0] }, steps({ near, keep: "most-votes" }))
    expect(calls.at(-2)).toEqual([3, 0, 1, 2])
    expect(Array.from(voted.twin)).toEqual([3, 3, -1, -1, -1])
    expect(plan.stats).toMatchObject({ near_clusters: 1, near_removed: 2 })
    expect(plan.report.at(-1)).toEqual({ check: "near-duplicate", groups: 1, rows_found_in_input: 4, rows_removed: 2 })
  })

  it("decontamination runs first: exact (1) and near (2) matches go before any merge", () => {
    const keys = keysOf(
      [
        ["p", "x", "y", "a"],
        ["p", "x", "y", "a"],
        ["q", "x", "y", "a"],
        ["r", "x", "y", "a"]
      ],
      {
        contaminated: [1, 1, 2, 0]
      }
    )
    const plan = planDedupe(keys, steps({ decontaminate: true }))
    // the exact twins are both contaminated: neither is merged into a row that is then dropped
    expect(plan.reason).toEqual(["contaminated", "contaminated", "contaminated-near", null])
    expect(Array.from(plan.twin)).toEqual([-1, -1, -1, -1])
    expect(Array.from(plan.votesTo)).toEqual([-1, -1, -1, 3])
    expect(plan.report[0]).toEqual({ check: "contaminated", groups: 3, rows_found_in_input: 3, rows_removed: 3 })
    expect(plan.report[1]).toEqual({ check: "exact", groups: 0, rows_found_in_input: 2, rows_removed: 0 })
    expect(plan.stats).toMatchObject({ contaminated: 3, contaminated_near: 1, rows_out: 1, removed: 3 })
  })

  it("a merged row whose kept twin is then dropped (empty side) has no twin, and its votes go", () => {
    const plan = planDedupe(
      keysOf([
        ["p", "", "y", "a"],
        ["p", "", "y", "a"],
        ["p", "y", "", "b"]
      ]),
      steps()
    )
    expect(rowsOf(plan)).toEqual([
      ["empty-side", -1, -1, 0],
      ["exact-duplicate", -1, -1, 0],
      ["mirrored-duplicate", -1, -1, 0]
    ])
    expect(Array.from(plan.merged)).toEqual([0, 0, 0])
  })

  it("runs only the steps asked for", () => {
    const keys = keysOf([
      ["p", "x", "y", "a"],
      ["p", "x", "y", "a"],
      ["p", "y", "x", "b"],
      ["q", "", "z", "a"]
    ])
    const only = planDedupe(keys, {
      keep: "first",
      mirrored: { onConflict: "drop-both" },
      emptySide: false,
      identical: false,
      decontaminate: false
    })
    // alone, the mirrored step collapses the whole group, same-order copies included
    expect(only.reason).toEqual([null, "mirrored-duplicate", "mirrored-duplicate", null])
    expect(only.report.map((r) => r.check)).toEqual(["mirrored"])
    expect(only.stats).toEqual({
      rows_in: 4,
      mirrored_groups: 1,
      mirrored_removed: 2,
      mirrored_conflicts: 0,
      rows_out: 2,
      removed: 2
    })
  })
})
