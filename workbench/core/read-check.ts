/**
 * The check a running node's cached inputs pass before they are read. A cache hit checks an artifact's
 * sizes (and hashes files whose mtime moved), so bit rot that keeps both passes it. Served as cached,
 * that costs nothing; read by a node that runs, it would compute from wrong rows and store them under
 * the key of the right ones (keys hold the recorded hashes, not those of the bytes read), where
 * `--verify` never looks. So an upstream artifact not written by this run is hashed, once per run,
 * before anything reads it: ~1.2 s per GB, paid only when a node below a cached one runs.
 */
import { Effect } from "effect"
import { DataError } from "./errors.js"
import type { GraphNode } from "./graph.js"
import type { Manifest } from "./report.js"
import type { ArtifactLookup, ArtifactStore } from "./services.js"

/**
 * `published`: keys this run wrote (fresh, not hashed again); `verify`: every cache hit was hashed
 * already; `file`: the pipeline file, for the fix.
 */
export function makeReadCheck(
  store: ArtifactStore["Service"],
  published: ReadonlySet<string>,
  options: { readonly verify?: boolean | undefined; readonly file?: string | undefined }
) {
  const checked = new Map<string, ArtifactLookup>()
  return (node: GraphNode, input: string, from: string, manifest: Manifest) =>
    Effect.gen(function* () {
      if (published.has(manifest.key) || options.verify === true) return
      let check = checked.get(manifest.key)
      if (check === undefined) {
        check = yield* store.lookup(manifest.key, { verify: true })
        checked.set(manifest.key, check)
      }
      if (check._tag === "Found") return
      return yield* Effect.fail(
        new DataError({
          where: `node "${node.name}" (${node.definition.kind}) input ${input}`,
          found: `the cached artifact ${manifest.key} of node "${from}" it reads is ${check._tag === "Damaged" ? `damaged (${check.problem})` : "gone (deleted during the run)"}`,
          expected:
            "an artifact whose files have the content hashes its manifest recorded: a damaged one is never read",
          fix: `run again with --verify${options.file ? ` (wb run ${options.file} --verify)` : ""}: it hashes every cached artifact and recomputes the damaged ones`
        })
      )
    })
}
