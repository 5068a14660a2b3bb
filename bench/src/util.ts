/**
 * Shared helpers of the benchmarks: paths, child processes, statistics, formatting, tables.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { createRequire } from "node:module"
import { cpus } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

/** The export condition under which the workspace packages resolve to their TypeScript sources. */
export const SOURCE_CONDITION = "@effect-kaleyra/source"

/** Set by the launcher for the processes it starts (a bundle does not live in `bench/`). */
export const BENCH_DIR_ENV = "EFFECT_KALEYRA_BENCH_DIR"

/** `bench/`. */
export const benchDir = process.env[BENCH_DIR_ENV] ?? fileURLToPath(new URL("..", import.meta.url))
/** `bench/src/`. */
export const srcDir = join(benchDir, "src")

/** The folder of the bundle this code runs from (see `build.ts`), or `undefined` when it runs from sources. */
export const bundleDir: string | undefined = import.meta.url.endsWith(".mjs")
  ? dirname(fileURLToPath(import.meta.url))
  : undefined

/** The `tsx` ESM loader, as a `file:` URL for `node --import`. */
export const tsxLoader = (): string => pathToFileURL(createRequire(join(benchDir, "package.json")).resolve("tsx")).href

/**
 * Starts `node` on a TypeScript file of `bench/src/` with the source condition and the `tsx` loader, so that a child
 * measures the current sources (not a stale `dist`) whatever the parent was started with.
 */
export const spawnTs = (
  file: string,
  args: ReadonlyArray<string>,
  stdio: ReadonlyArray<"pipe" | "inherit" | "ignore">,
  nodeArgs: ReadonlyArray<string> = []
): ChildProcess =>
  spawn(process.execPath, [
    ...nodeArgs,
    `--conditions=${SOURCE_CONDITION}`,
    "--import",
    tsxLoader(),
    join(srcDir, file),
    ...args
  ], {
    cwd: benchDir,
    stdio: [...stdio],
    env: { ...process.env, [BENCH_DIR_ENV]: benchDir }
  })

/** Starts a bundled file (`entry.mjs`, `server.mjs`) on bare `node`. */
export const spawnBundled = (
  file: string,
  args: ReadonlyArray<string>,
  stdio: ReadonlyArray<"pipe" | "inherit" | "ignore">,
  nodeArgs: ReadonlyArray<string> = []
): ChildProcess =>
  spawn(process.execPath, [...nodeArgs, file, ...args], {
    cwd: benchDir,
    stdio: [...stdio],
    env: { ...process.env, [BENCH_DIR_ENV]: benchDir }
  })

/** Starts another benchmark process the way this one runs: bundled, or from sources. */
export const spawnPart = (
  part: "entry" | "server" | "campaign" | "contender" | "durable",
  args: ReadonlyArray<string>,
  stdio: ReadonlyArray<"pipe" | "inherit" | "ignore">,
  nodeArgs: ReadonlyArray<string> = []
): ChildProcess =>
  bundleDir !== undefined
    ? spawnBundled(join(bundleDir, `${part}.mjs`), args, stdio, nodeArgs)
    : spawnTs(
      part === "campaign" || part === "contender" || part === "durable" ? `${part}-entry.ts` : `${part}.ts`,
      args,
      stdio,
      nodeArgs
    )

/** How busy the machine's CPUs are over `millis` (0 to 1), from the kernel's counters: other work adds noise. */
export const cpuBusy = async (millis: number): Promise<number> => {
  const snapshot = () =>
    cpus().reduce(
      (acc, cpu) => {
        const t = cpu.times
        return { idle: acc.idle + t.idle, total: acc.total + t.user + t.nice + t.sys + t.idle + t.irq }
      },
      { idle: 0, total: 0 }
    )
  const before = snapshot()
  await sleep(millis)
  const after = snapshot()
  const total = after.total - before.total
  return total > 0 ? 1 - (after.idle - before.idle) / total : 0
}

// ---------------------------------------------------------------------------------------------------------------
// statistics
// ---------------------------------------------------------------------------------------------------------------

export const median = (values: ReadonlyArray<number>): number => {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

export const min = (values: ReadonlyArray<number>): number => Math.min(...values)
export const max = (values: ReadonlyArray<number>): number => Math.max(...values)

/** CPU time (user + system) in microseconds since `start`. */
export const cpuMicrosSince = (start: NodeJS.CpuUsage): number => {
  const usage = process.cpuUsage(start)
  return usage.user + usage.system
}

export const sleep = (millis: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, millis))

// ---------------------------------------------------------------------------------------------------------------
// formatting
// ---------------------------------------------------------------------------------------------------------------

/** `12 345` (thin grouping, no decimals). */
export const int = (n: number): string =>
  Number.isFinite(n) ? Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, " ") : "n/a"

export const fixed = (n: number, digits: number): string => Number.isFinite(n) ? n.toFixed(digits) : "n/a"

export const percent = (ratio: number): string =>
  Number.isFinite(ratio) ? `${ratio >= 0 ? "+" : ""}${(ratio * 100).toFixed(2)} %` : "n/a"

export const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`

export const verdict = (pass: boolean): string => pass ? "PASS" : "MISS"

/** Prints a table: the first column left-aligned, the others right-aligned. */
export const printTable = (
  header: ReadonlyArray<string>,
  rows: ReadonlyArray<ReadonlyArray<string>>
): void => {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => (row[i] ?? "").length)))
  const line = (row: ReadonlyArray<string>) =>
    "  " + row.map((cell, i) => i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i])).join("  ")
  console.log(line(header))
  console.log("  " + widths.map((w) => "-".repeat(w)).join("  "))
  for (const row of rows) console.log(line(row))
}

export const heading = (title: string): void => {
  console.log("")
  console.log(title)
  console.log("=".repeat(title.length))
}
