/**
 * The pure core of the dedupe family: from one row of keys per input pair, decide which rows stay,
 * why each other row goes, which kept row absorbed it, and where its votes go. No I/O: the wrapper
 * computes the keys in SQL (normalised text hashes), runs MinHash for near-duplicates, and applies
 * the plan back to the tables.
 *
 * Steps run in a fixed order, each on the rows the earlier ones kept:
 * contaminated -> exact -> mirrored -> empty side -> identical sides -> near-duplicate.
 * Decontamination comes first so that no row is merged into a twin that is then dropped as
 * contaminated (its clean near-duplicates would be lost with it).
 *
 * Gotchas:
 * - A removed row's twin is always a kept row. Every row of an exact or mirrored group shares an empty
 *   side or identical sides, so when the empty-side or identical check later removes the group's kept
 *   row, the merged rows keep their reason but have no twin (-1), and their votes are dropped.
 * - Only exact and mirrored merges move votes (mirrored ones flipped); a near-duplicate's responses
 *   differ from its kept twin's, so its votes go with it.
 * - Near-duplicates are not groups: rows are taken in the keep order and a row that matches an
 *   already kept row is removed, naming it (near-match.ts). `groups` in the report counts the kept rows
 *   that near-duplicates were removed for.
 * - `rows_found_in_input` in the report counts what a check finds in the whole input on its own (all
 *   members of a duplicate group, the first included); `rows_removed` what it removed in sequence.
 */

export type Key = string | number
export type KeepPolicy = "first" | "longest" | "most-votes"
export type ConflictPolicy = "merge" | "drop-both" | "keep-first" | "keep-both"
export type Reason =
  | "exact-duplicate"
  | "exact-conflict"
  | "mirrored-duplicate"
  | "mirrored-conflict"
  | "empty-side"
  | "identical-sides"
  | "near-duplicate"
  | "contaminated"
  | "contaminated-near"

/** One entry per input row; a "table" of columns. */
export interface DedupeKeys {
  /** Rank for keep "first" (source, source_row order): lower comes first. */
  readonly order: ArrayLike<number>
  /** Same value = same normalised (prompt, response_a, response_b). */
  readonly exactKey: ArrayLike<Key>
  /** Same value = same normalised prompt and the same two responses in either order. */
  readonly mirrorKey: ArrayLike<Key>
  /** Which of the two orders of mirrorKey this row has. */
  readonly flipped: ArrayLike<boolean | number>
  /** Normalised response_a equals response_b. */
  readonly identical: ArrayLike<boolean | number>
  /** A response is missing or only whitespace. */
  readonly emptySide: ArrayLike<boolean | number>
  readonly label: ArrayLike<string | null>
  /** Characters in both responses (keep "longest"). */
  readonly length: ArrayLike<number>
  /** Votes on the row: its own, and those on its pair_id that name no row (keep "most-votes"). */
  readonly votes: ArrayLike<number>
  /** 0: clean, 1: prompt equals an eval prompt, 2: prompt near an eval prompt. */
  readonly contaminated?: ArrayLike<number>
}

export interface PlanSteps {
  readonly keep: KeepPolicy
  readonly exact?: { readonly onConflict: ConflictPolicy } | undefined
  readonly mirrored?: { readonly onConflict: ConflictPolicy } | undefined
  readonly emptySide: boolean
  readonly identical: boolean
  /**
   * Near-duplicates among the rows given, best first (the keep order): per row, the kept row it
   * duplicates, -1 when kept or not given (see near-match.ts).
   */
  readonly near?: ((order: Int32Array) => Int32Array) | undefined
  readonly decontaminate: boolean
}

export interface ConflictRow {
  readonly check: "exact" | "mirrored"
  /** The row the keep policy picked for the group. */
  readonly group: number
  readonly row: number
  /** The row's a/b are swapped relative to the group's pick. */
  readonly flipped: boolean
  readonly kept: boolean
}

export interface ReportRow {
  readonly check: string
  readonly groups: number
  readonly rows_found_in_input: number
  readonly rows_removed: number
}

export interface DedupePlan {
  /** Why each row was removed; null = kept. */
  readonly reason: ReadonlyArray<Reason | null>
  /** The kept twin a removed row was merged into (followed through later merges); -1 = none. */
  readonly twin: Int32Array
  /** The row whose pair receives this row's votes (itself when kept); -1 = the votes are dropped. */
  readonly votesTo: Int32Array
  /** 1 when the votes must be flipped (a <-> b) on the way. */
  readonly votesFlip: Uint8Array
  /** 1 for a kept row that received another row's votes (its label is recomputed). */
  readonly merged: Uint8Array
  readonly conflicts: ReadonlyArray<ConflictRow>
  readonly report: ReadonlyArray<ReportRow>
  readonly stats: Readonly<Record<string, number>>
}

const swapLabel = (l: string | null) => (l === "a" ? "b" : l === "b" ? "a" : l)
const votesMove = (r: Reason | null) => r === "exact-duplicate" || r === "mirrored-duplicate"

