/**
 * The split family's pure core: params to the SQL that assigns each group of rows to a split.
 *
 * Groups (rows with equal `groupBy` values) are put in a seeded order: the md5 of the seed and the
 * group's key. Within each stratum (all rows when `stratify` is unset) the groups are taken in that
 * order and each goes to the split whose share of the stratum's rows its midpoint falls in, so every
 * stratum is split by the fractions to within half a group at each cut, and no group is cut in two.
 */
export const SPLITS = ["train", "validation", "test"] as const
export type SplitName = (typeof SPLITS)[number]

export interface SplitPlan {
  readonly fractions: Readonly<Partial<Record<SplitName, number>>>
  readonly seed: number
  readonly groupBy: ReadonlyArray<string>
  readonly stratify?: string | undefined
}

export const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`

/** The cut points between train | validation | test, as shares of a stratum (absent fractions are 0). */
export function cuts(fractions: SplitPlan["fractions"]): readonly [number, number] {
  const train = fractions.train ?? 0
  return [train, train + (fractions.validation ?? 0)]
}

/**
 * SQL of the input rows with `_wb_group` (the seeded md5 of the group key), `_wb_stratum` (text) and
 * `_wb_row`. The key's parts are separated by a unit separator, and NULL is spelt apart from any text.
 */
export function keyedSql(numbered: string, plan: SplitPlan): string {
  const parts = plan.groupBy.map((c) => `coalesce(${quoted(c)}::VARCHAR, chr(0) || 'null')`)
  const key = `md5(concat_ws(chr(31), ${[`'${plan.seed}'`, ...parts].join(", ")}))`
  const stratum = plan.stratify === undefined ? "NULL::VARCHAR" : `${quoted(plan.stratify)}::VARCHAR`
  return `SELECT *, ${key} AS _wb_group, ${stratum} AS _wb_stratum FROM ${numbered}`
}

/**
 * SQL of one row per group: its split, its stratum (the most common value of its rows; ties go to the
 * smallest, NULL last) and how many strata its rows had (more than 1: a group cannot follow each).
 */
export function groupsSql(keyed: string, plan: SplitPlan): string {
  const [a, b] = cuts(plan.fractions)
  return `WITH per AS (SELECT _wb_group, _wb_stratum, count(*) AS n FROM ${keyed} GROUP BY ALL),
    g AS (SELECT _wb_group, sum(n) AS n, first(_wb_stratum ORDER BY n DESC, _wb_stratum ASC NULLS LAST) AS stratum,
            count(*) AS strata FROM per GROUP BY _wb_group),
    placed AS (SELECT *, (sum(n) OVER (PARTITION BY stratum ORDER BY _wb_group ROWS UNBOUNDED PRECEDING) - n / 2.0)
                 / sum(n) OVER (PARTITION BY stratum) AS mid FROM g)
    SELECT _wb_group, stratum, strata, n,
      CASE WHEN mid < ${a} THEN 'train' WHEN mid < ${b} THEN 'validation' ELSE 'test' END AS split
    FROM placed`
}

/** SQL of one split's rows, in input order, without the helper columns. */
export const splitRowsSql = (keyed: string, groups: string, split: SplitName) =>
  `SELECT k.* EXCLUDE (_wb_row, _wb_group, _wb_stratum) FROM ${keyed} k JOIN ${groups} g USING (_wb_group)
   WHERE g.split = '${split}' ORDER BY k._wb_row`

/** SQL of the counts the node reports: rows and groups per split, strata, groups whose rows span strata. */
export const countsSql = (groups: string) =>
  `SELECT ${SPLITS.map(
    (s) =>
      `coalesce(sum(n) FILTER (WHERE split = '${s}'), 0)::BIGINT AS ${s}_rows, ` +
      `count(*) FILTER (WHERE split = '${s}') AS ${s}_groups`
  ).join(", ")},
    count(*) AS groups, count(DISTINCT stratum) + coalesce(max(CASE WHEN stratum IS NULL THEN 1 ELSE 0 END), 0) AS strata,
    count(*) FILTER (WHERE strata > 1) AS mixed_groups FROM ${groups}`
