/**
 * The browser workbench (`wb serve`): pick a pipeline, then its notebook or the labeling view. The
 * location hash keeps both (`#notebook/<id>`, `#label/<id>`), so a reload or a shared link lands there.
 */
import { render } from "preact"
import { useEffect, useState } from "preact/hooks"
import { getJson } from "./api.ts"
import { Labeling } from "./label.tsx"
import { Notebook } from "./notebook.tsx"

type View = "notebook" | "label"
const parseHash = (): { view: View; id: string } => {
  const [v, ...rest] = location.hash.slice(1).split("/")
  return { view: v === "label" ? "label" : "notebook", id: decodeURIComponent(rest.join("/")) }
}

function App() {
  const [pipelines, setPipelines] = useState<ReadonlyArray<{ id: string; format: string }> | null>(null)
  const [error, setError] = useState<string | undefined>()
  const [where, setWhere] = useState(parseHash)
  useEffect(() => {
    getJson<{ pipelines: ReadonlyArray<{ id: string; format: string }> }>("/api/pipelines").then(
      (r) => setPipelines(r.pipelines),
      (e) => setError(String(e instanceof Error ? e.message : e))
    )
    const onHash = () => setWhere(parseHash())
    window.addEventListener("hashchange", onHash)
    return () => window.removeEventListener("hashchange", onHash)
  }, [])
  const go = (view: View, id: string) => {
    location.hash = `${view}/${encodeURIComponent(id)}`
  }
  const id = where.id || pipelines?.[0]?.id || ""
  return (
    <div class="app">
      <nav class="top">
        <b>Preference Workbench</b>
        {pipelines && (
          <select id="pipeline" value={id} onChange={(e) => go(where.view, e.currentTarget.value)}>
            {pipelines.map((p) => (
              <option key={p.id} value={p.id}>
                {p.id}
              </option>
            ))}
          </select>
        )}
        <a
          href={`#notebook/${encodeURIComponent(id)}`}
          class={where.view === "notebook" ? "active" : ""}
          id="nav-notebook"
        >
          Notebook
        </a>
        <a href={`#label/${encodeURIComponent(id)}`} class={where.view === "label" ? "active" : ""} id="nav-label">
          Label
        </a>
      </nav>
      {error && <div class="error">{error}</div>}
      {pipelines?.length === 0 && <p>No pipelines under pipelines/ in this project.</p>}
      {id && (where.view === "label" ? <Labeling key={id} pipeline={id} /> : <Notebook key={id} pipeline={id} />)}
    </div>
  )
}

render(<App />, document.getElementById("app")!)
