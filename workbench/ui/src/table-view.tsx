/**
 * One output table of a node, paged by the server (keyset: deep pages cost what the first does), with
 * sort, a SQL filter expression, column summaries (type, nulls, distinct, min/max and a histogram or
 * top values, computed in DuckDB), long texts that expand, and pairs shown as a prompt over the two
 * responses side by side with their label beneath.
 */
import type { ColumnTable } from "arquero"
import { useEffect, useState } from "preact/hooks"
import { getArrow, getJson, rowsOf, tablePath } from "./api.ts"
import { histogramChart, topChart } from "./charts.ts"
import { Mount } from "./mount.tsx"
import type { OutputTable } from "./types.ts"

const PAGE = 25
const PAIR_COLUMNS = ["prompt", "response_a", "response_b"]

export function LongText({ text, limit = 140 }: { text: string; limit?: number }) {
  const [open, setOpen] = useState(false)
  if (text.length <= limit) return <span class="text">{text}</span>
  return (
    <span class="text">
      {open ? text : `${text.slice(0, limit)}…`}{" "}
      <button type="button" class="link expand" onClick={() => setOpen(!open)}>
        {open ? "less" : `more (${text.length} chars)`}
      </button>
    </span>
  )
}

const cell = (v: unknown) =>
  v === null || v === undefined ? <span class="null">null</span> : <LongText text={String(v)} />

interface Props {
  readonly pipeline: string
  readonly node: string
  readonly table: string
  readonly info: OutputTable
}

