/**
 * `pnpm bench`: the performance benchmarks of the issue, in one run.
 *
 *   (1) http      sends/s at concurrency 64: undici Pool, fetch, the library (KaleyraNode.layer), server in a child
 *   (2) cpu       the library's CPU per send in memory (KaleyraTest.layer), with and without KaleyraEvents
 *   (3) campaign  sendMediaBatch of 100 000 messages at 2 000/s: wall time vs 50 s, peak RSS (in its own process)
 *
 * Flags: `--only http|cpu|campaign` (repeatable, or comma-separated), `--quick` (a short smoke run), `--json` (a
 * last line `BENCH_JSON {...}` with every figure), `--profile` (a CPU profile of the benchmark process, summarised
 * at the end), `--tsx` (run the sources through tsx instead of a bundle), `--campaign-node-flag --FLAG` (repeatable:
 * a node or V8 flag for the campaign's process, e.g. `--no-allocation-site-pretenuring`).
 *
 * This launcher builds the benchmark into plain JavaScript first (`build.ts`: the workspace packages bundled from
 * their sources, everything else loaded from node_modules as an application would) and runs it on bare `node`, so
 * that neither a stale `dist` nor the `tsx` loader (its own thread and heap: about 80 MB of RSS) is measured. It
 * imports no workspace package itself.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { buildBundle, type Bundle } from "./build.js"
import { summarizeProfileFile } from "./profile.js"
import { usage } from "./settings.js"
import { spawnBundled, spawnTs } from "./util.js"

const argv = process.argv.slice(2)
if (argv.includes("--help") || argv.includes("-h")) {
  console.log(usage)
  process.exit(0)
}
const useTsx = argv.includes("--tsx")
const profile = argv.includes("--profile")
const forwarded = argv.filter((arg) => arg !== "--tsx" && arg !== "--profile")

let bundle: Bundle | undefined
if (!useTsx) {
  const started = performance.now()
  const built = await buildBundle()
  if (built instanceof Error) {
    console.error(`${built.message}: the benchmark does not run (fix the build, or pass --tsx to run the sources)`)
    process.exit(1)
  }
  if (typeof built === "string") console.error(`${built}: running the sources through tsx instead`)
  else {
    bundle = built
    console.log(
      `Build:    bundled with esbuild ${built.esbuild} in ${Math.round(performance.now() - started)} ms ` +
        `(workspace from its TypeScript sources); running on bare node`
    )
  }
}

const profileDir = profile ? mkdtempSync(join(tmpdir(), "effect-kaleyra-bench-profile-")) : undefined
const nodeArgs = profileDir !== undefined ? ["--cpu-prof", "--cpu-prof-dir", profileDir] : []
const stdio = ["inherit", "inherit", "inherit"] as const
const child = bundle !== undefined
  ? spawnBundled(bundle.entry, forwarded, stdio, nodeArgs)
  : spawnTs("entry.ts", forwarded, stdio, nodeArgs)
const forward = (signal: NodeJS.Signals) => () => child.kill(signal)
process.on("SIGINT", forward("SIGINT"))
process.on("SIGTERM", forward("SIGTERM"))

const code = await new Promise<number>((resolve) => {
  child.once("exit", (exitCode, signal) => resolve(exitCode ?? (signal !== null ? 1 : 0)))
  child.once("error", (error) => {
    console.error(error)
    resolve(1)
  })
})

try {
  if (profileDir !== undefined) {
    // The benchmark process's profile is the largest (tsx's loader thread writes one too).
    const files = readdirSync(profileDir).filter((f) => f.endsWith(".cpuprofile")).map((f) => join(profileDir, f))
      .sort((a, b) => statSync(b).size - statSync(a).size)
    console.log("")
    if (files[0] !== undefined) summarizeProfileFile(files[0], 30)
    console.log(`(profiles kept in ${profileDir})`)
  }
} finally {
  if (bundle !== undefined) rmSync(bundle.dir, { recursive: true, force: true })
}
process.exitCode = code
