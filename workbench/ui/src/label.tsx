/**
 * Labeling a pairs table (a mix node's human_queue, or any node's pairs): the prompt and the two
 * responses in the order the server drew for this lease, keys 1 / 2 / 3 (tie) / s (skip) / u (undo),
 * a progress counter. Votes are written by the server as the user named at the start; each tab has
 * its own id, so two tabs never hold the same pair.
 */
import { useCallback, useEffect, useState } from "preact/hooks"
import { ApiError, getJson, pipelinePath, postJson } from "./api.ts"
import { LongText } from "./table-view.tsx"
import type { Graph } from "./types.ts"

interface Next {
  readonly done?: boolean
  readonly pair_id?: string
  readonly prompt?: string
  readonly first?: string
  readonly second?: string
  readonly order?: "ab" | "ba"
  readonly progress: { readonly labeled: number; readonly total: number }
}

const PAIRS = ["pair_id", "prompt", "response_a", "response_b"]
const TAB = (() => {
  const k = "wb-tab"
  const id = sessionStorage.getItem(k) ?? Math.random().toString(36).slice(2, 10)
  sessionStorage.setItem(k, id)
  return id
})()

/**
 * The queues: every node table with pair columns; a `human_queue` first, then the most downstream
 * node's (the cleanest pairs), its main table before the others.
 */
export function queuesOf(g: Graph): Array<{ node: string; table: string }> {
  const out = [...g.nodes].reverse().flatMap((n) =>
    Object.entries(n.outputs)
      .filter(([, t]) => PAIRS.every((c) => t.columns.some((k) => k.name === c)))
      .sort(([, a], [, b]) => Number(b.role === "main") - Number(a.role === "main"))
      .map(([table]) => ({ node: n.name, table }))
  )
  const human = (q: { table: string }) => Number(q.table === "human_queue")
  return out.sort((a, b) => human(b) - human(a))
}

export function Labeling({ pipeline }: { pipeline: string }) {
  const [user, setUser] = useState(() => localStorage.getItem("wb-user") ?? "")
  const [graph, setGraph] = useState<Graph | null>(null)
  const [queue, setQueue] = useState<string>("")
  const [pair, setPair] = useState<Next | null>(null)
  const [error, setError] = useState<string | undefined>()
  const [session, setSession] = useState(0)
  useEffect(() => {
    getJson<Graph>(`${pipelinePath(pipeline)}/graph`).then(
      (g) => {
        setGraph(g)
        const q = queuesOf(g)[0]
        setQueue(q ? `${q.node}/${q.table}` : "")
      },
      (e) => setError(String(e))
    )
  }, [pipeline])
  const [node, table] = queue.split("/") as [string, string | undefined]

  const next = useCallback(async () => {
    if (!user || !table) return
    const q = new URLSearchParams({ node, table, user, tab: TAB })
    try {
      setPair(await getJson<Next>(`${pipelinePath(pipeline)}/label/next?${q}`))
      setError(undefined)
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e))
    }
  }, [pipeline, node, table, user])
  useEffect(() => {
    next()
  }, [next])

  const vote = useCallback(
    async (key: "1" | "2" | "3" | "s") => {
      if (!pair?.pair_id || !pair.order) return
      // the screen's first response is side a when the order is "ab"
      const firstSide = pair.order === "ab" ? "a" : "b"
      const secondSide = firstSide === "a" ? "b" : "a"
      const v = key === "1" ? firstSide : key === "2" ? secondSide : key === "3" ? "tie" : "skip"
      try {
        await postJson(`${pipelinePath(pipeline)}/label`, {
          node,
          table,
          user,
          tab: TAB,
          pair_id: pair.pair_id,
          vote: v,
          order: pair.order
        })
        if (v !== "skip") setSession((n) => n + 1)
        await next()
      } catch (e) {
        setError(e instanceof ApiError ? e.message : String(e))
      }
    },
    [pair, pipeline, node, table, user, next]
  )
  const undo = useCallback(async () => {
    try {
      const r = await postJson<{ undone: string | null }>(`${pipelinePath(pipeline)}/label/undo`, { node, table, user })
      if (r.undone) setSession((n) => Math.max(0, n - 1))
      await next()
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e))
    }
  }, [pipeline, node, table, user, next])

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (
        e.target instanceof HTMLInputElement ||
        e.target instanceof HTMLTextAreaElement ||
        e.target instanceof HTMLSelectElement
      )
        return
      if (e.key === "1" || e.key === "2" || e.key === "3" || e.key === "s") vote(e.key)
      else if (e.key === "u") undo()
    }
    window.addEventListener("keydown", onKey)
    return () => window.removeEventListener("keydown", onKey)
  }, [vote, undo])

  if (!user) {
    return (
      <form
        class="label-start"
        onSubmit={(e) => {
          e.preventDefault()
          const name = String(new FormData(e.currentTarget).get("user") ?? "").trim()
          if (!name) return
          localStorage.setItem("wb-user", name)
          setUser(name)
        }}
      >
        <h2>Labeling</h2>
        <p>Your votes are recorded under your name (as the rater).</p>
        <input name="user" placeholder="your name" required />
        <button type="submit" class="primary">
          start
        </button>
      </form>
    )
  }
  const queues = graph ? queuesOf(graph) : []
  return (
    <div class="labeling">
      <div class="toolbar">
        <span>
          rater <b id="label-user">{user}</b>{" "}
          <button
            type="button"
            class="link"
            onClick={() => {
              localStorage.removeItem("wb-user")
              setUser("")
            }}
          >
            change
          </button>
        </span>
        <label>
          queue{" "}
          <select value={queue} onChange={(e) => setQueue(e.currentTarget.value)}>
            {queues.map((q) => (
              <option key={`${q.node}/${q.table}`} value={`${q.node}/${q.table}`}>{`${q.node}.${q.table}`}</option>
            ))}
          </select>
        </label>
        {pair && (
          <span id="label-progress" data-labeled={pair.progress.labeled} data-total={pair.progress.total}>
            {pair.progress.labeled} / {pair.progress.total} labeled · {session} this session
          </span>
        )}
        <button type="button" id="label-undo" onClick={undo}>
          undo (u)
        </button>
      </div>
      {error && <div class="error">{error}</div>}
      {queues.length === 0 && graph && <p>No table with pair_id, prompt, response_a, response_b has been run yet.</p>}
      {pair?.done && <p id="label-done">All pairs in this queue are labeled (or held by another tab).</p>}
      {pair && !pair.done && (
        <div class="pair label-pair" data-pair={pair.pair_id}>
          <div class="prompt">
            <LongText text={pair.prompt ?? ""} limit={1200} />
          </div>
          <div class="sides">
            <div class="side">
              <div class="side-name">1 · first</div>
              <LongText text={pair.first ?? ""} limit={2000} />
            </div>
            <div class="side">
              <div class="side-name">2 · second</div>
              <LongText text={pair.second ?? ""} limit={2000} />
            </div>
          </div>
          <div class="keys">
            <button type="button" onClick={() => vote("1")}>
              1 · first is better
            </button>
            <button type="button" onClick={() => vote("2")}>
              2 · second is better
            </button>
            <button type="button" onClick={() => vote("3")}>
              3 · tie
            </button>
            <button type="button" onClick={() => vote("s")}>
              s · skip
            </button>
          </div>
        </div>
      )}
    </div>
  )
}
