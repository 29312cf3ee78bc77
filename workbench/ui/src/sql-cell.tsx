/**
 * A SQL cell: one read-only DuckDB query over the pipeline's cached artifacts (`"clean"` is a node's
 * main table, `"clean.removed"` another of its tables), run by the server in a sandboxed child process.
 * The result shows as a table and a quick chart (x / y / mark); "save as node" adds it to the pipeline
 * as a `transform.sql` node, its table names rewritten into the node's declared inputs.
 */
import type { ColumnTable } from "arquero"
import { useMemo, useState } from "preact/hooks"
import { ApiError, pipelinePath, postArrow, postJson, rowsOf } from "./api.ts"
import { type QuickMark, quickChart } from "./charts.ts"
import { Mount } from "./mount.tsx"
import { LongText } from "./table-view.tsx"
import type { Graph } from "./types.ts"

/**
 * The SQL as a node sees it: each `"node"` / `"node.table"` (or a bare node name) becomes an input name
 * (the table's name, or `node_table` when two nodes' tables share it). Exported for its test.
 */
export function asNodeSql(sql: string, graph: Graph): { sql: string; inputs: Record<string, string> } {
  const inputs: Record<string, string> = {}
  const names = new Map<string, string>()
  const tableNames = graph.nodes.flatMap((n) => Object.keys(n.outputs))
  const inputName = (ref: string) => {
    const known = names.get(ref)
    if (known) return known
    const [node, table] = ref.split(".") as [string, string | undefined]
    let name =
      table === undefined ? node : tableNames.filter((t) => t === table).length > 1 ? `${node}_${table}` : table
    while (inputs[name] !== undefined && inputs[name] !== ref) name = `${name}_`
    inputs[name] = ref
    names.set(ref, name)
    return name
  }
  const refs = new Set(graph.nodes.flatMap((n) => [n.name, ...Object.keys(n.outputs).map((t) => `${n.name}.${t}`)]))
  const nodes = new Set(graph.nodes.map((n) => n.name))
  // quoted references first ("clean.removed"), then bare node names after FROM / JOIN
  const quoted = sql.replace(/"([^"]+)"/g, (all, ref: string) => (refs.has(ref) ? inputName(ref) : all))
  const out = quoted.replace(/\b(from|join)(\s+)([A-Za-z_][\w]*)/gi, (all, kw: string, sp: string, ref: string) =>
    nodes.has(ref) && inputs[ref] === undefined ? `${kw}${sp}${inputName(ref)}` : all
  )
  return { sql: out, inputs }
}

interface SnippetReply {
  readonly snippet: string
  readonly why: string
  readonly imports: string
  readonly fix: string
}

/** The node as a line to paste into a TypeScript pipeline, why it was not written, and a copy button. */
function PasteSnippet({ reply }: { reply: SnippetReply }) {
  const [copied, setCopied] = useState<"" | "copied" | "select it and copy">("")
  const copy = () =>
    navigator.clipboard.writeText(reply.snippet).then(
      () => setCopied("copied"),
      () => setCopied("select it and copy") // no clipboard permission: the text is there to select
    )
  return (
    <div class="snippet" id="sql-snippet">
      <p class="muted">{reply.why}</p>
      <pre>
        <code>{reply.snippet}</code>
      </pre>
      <div class="toolbar">
        <button type="button" id="sql-snippet-copy" onClick={copy}>
          copy
        </button>
        {copied && <span class="ok">{copied}</span>}
      </div>
      <p class="muted">
        {reply.fix}; it needs <code>{reply.imports}</code>
      </p>
    </div>
  )
}

const EXAMPLE = (g: Graph) => {
  const n = g.nodes.find((x) => x.outputs["removed"]) ?? g.nodes[0]
  if (!n) return "select 1"
  return n.outputs["removed"]
    ? `select reason, count(*) as n from "${n.name}.removed" group by reason order by n desc`
    : `select * from "${n.name}" limit 100`
}

