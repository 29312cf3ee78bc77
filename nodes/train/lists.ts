/**
 * Ranked lists for Plackett–Luce, rebuilt from a pairs table with `rank_group` (load.oasst's: the
 * parent message; every pair of a group compares two of its sibling responses): each group's distinct
 * responses, best first. The order comes from the rank columns when a group's rows all carry
 * `rank_a` / `rank_b` (lower is better, OASST's 0 = best), else from wins within the group (labelled
 * pairs won; equal wins keep first-appearance order). A response is one text: `response_a` /
 * `response_b` when the table has them, else its feature list. Groups of fewer than two responses
 * give no list (counted).
 */
import { Effect } from "effect"
import { DataError } from "../../workbench/core/errors.js"
import type { InputTable } from "../../workbench/core/node.js"
import { Sql } from "../../workbench/core/services.js"
import type { ListSet } from "../../workbench/core/trainer.js"
import {
  bagTable,
  featureColumns,
  type Features,
  featureProblem,
  has,
  listOf,
  vectorTable,
  widthMismatch
} from "./data.js"

export interface ReadLists {
  readonly lists: ListSet
  readonly hashConfig: unknown
  readonly dim: number
  readonly stats: {
    readonly lists: number
    readonly mean_list_length: number
    /** Groups ordered by rank columns, and by wins. */
    readonly lists_by_rank: number
    readonly lists_by_wins: number
    readonly list_order: string
    readonly skipped_groups: number
    readonly skipped_no_group: number
  }
}

interface Group {
  prompt: ArrayLike<number>
  keys: string[]
  feats: Array<ArrayLike<number>>
  rank: number[]
  wins: number[]
  ranked: boolean
}

/** The `rank_group` error: where, what the table has, what is needed, what to do. */
export function missingRankGroup(input: InputTable, where: string): DataError | null {
  if (has(input.schema, "rank_group")) return null
  return new DataError({
    where: `${where} input pairs`,
    found: `no rank_group column (the pairs have ${input.schema.columns.map((c) => c.name).join(", ")})`,
    expected: 'rank_group for loss: "plackett-luce": the pairs of one ranked group share it (load.oasst writes it)',
    fix: 'load ranked data with load.oasst (or add a rank_group column), or use loss: "bradley-terry"'
  })
}

export const readLists = (input: InputTable, o: { readonly features: Features; readonly where: string }) =>
  Effect.gen(function* () {
    const sql = yield* Sql
    const s = input.schema
    const [pc, ac, bc] = featureColumns(o.features)
    const ranks = has(s, "rank_a") && has(s, "rank_b")
    const texts = has(s, "response_a") && has(s, "response_b")
    const key = (side: "a" | "b") => (texts ? `"response_${side}"::VARCHAR` : `"${side === "a" ? ac : bc}"::VARCHAR`)
    const query = `SELECT _wb_row, rank_group::VARCHAR, "label"::VARCHAR, "${pc}", "${ac}", "${bc}",
      ${ranks ? `"rank_a"::DOUBLE, "rank_b"::DOUBLE` : "NULL, NULL"}, ${key("a")}, ${key("b")},
      ${o.features === "hash" ? "hash_config::VARCHAR" : "NULL"} FROM ${input.numbered} ORDER BY _wb_row`
    const groups = new Map<string, Group>()
    let noGroup = 0,
      hashConfig: unknown,
      dim = -1,
      bad: string | null = null
    yield* sql.scan(query, (cols, n) => {
      for (let i = 0; i < n && bad === null; i++) {
        const g = cols[1]![i] as string | null
        if (g === null) {
          noGroup++
          continue
        }
        const p = listOf(cols[3]![i]),
          a = listOf(cols[4]![i]),
          b = listOf(cols[5]![i])
        if (p === null || a === null || b === null || p.length === 0 || a.length === 0 || b.length === 0) {
          bad = `row ${Number(cols[0]![i])} has an empty or NULL feature list`
          break
        }
        if (o.features === "embedding") {
          if (dim < 0) dim = p.length
          bad = widthMismatch(Number(cols[0]![i]), dim, p, a, b)
          if (bad !== null) break
        } else if (hashConfig === undefined) hashConfig = JSON.parse(String(cols[10]![i]))
        let gr = groups.get(g)
        if (gr === undefined) {
          gr = { prompt: p, keys: [], feats: [], rank: [], wins: [], ranked: true }
          groups.set(g, gr)
        }
        const label = cols[2]![i] as string | null
        const ra = cols[6]![i] as number | null,
          rb = cols[7]![i] as number | null
        if (ra === null || rb === null) gr.ranked = false
        const member = (k: string, f: ArrayLike<number>, rank: number | null, won: boolean) => {
          let j = gr.keys.indexOf(k)
          if (j < 0) {
            j = gr.keys.push(k) - 1
            gr.feats.push(f)
            gr.rank.push(rank ?? Infinity)
            gr.wins.push(0)
          }
          if (won) gr.wins[j]! += 1
        }
        member(String(cols[8]![i]), a, ra, label === "a")
        member(String(cols[9]![i]), b, rb, label === "b")
      }
    })
    const problem = featureProblem(o, bad, hashConfig)
    if (problem !== null) return yield* problem
    const bags: Array<ArrayLike<number>> = []
    const prompt: number[] = [],
      starts: number[] = [0],
      members: number[] = []
    let byRank = 0,
      byWins = 0,
      skipped = 0
    for (const gr of groups.values()) {
      const k = gr.keys.length
      if (k < 2) {
        skipped++
        continue
      }
      const order = Array.from({ length: k }, (_, j) => j)
      // Array.prototype.sort is stable: equal ranks / wins keep first-appearance order
      if (gr.ranked) order.sort((x, y) => gr.rank[x]! - gr.rank[y]!)
      else order.sort((x, y) => gr.wins[y]! - gr.wins[x]!)
      if (gr.ranked) byRank++
      else byWins++
      prompt.push(bags.length)
      bags.push(gr.prompt)
      for (const j of order) {
        members.push(bags.length)
        bags.push(gr.feats[j]!)
      }
      starts.push(members.length)
    }
    const n = prompt.length
    const table = o.features === "hash" ? bagTable(bags) : { count: bags.length, vectors: vectorTable(bags, dim) }
    return {
      lists: {
        texts: table,
        prompt: Int32Array.from(prompt),
        starts: Int32Array.from(starts),
        members: Int32Array.from(members)
      },
      hashConfig: hashConfig ?? null,
      dim,
      stats: {
        lists: n,
        mean_list_length: n > 0 ? members.length / n : 0,
        lists_by_rank: byRank,
        lists_by_wins: byWins,
        list_order: byWins === 0 ? "rank columns" : byRank === 0 ? "wins within the group" : "rank columns, else wins",
        skipped_groups: skipped,
        skipped_no_group: noGroup
      }
    } satisfies ReadLists
  })
