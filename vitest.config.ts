import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"

const source = (path: string) => fileURLToPath(new URL(path, import.meta.url))

export default defineConfig({
  resolve: {
    // tests that import pipeline files get the sources under test for the package's public names
    // (its "exports" name dist/, which users get); one copy of the engine, as with wb from the sources
    alias: [
      { find: /^preference-workbench$/, replacement: source("./workbench/index.ts") },
      { find: /^preference-workbench\/nodes$/, replacement: source("./nodes/index.ts") }
    ]
  },
  test: {
    include: ["test/**/*.test.ts"],
    // builds dist/ when it is missing or stale: the CLI tests run wb from it, as users do
    globalSetup: ["test/support/build-bundle.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // e2e tests spawn processes that each open DuckDB; two at a time suits a 2-core CI machine
    maxWorkers: 2
  }
})
