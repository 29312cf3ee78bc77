/**
 * One open cache file per path in this process, shared by every client of the same model identity
 * and closed when the last one lets go. The response cache and the embedding cache both open theirs
 * this way.
 */
import { Effect, type Scope } from "effect"
import { mkdirSync } from "node:fs"
import { dirname } from "node:path"
import { DataError } from "../../core/errors.js"

/** What a shared cache file must offer: a reference count, a flush, and a close (which flushes). */
export interface SharedFile {
  refs: number
  write(): void
  close(): void
}

const open = new Map<string, SharedFile>()
let exitHook = false

/**
 * The cache at `file` (made by `make` on first use), held for the scope. `what` names it in the
 * message when the file cannot be opened ("the LLM response cache").
 */
export const openSharedFile = <F extends SharedFile>(
  file: string,
  make: (file: string) => F,
  what: string,
  where: string
): Effect.Effect<F, DataError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.try({
      try: () => {
        let cache = open.get(file) as F | undefined
        if (cache === undefined) {
          mkdirSync(dirname(file), { recursive: true })
          cache = make(file)
          open.set(file, cache)
        }
        cache.refs++
        if (!exitHook) {
          exitHook = true
          // a process that exits without closing its scopes still writes what it was given
          process.once("exit", () => {
            for (const c of open.values()) c.write()
          })
        }
        return cache
      },
      catch: (e) =>
        new DataError({
          where,
          found: `${what} ${file} could not be opened (${e instanceof Error ? e.message : String(e)})`,
          expected: "a writable workspace directory",
          fix: "check the workspace's permissions and free space, or pass another --workspace"
        })
    }),
    (cache) =>
      Effect.sync(() => {
        if (--cache.refs === 0) {
          open.delete(file)
          cache.close()
        }
      })
  )
