import { availableParallelism } from "node:os"
import { defineConfig } from "vitest/config"
import { BaseSequencer, type TestSpecification } from "vitest/node"

/**
 * The files that run longest (tens of seconds each: child processes, real servers, 100 000 messages), started first:
 * vitest's own order on a fresh clone is by file size, which started the crash test in the middle, and the suite then
 * ended on one core running it alone. After them, vitest's order (the last run's durations when it has them).
 */
const longest = [
  "packages/cli/test/CampaignCrash.test.ts",
  "packages/testing/test/BatchFaults.test.ts",
  "packages/core/test/batch.test.ts",
  "packages/core/test/batchOpBudget.test.ts",
  "packages/cli/test/CampaignCli.test.ts",
  "packages/testing/test/KaleyraTest.test.ts",
  "packages/node/test/Faults.test.ts",
  "packages/core/test/hostile.test.ts"
]

class LongestFirst extends BaseSequencer {
  override async sort(files: Array<TestSpecification>): Promise<Array<TestSpecification>> {
    const sorted = await super.sort(files)
    const rank = (spec: TestSpecification) => {
      const index = longest.findIndex((file) => spec.moduleId.endsWith(`/${file}`))
      return index === -1 ? longest.length : index
    }
    return sorted.map((spec, order) => ({ spec, order })).sort((a, b) =>
      rank(a.spec) - rank(b.spec) || a.order - b.order
    ).map(({ spec }) => spec)
  }
}

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
    // One set of test files, not a vitest project per package: vitest runs projects one after the other, each in
    // workers of its own that load effect and the sources again, and each project with a PostgreSQL server started
    // its own. `npx vitest packages/core` runs one package's tests.
    include: ["packages/*/test/**/*.test.ts", "examples/test/**/*.test.ts"],
    setupFiles: ["./vitest.setup.ts"],
    // a real PostgreSQL server on 127.0.0.1 for the campaign and CLI tests, stopped after them
    globalSetup: ["./packages/campaign/test/setup/postgres.ts"],
    fakeTimers: { toFake: undefined },
    sequence: { concurrent: true, sequencer: LongestFirst },
    testTimeout: 30_000,
    // vitest's default is one test file at a time on a 2-core machine (cores - 1); most files spend much of their time
    // waiting (sockets, timers, child processes), so two at a time use the cores those waits leave idle.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // A test file runs in a worker that earlier files used, with their modules loaded: effect, @effect/vitest and our
    // sources are evaluated once per worker instead of once per file (that evaluation was a third of the tests' CPU).
    // Nothing of ours keeps state in a module: every test builds its layers, servers and ledgers itself.
    isolate: false
  }
})