/**
 * Groups of >= 2 rows among `rows` with equal keys, members in `rows` order; linked lists, no per-row
 * arrays. Integer keys in [0, n) (what the SQL side sends: the group's first row) skip the Map.
 */
export function duplicateGroups(n: number, rows: ArrayLike<number>, key: (i: number) => Key): Array<Array<number>> {
  const headOf = new Int32Array(n).fill(-1),
    headMap = new Map<Key, number>()
  const next = new Int32Array(n).fill(-1),
    tail = new Int32Array(n)
  const multi: Array<number> = []
  for (let k = 0; k < rows.length; k++) {
    const i = rows[k]!,
      kk = key(i)
    const dense = typeof kk === "number" && kk >= 0 && kk < n && Math.floor(kk) === kk
    const h = dense ? headOf[kk]! : (headMap.get(kk) ?? -1)
    if (h === -1) {
      if (dense) headOf[kk] = i
      else headMap.set(kk, i)
      tail[i] = i
    } else {
      if (tail[h] === h) multi.push(h)
      next[tail[h]!] = i
      tail[h] = i
    }
  }
  return multi.map((h) => {
    const members: Array<number> = []
    for (let i = h; i !== -1; i = next[i]!) members.push(i)
    return members
  })
}

/** Row indices 0..n-1 passing `test`, in order (a plain loop: TypedArray.filter is slow in V8). */
function rowsWhere(n: number, test: (i: number) => boolean): Int32Array {
  const out = new Int32Array(n)
  let m = 0
  for (let i = 0; i < n; i++) if (test(i)) out[m++] = i
  return out.subarray(0, m)
}

/** The row a keep policy picks from a group: by policy, then by source order. */
export function pickKept(members: ReadonlyArray<number>, keys: DedupeKeys, policy: KeepPolicy): number {
  const score = policy === "longest" ? keys.length : policy === "most-votes" ? keys.votes : undefined
  let best = members[0]!
  for (const i of members) {
    const s = score === undefined ? 0 : score[i]! - score[best]!
    if (s > 0 || (s === 0 && keys.order[i]! < keys.order[best]!)) best = i
  }
  return best
}

/** `rows` sorted best first for a keep policy: by policy score, then by source order (as pickKept). */
export function byKeepOrder(rows: Int32Array, keys: DedupeKeys, policy: KeepPolicy): Int32Array {
  const score = policy === "longest" ? keys.length : policy === "most-votes" ? keys.votes : undefined
  return rows
    .slice()
    .sort((i, j) => (score === undefined ? 0 : score[j]! - score[i]!) || keys.order[i]! - keys.order[j]!)
}

