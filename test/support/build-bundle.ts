/**
 * vitest global setup: compile dist/ when it is missing or older than the sources, so that the CLI
 * tests run `wb` the way users do (from dist/), also after an edit. Type errors do not stop it (a file
 * may be mid-edit; `npm test` type-checks first anyway).
 */
import { execFileSync } from "node:child_process"
import { join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { distIsFresh } from "../../scripts/dist-record.mjs"

export default function setup(): void {
  const root = resolve(fileURLToPath(new URL("../..", import.meta.url)))
  if (!distIsFresh(root)) {
    execFileSync(process.execPath, [join(root, "scripts/build.mjs"), "--allow-type-errors"], { stdio: "inherit" })
  }
}
