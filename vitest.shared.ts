import { defineConfig } from "vitest/config"

export default defineConfig({
  resolve: {
    // Workspace packages resolve to their TypeScript sources (see the "@effect-kaleyra/source" export condition).
    conditions: ["@effect-kaleyra/source"]
  },
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: [new URL("./vitest.setup.ts", import.meta.url).pathname],
    fakeTimers: { toFake: undefined },
    sequence: { concurrent: true },
    testTimeout: 30_000
  }
})