/** Build the plan. Pure: same keys and steps, same plan. */
export function planDedupe(keys: DedupeKeys, steps: PlanSteps): DedupePlan {
  const n = keys.order.length
  const reason: Array<Reason | null> = new Array(n).fill(null)
  const link = new Int32Array(n).fill(-1),
    flipRel = new Uint8Array(n)
  const conflicts: Array<ConflictRow> = []
  const report: Array<ReportRow> = []
  const stats: Record<string, number> = { rows_in: n }
  const all = rowsWhere(n, () => true)
  const alive = () => rowsWhere(n, (i) => reason[i] === null)
  const countFound = (groups: Array<Array<number>>) => groups.reduce((s, g) => s + g.length, 0)

  // exact and mirrored share this: pick a row, spot label conflicts, merge or apply onConflict
  const settleGroup = (
    check: "exact" | "mirrored",
    members: Array<number>,
    onConflict: ConflictPolicy,
    orient: (i: number) => boolean
  ): { removed: number; conflict: boolean } => {
    const keep = pickKept(members, keys, steps.keep)
    const labels = new Set<string>()
    for (const i of members) {
      const l = orient(i) ? swapLabel(keys.label[i]!) : keys.label[i]!
      if (l !== null && l !== undefined) labels.add(l)
    }
    const conflict = labels.size > 1
    const policy = conflict ? onConflict : "merge"
    for (const i of members) {
      const flipped = orient(i) !== orient(keep)
      if (conflict)
        conflicts.push({
          check,
          group: keep,
          row: i,
          flipped,
          kept: policy === "keep-both" || (i === keep && policy !== "drop-both")
        })
      if (policy === "keep-both" || (i === keep && policy !== "drop-both")) continue
      reason[i] =
        policy === "merge" ? (check === "exact" ? "exact-duplicate" : "mirrored-duplicate") : `${check}-conflict`
      link[i] = policy === "drop-both" ? -1 : keep
      flipRel[i] = flipped ? 1 : 0
    }
    const removed = policy === "keep-both" ? 0 : policy === "drop-both" ? members.length : members.length - 1
    return { removed, conflict }
  }

  const runGroups = (
    check: "exact" | "mirrored",
    groups: Array<Array<number>>,
    found: number,
    onConflict: ConflictPolicy,
    orient: (i: number) => boolean
  ) => {
    let removed = 0,
      nConflicts = 0
    for (const g of groups) {
      const r = settleGroup(check, g, onConflict, orient)
      removed += r.removed
      if (r.conflict) nConflicts++
    }
    report.push({ check, groups: groups.length, rows_found_in_input: found, rows_removed: removed })
    Object.assign(stats, {
      [`${check}_groups`]: groups.length,
      [`${check}_removed`]: removed,
      [`${check}_conflicts`]: nConflicts
    })
  }

  if (steps.decontaminate) {
    const c = keys.contaminated ?? new Uint8Array(n)
    // the first step: every row is alive, so it removes every contaminated row
    const hits = rowsWhere(n, (i) => c[i]! > 0)
    let near = 0
    for (const i of hits) {
      reason[i] = c[i] === 1 ? "contaminated" : "contaminated-near"
      if (c[i] === 2) near++
    }
    report.push({
      check: "contaminated",
      groups: hits.length,
      rows_found_in_input: hits.length,
      rows_removed: hits.length
    })
    Object.assign(stats, { contaminated: hits.length, contaminated_near: near })
  }

  if (steps.exact !== undefined) {
    const living = alive(),
      key = (i: number) => keys.exactKey[i]!
    const groups = duplicateGroups(n, living, key)
    runGroups(
      "exact",
      groups,
      countFound(living.length === n ? groups : duplicateGroups(n, all, key)),
      steps.exact.onConflict,
      () => false
    )
  }
  if (steps.mirrored !== undefined) {
    const both = (g: Array<number>) => g.some((i) => keys.flipped[i]) && g.some((i) => !keys.flipped[i])
    const mirrorGroups = (onlyAlive: boolean) =>
      duplicateGroups(
        n,
        rowsWhere(n, (i) => !keys.identical[i] && (!onlyAlive || reason[i] === null)),
        (i) => keys.mirrorKey[i]!
      ).filter(both)
    const found = countFound(mirrorGroups(false))
    runGroups("mirrored", mirrorGroups(true), found, steps.mirrored.onConflict, (i) => Boolean(keys.flipped[i]))
  }
  const dropRows = (check: Reason, stat: string, test: (i: number) => boolean) => {
    const hits = rowsWhere(n, (i) => reason[i] === null && test(i))
    const found = rowsWhere(n, test).length
    for (const i of hits) reason[i] = check
    report.push({ check, groups: hits.length, rows_found_in_input: found, rows_removed: hits.length })
    stats[stat] = hits.length
  }
  if (steps.emptySide) dropRows("empty-side", "empty_side", (i) => Boolean(keys.emptySide[i]))
  if (steps.identical) dropRows("identical-sides", "identical", (i) => Boolean(keys.identical[i]))

  if (steps.near !== undefined) {
    const living = alive()
    const twinOf = steps.near(byKeepOrder(living, keys, steps.keep))
    const kept = new Set<number>()
    let removed = 0
    for (const i of living) {
      if (twinOf[i]! < 0) continue
      reason[i] = "near-duplicate"
      link[i] = twinOf[i]!
      kept.add(twinOf[i]!)
      removed++
    }
    // found in the whole input: the rows a run over every row would remove, and their kept twins
    const allTwins = living.length === n ? twinOf : steps.near(byKeepOrder(all, keys, steps.keep))
    const twinsAll = new Set<number>()
    let removable = 0
    for (let i = 0; i < n; i++)
      if (allTwins[i]! >= 0) {
        removable++
        twinsAll.add(allTwins[i]!)
      }
    report.push({
      check: "near-duplicate",
      groups: kept.size,
      rows_found_in_input: removable + twinsAll.size,
      rows_removed: removed
    })
    Object.assign(stats, { near_clusters: kept.size, near_removed: removed })
  }

  const twin = new Int32Array(n).fill(-1),
    votesTo = new Int32Array(n),
    votesFlip = new Uint8Array(n),
    merged = new Uint8Array(n)
  for (let i = 0; i < n; i++) {
    let j = link[i]!
    while (j >= 0 && link[j]! >= 0) j = link[j]!
    // a group whose kept row a later step removed (an empty side or identical sides, which every row of
    // an exact or mirrored group shares) has no kept twin: never point at a removed row
    twin[i] = j >= 0 && reason[j] === null ? j : -1
    let k = i,
      f = 0
    while (votesMove(reason[k]!)) {
      f ^= flipRel[k]!
      k = link[k]!
    }
    votesTo[i] = reason[k] === null ? k : -1
    votesFlip[i] = votesTo[i]! >= 0 ? f : 0
    if (votesTo[i] !== i && votesTo[i]! >= 0) merged[votesTo[i]!] = 1
  }
  const removedRows = reason.filter((r) => r !== null).length
  Object.assign(stats, { rows_out: n - removedRows, removed: removedRows })
  return { reason, twin, votesTo, votesFlip, merged, conflicts, report, stats }
}
