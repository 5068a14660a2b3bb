import { defineConfig } from "vitest/config"

export default defineConfig({
  resolve: {
    // Workspace packages resolve to their TypeScript sources (see the "@effect-kaleyra/source" export condition).
    conditions: ["@effect-kaleyra/source"]
  },
  ssr: {
    resolve: {
      // Tests run as SSR modules; a workspace package reached through node_modules is external and resolved the
      // Node way, which needs the condition too (otherwise it loads the package's built `dist`, possibly stale).
      // Vite's default server conditions, after ours.
      conditions: ["@effect-kaleyra/source", "module", "node", "development|production"],
      externalConditions: ["@effect-kaleyra/source"]
    }
  },
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: [new URL("./vitest.setup.ts", import.meta.url).pathname],
    fakeTimers: { toFake: undefined },
    sequence: { concurrent: true },
    testTimeout: 30_000
  }
})
