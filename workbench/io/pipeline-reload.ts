/**
 * Seeing edits to TypeScript pipelines while `wb serve` runs. Node caches a module by its URL for the
 * life of the process, so the server imports a pipeline as `file.ts?wbv=N`, and bin/module-hooks.mjs
 * gives the same `?wbv=N` to every local file it imports (helpers beside it; never the workbench or
 * packages, which stay one shared copy). The hooks report each file a version read, with its stamp
 * (mtime and size) taken before reading it; while every stamp still matches, the same URL (the cached
 * module) serves; when one changes, the next import gets a new N and re-evaluates the local files.
 *
 * Why not a child process per load: the server runs the pipeline's nodes in-process, so it needs the
 * definition objects themselves, which cannot cross a process boundary. Each edit leaves the old
 * version's modules in memory (ESM has no unload); edits are human-paced, so that is a few modules each.
 *
 * Without the hooks' channel (the library used in-process, vitest) imports stay plain: no reloading.
 */
import { statSync } from "node:fs"
import { pathToFileURL } from "node:url"
import { type MessagePort, receiveMessageOnPort } from "node:worker_threads"

const PORT_SLOT = Symbol.for("preference-workbench.reload-port")

interface Version {
  readonly version: string
  /** File path -> its stamp when the version read it. */
  readonly files: Map<string, string>
}

let enabled = false
let counter = 0
const byPipeline = new Map<string, Version>()
const byVersion = new Map<string, Version>()

/** Import pipelines as versions that follow their files (the server calls this once). */
export const enablePipelineReload = (): void => {
  enabled = true
}

const port = (): MessagePort | undefined =>
  (globalThis as Record<symbol, unknown>)[PORT_SLOT] as MessagePort | undefined

const stampOf = (path: string): string => {
  const st = statSync(path, { throwIfNoEntry: false })
  return st === undefined ? "missing" : `${st.mtimeMs}:${st.size}`
}

/** Stamps the hooks sent since the last call, filed under their versions. */
function drain(p: MessagePort): void {
  for (;;) {
    const m = receiveMessageOnPort(p)
    if (m === undefined) return
    const { version, path, stamp } = m.message as { version: string; path: string; stamp: string }
    byVersion.get(version)?.files.set(path, stamp)
  }
}

/** The URL to import the pipeline at `path` by: a new version when a file the last one read has changed. */
export function pipelineModuleUrl(path: string): string {
  const href = pathToFileURL(path).href
  const p = port()
  if (!enabled || p === undefined) return href
  drain(p)
  const last = byPipeline.get(path)
  if (last !== undefined && [...last.files].every(([file, stamp]) => stampOf(file) === stamp))
    return `${href}?wbv=${last.version}`
  // the file itself is in from the start: an import failing before the hooks see it must not stick
  const version: Version = {
    version: `${process.pid.toString(36)}.${++counter}`,
    files: new Map([[path, stampOf(path)]])
  }
  byPipeline.set(path, version)
  byVersion.set(version.version, version)
  return `${href}?wbv=${version.version}`
}

/** After an import: file what the hooks reported (the import's own files are in by now). */
export function pipelineImported(): void {
  const p = port()
  if (p !== undefined) drain(p)
}
