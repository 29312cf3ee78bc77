/**
 * vitest global setup: build the prebuilt bundle (dist/) when it is missing or older than the sources,
 * so that the CLI tests run `wb` the way users do (from the bundle), also after an edit.
 */
import { execFileSync } from "node:child_process"
import { join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { freshBundle } from "../../bin/bundle.mjs"

export default function setup(): void {
  const root = resolve(fileURLToPath(new URL("../..", import.meta.url)))
  if (freshBundle(root) === undefined) execFileSync(process.execPath, [join(root, "scripts/build.mjs")], { stdio: "inherit" })
}
