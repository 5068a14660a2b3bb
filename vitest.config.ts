import { availableParallelism } from "node:os"
import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    projects: ["packages/*", "examples"],
    // vitest's default is one test file at a time on a 2-core machine (cores - 1); most files spend much of their time
    // waiting (sockets, timers, child processes), so two at a time use the cores those waits leave idle.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // A test file runs in a worker that earlier files used, with their modules loaded: effect, @effect/vitest and our
    // sources are evaluated once per worker instead of once per file (that evaluation was a third of the tests' CPU).
    // Nothing of ours keeps state in a module: every test builds its layers, servers and ledgers itself. Set here,
    // not in the projects' shared config: the pool follows the root's setting and ignores the projects'.
    isolate: false
  }
})