export function TableView({ pipeline, node, table, info }: Props) {
  const [sort, setSort] = useState<{ col: string; desc: boolean } | null>(null)
  const [filter, setFilter] = useState("")
  const [cursors, setCursors] = useState<ReadonlyArray<string>>([""])
  const [page, setPage] = useState<{ rows: ColumnTable; next: string | null; total: number } | null>(null)
  const [error, setError] = useState<string | undefined>()
  const [asPairs, setAsPairs] = useState(false)
  const [summary, setSummary] = useState(false)
  const after = cursors[cursors.length - 1]!

  useEffect(() => {
    const q = new URLSearchParams({ limit: String(PAGE) })
    if (sort) q.set("sort", sort.col)
    if (sort?.desc) q.set("desc", "1")
    if (filter) q.set("filter", filter)
    if (after) q.set("after", after)
    getArrow(`${tablePath(pipeline, node, table)}/rows?${q}`).then(
      (r) => {
        setError(undefined)
        setPage({ rows: r.table, next: r.headers.get("x-wb-next"), total: Number(r.headers.get("x-wb-total") ?? 0) })
      },
      (e) => setError(String(e instanceof Error ? e.message : e))
    )
  }, [pipeline, node, table, sort, filter, after])

  const reset = () => setCursors([""])
  const columns = info.columns.map((c) => c.name)
  // a blob shows as hex or its size, so the server refuses to page sorted by one
  const blobs = new Set(info.columns.filter((c) => c.type === "blob").map((c) => c.name))
  const rows = page ? rowsOf(page.rows) : []
  const first = (cursors.length - 1) * PAGE
  return (
    <div class="table-view" data-table={table}>
      <form
        class="toolbar"
        onSubmit={(e) => {
          e.preventDefault()
          setFilter(String(new FormData(e.currentTarget).get("filter") ?? "").trim())
          reset()
        }}
      >
        <input name="filter" class="filter" placeholder="filter: a SQL expression, e.g. length(prompt) < 200" />
        <button type="submit">filter</button>
        <span class="muted pager">
          {page ? `${page.total ? first + 1 : 0}–${first + rows.length} of ${page.total}` : "…"}
        </span>
        <button type="button" disabled={cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>
          ‹ prev
        </button>
        <button type="button" disabled={!page?.next} onClick={() => page?.next && setCursors([...cursors, page.next])}>
          next ›
        </button>
        {PAIR_COLUMNS.every((c) => columns.includes(c)) && (
          <label>
            <input
              type="checkbox"
              name="as-pairs"
              checked={asPairs}
              onChange={(e) => setAsPairs(e.currentTarget.checked)}
            />{" "}
            as pairs
          </label>
        )}
        <label>
          <input type="checkbox" checked={summary} onChange={(e) => setSummary(e.currentTarget.checked)} /> summary
        </label>
      </form>
      {error && <div class="error">{error}</div>}
      {summary && <Summary {...{ pipeline, node, table }} />}
      {asPairs ? (
        <div class="pairs">
          {rows.map((r) => (
            <PairCard key={String(r["__row"])} row={r} />
          ))}
        </div>
      ) : (
        <div class="scroll">
          <table class="rows">
            <thead>
              <tr>
                {columns.map((c) => (
                  <th
                    key={c}
                    {...(blobs.has(c)
                      ? {}
                      : {
                          class: "sortable",
                          onClick: () => {
                            setSort(sort?.col === c ? { col: c, desc: !sort.desc } : { col: c, desc: false })
                            reset()
                          }
                        })}
                  >
                    {c}
                    {sort?.col === c ? (sort.desc ? " ▼" : " ▲") : ""}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={String(r["__row"])}>
                  {columns.map((c) => (
                    <td key={c}>{cell(r[c])}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  )
}

/** A pair: the prompt, the two responses side by side, and what is known of the preference beneath. */
export function PairCard({ row }: { row: Record<string, unknown> }) {
  const label = row["label"]
  const extra = ["label", "label_source", "source", "pair_id"].filter((k) => row[k] !== undefined && row[k] !== null)
  return (
    <div class="pair">
      <div class="prompt">
        <LongText text={String(row["prompt"] ?? "")} limit={400} />
      </div>
      <div class="sides">
        {(["a", "b"] as const).map((s) => (
          <div key={s} class={`side${label === s ? " preferred" : ""}`}>
            <div class="side-name">response {s}</div>
            <LongText text={String(row[`response_${s}`] ?? "")} limit={400} />
          </div>
        ))}
      </div>
      <div class="votes muted">{extra.map((k) => `${k}: ${String(row[k])}`).join(" · ")}</div>
    </div>
  )
}

interface ColumnSummary {
  readonly name: string
  readonly type: string
  readonly nulls: number
  readonly distinct: number
  readonly min: unknown
  readonly max: unknown
}
interface ColumnDetail {
  readonly histogram?: ReadonlyArray<{ x0: number; x1: number; n: number }>
  readonly top?: ReadonlyArray<{ value: string; n: number }>
  readonly mean_length?: number
}

function Summary({ pipeline, node, table }: { pipeline: string; node: string; table: string }) {
  const [s, setS] = useState<{ rows: number; columns: ReadonlyArray<ColumnSummary> } | null>(null)
  const [detail, setDetail] = useState<{ name: string; chart: Element } | null>(null)
  const [error, setError] = useState<string | undefined>()
  const base = `${tablePath(pipeline, node, table)}/summary`
  useEffect(() => {
    getJson<{ rows: number; columns: ReadonlyArray<ColumnSummary> }>(base).then(setS, (e) => setError(String(e)))
  }, [base])
  const open = (name: string) =>
    getJson<{ column: ColumnDetail }>(`${base}?column=${encodeURIComponent(name)}&bins=20`).then(
      ({ column }) => {
        const chart = column.histogram ? histogramChart(column.histogram, name) : topChart(column.top ?? [])
        setDetail({ name, chart })
      },
      (e) => setError(String(e))
    )
  const short = (v: unknown) => (v === null || v === undefined ? "" : String(v).slice(0, 30))
  return (
    <div class="summary">
      {error && <div class="error">{error}</div>}
      {s && (
        <table class="rows">
          <thead>
            <tr>
              <th>column</th>
              <th>type</th>
              <th>nulls</th>
              <th>distinct≈</th>
              <th>min</th>
              <th>max</th>
            </tr>
          </thead>
          <tbody>
            {s.columns.map((c) => (
              <tr key={c.name} class="clickable" onClick={() => open(c.name)} title="click: distribution">
                <td>{c.name}</td>
                <td>{c.type}</td>
                <td class="num">{c.nulls}</td>
                <td class="num">{c.distinct}</td>
                <td>{short(c.min)}</td>
                <td>{short(c.max)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {detail && (
        <div class="column-chart">
          <h4>{detail.name}</h4>
          <Mount node={detail.chart} />
        </div>
      )}
    </div>
  )
}
