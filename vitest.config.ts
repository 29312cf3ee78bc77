import { defineConfig } from "vitest/config"

export default defineConfig({
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