export function SqlCell({ pipeline, graph, onSaved }: { pipeline: string; graph: Graph; onSaved: () => void }) {
  const [sql, setSql] = useState(() => EXAMPLE(graph))
  const [result, setResult] = useState<{ table: ColumnTable; truncated: boolean } | null>(null)
  const [error, setError] = useState<string | undefined>()
  const [saved, setSaved] = useState<string | undefined>()
  // a TypeScript pipeline is not rewritten: the node comes back as a line to paste
  const [snippet, setSnippet] = useState<SnippetReply | undefined>()
  const [busy, setBusy] = useState(false)
  const [x, setX] = useState("")
  const [y, setY] = useState("")
  const [mark, setMark] = useState<QuickMark>("bar")

  const run = async () => {
    setBusy(true)
    setSaved(undefined)
    try {
      const r = await postArrow("/api/sql", { pipeline, sql })
      const cols = r.table.columnNames()
      setResult({ table: r.table, truncated: r.headers.get("x-wb-truncated") === "true" })
      setX(cols[0] ?? "")
      setY(cols.find((c, i) => i > 0 && typeof r.table.get(c, 0) === "number") ?? cols[1] ?? "")
      setError(undefined)
    } catch (e) {
      setResult(null)
      setError(e instanceof ApiError ? e.message : String(e))
    } finally {
      setBusy(false)
    }
  }
  const save = async (e: Event) => {
    e.preventDefault()
    const name = String(new FormData(e.currentTarget as HTMLFormElement).get("name") ?? "").trim()
    try {
      const node = asNodeSql(sql, graph)
      const reply = await postJson<{ saved: string | null } & Partial<SnippetReply>>(
        `${pipelinePath(pipeline)}/sql-node`,
        { name, ...node }
      )
      setError(undefined)
      if (reply.saved === null && reply.snippet !== undefined) {
        setSaved(undefined)
        setSnippet({ snippet: reply.snippet, why: reply.why ?? "", imports: reply.imports ?? "", fix: reply.fix ?? "" })
        return
      }
      setSnippet(undefined)
      setSaved(name)
      onSaved()
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err))
    }
  }
  const chart = useMemo(() => (result && x && y ? quickChart(result.table, x, y, mark) : null), [result, x, y, mark])
  const cols = result?.table.columnNames() ?? []
  const rows = result ? rowsOf(result.table.slice(0, 200)) : []
  return (
    <section class="cell sql-cell" id="sql-cell">
      <header>
        <span class="cell-name">SQL</span>
        <span class="kind">read-only DuckDB over the cached artifacts: "node" or "node.table"</span>
      </header>
      <textarea name="sql" rows={3} value={sql} onInput={(e) => setSql(e.currentTarget.value)} spellcheck={false} />
      <div class="toolbar">
        <button type="button" id="sql-run" class="primary" disabled={busy} onClick={run}>
          {busy ? "running…" : "Run query"}
        </button>
        {result && (
          <span class="muted" id="sql-rows" data-rows={result.table.numRows()}>
            {result.table.numRows()} rows{result.truncated ? " (truncated)" : ""}
          </span>
        )}
      </div>
      {error && <div class="error">{error}</div>}
      {result && (
        <div class="sql-result">
          <div class="toolbar">
            <label>
              x{" "}
              <select value={x} onChange={(e) => setX(e.currentTarget.value)}>
                {cols.map((c) => (
                  <option key={c}>{c}</option>
                ))}
              </select>
            </label>
            <label>
              y{" "}
              <select value={y} onChange={(e) => setY(e.currentTarget.value)}>
                {cols.map((c) => (
                  <option key={c}>{c}</option>
                ))}
              </select>
            </label>
            <label>
              mark{" "}
              <select value={mark} onChange={(e) => setMark(e.currentTarget.value as QuickMark)}>
                <option>bar</option>
                <option>dot</option>
                <option>line</option>
              </select>
            </label>
          </div>
          <Mount node={chart} class="quick-chart" />
          <div class="scroll">
            <table class="rows">
              <thead>
                <tr>
                  {cols.map((c) => (
                    <th key={c}>{c}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {rows.map((r, i) => (
                  <tr key={i}>
                    {cols.map((c) => (
                      <td key={c}>
                        {r[c] === null ? <span class="null">null</span> : <LongText text={String(r[c])} />}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <form class="toolbar" onSubmit={save}>
            <input
              name="name"
              placeholder="node name, e.g. removed_by_reason"
              pattern="[A-Za-z_][A-Za-z0-9_\-]*"
              required
            />
            <button type="submit" id="sql-save">
              save as node
            </button>
            {saved && <span class="ok">saved as node {saved}</span>}
          </form>
          {snippet && <PasteSnippet reply={snippet} />}
        </div>
      )}
    </section>
  )
}
