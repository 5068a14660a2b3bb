/**
 * Runs the benchmarks selected by the flags (see `main.ts`) and prints a summary against the targets.
 */
import { createRequire } from "node:module"
import * as os from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import type { CampaignResult } from "./campaign.js"
import { type CpuResult, runCpu } from "./cpu.js"
import type { CsvResult, PgResult, SqliteResult } from "./durable.js"
import { type HttpResult, runHttp } from "./http.js"
import { startServer } from "./serverProcess.js"
import { CAMPAIGN_RESULT, DURABLE_RESULT, settings, usage } from "./settings.js"
import {
  benchDir,
  bundleDir,
  cpuBusy,
  fixed,
  heading,
  int,
  mb,
  percent,
  printTable,
  spawnPart,
  spawnTs,
  verdict
} from "./util.js"

const BENCHES = ["http", "cpu", "campaign", "durable"] as const
type Bench = typeof BENCHES[number]

const isBench = (s: string): s is Bench => (BENCHES as ReadonlyArray<string>).includes(s)

interface Args {
  readonly only: ReadonlyArray<Bench>
  readonly quick: boolean
  readonly json: boolean
  /** `--wait-quiet N`: wait up to N seconds for the CPUs to be mostly idle before starting. */
  readonly waitQuietSeconds: number
  /** `--contenders undici,library,fetch,transport`: which clients the http benchmark runs (default all). */
  readonly contenders: ReadonlyArray<string> | undefined
  /** `--campaign-node-flag F` (repeatable): extra flags for the campaign's node process, e.g. a V8 GC setting. */
  readonly campaignNodeFlags: ReadonlyArray<string>
}

const parseArgs = (argv: ReadonlyArray<string>): Args | string => {
  const only: Array<Bench> = []
  let quick = false
  let json = false
  let contenders: Array<string> | undefined
  let waitQuietSeconds = 0
  const campaignNodeFlags: Array<string> = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === "--") continue
    if (arg === "--quick") quick = true
    else if (arg === "--json") json = true
    else if (arg === "--wait-quiet") {
      waitQuietSeconds = Number(argv[++i])
      if (!Number.isFinite(waitQuietSeconds) || waitQuietSeconds < 0) return `--wait-quiet takes seconds\n${usage}`
    } else if (arg === "--campaign-node-flag") {
      const flag = argv[++i]
      if (flag === undefined || !flag.startsWith("--")) {
        return `--campaign-node-flag takes a node flag (--...)\n${usage}`
      }
      campaignNodeFlags.push(flag)
    } else if (arg === "--contenders") {
      contenders = (argv[++i] ?? "").split(",")
      const unknown = contenders.find((c) => c !== "undici" && c !== "library" && c !== "fetch" && c !== "transport")
      if (unknown !== undefined) {
        return `unknown contender "${unknown}" (expected undici, library, fetch or transport)\n${usage}`
      }
    } else if (arg === "--only" || arg.startsWith("--only=")) {
      const value = arg === "--only" ? argv[++i] : arg.slice("--only=".length)
      for (const name of (value ?? "").split(",")) {
        if (!isBench(name)) return `unknown benchmark "${name}" (expected http, cpu, campaign or durable)\n${usage}`
        if (!only.includes(name)) only.push(name)
      }
    } else if (arg === "--help" || arg === "-h") return usage
    else return `unknown flag ${arg}\n${usage}`
  }
  return { only: only.length === 0 ? BENCHES : only, quick, json, contenders, waitQuietSeconds, campaignNodeFlags }
}

const versionOf = (name: string): string => {
  try {
    const pkg: unknown = createRequire(join(benchDir, "package.json"))(`${name}/package.json`)
    const version = (pkg as { readonly version?: unknown }).version
    return typeof version === "string" ? version : "?"
  } catch {
    return "?"
  }
}

/** Below this share of busy CPU time, the machine counts as quiet. */
const QUIET = 0.15

const printMachine = async (args: Args): Promise<void> => {
  const cpus = os.cpus()
  console.log(
    `Machine:  ${
      cpus[0]?.model ?? "unknown CPU"
    }, ${cpus.length} cores (available parallelism ${os.availableParallelism()}), ${
      mb(os.totalmem())
    } RAM, ${os.platform()} ${os.arch()} ${os.release()}`
  )
  console.log(
    `Runtime:  Node ${process.version}, effect ${versionOf("effect")}, @effect/platform ${
      versionOf("@effect/platform")
    }, @effect/platform-node ${versionOf("@effect/platform-node")}, undici ${versionOf("undici")}`
  )
  let busy = await cpuBusy(1_000)
  const waitUntil = performance.now() + args.waitQuietSeconds * 1000
  if (busy > QUIET && args.waitQuietSeconds > 0) {
    console.log(`Waiting up to ${args.waitQuietSeconds} s for the CPUs to be less than ${QUIET * 100} % busy...`)
    while (busy > QUIET && performance.now() < waitUntil) busy = await cpuBusy(2_000)
  }
  const load = os.loadavg().map((n) => fixed(n, 2)).join(" ")
  console.log(
    `Load:     CPUs ${fixed(busy * 100, 0)} % busy over the last second before starting, load average ${load}` +
      (busy > QUIET ? "  <-- other work is running: expect noise" : "")
  )
  console.log(
    `Runs on:  ${
      bundleDir !== undefined ? "bare node, workspace bundled from its sources (see build.ts)" : "tsx, from sources"
    }; server in a child process`
  )
  console.log(`Mode:     ${args.quick ? "quick (smoke run, small counts)" : "full"}; running ${args.only.join(", ")}`)
}

/** What a child process reports on its line starting with `prefix` (its other lines are printed). */
const resultOfChild = <A>(child: ReturnType<typeof spawnPart>, prefix: string, what: string): Promise<A> =>
  new Promise((resolve, reject) => {
    let result: A | undefined
    const lines = createInterface({ input: child.stdout! })
    lines.on("line", (line) => {
      if (line.startsWith(prefix)) result = JSON.parse(line.slice(prefix.length)) as A
      else console.log(line)
    })
    child.once("error", reject)
    // "close": after the child's output has been read to its end.
    child.once("close", (code, signal) => {
      lines.close()
      if (code === 0 && result !== undefined) resolve(result)
      else reject(new Error(`${what} failed (${code ?? signal})`))
    })
  })

/** Runs the campaign in a fresh process (with its own server) and returns what it reported. */
const campaignInChild = (quick: boolean, nodeFlags: ReadonlyArray<string>): Promise<CampaignResult> =>
  // --expose-gc: once the campaign is over, it forces a full GC to tell live memory from garbage not yet collected
  // (never before: that would change V8's heap limits, and the peak RSS with them).
  resultOfChild(
    spawnPart("campaign", quick ? ["--quick"] : [], ["ignore", "pipe", "inherit"], ["--expose-gc", ...nodeFlags]),
    CAMPAIGN_RESULT,
    "the campaign process"
  )

/** Runs a part of the durable campaign benchmark in a fresh process and returns what it reported. */
const durableInChild = <A>(part: "sqlite" | "csv" | "pg", quick: boolean): Promise<A> => {
  const args = [part, ...(quick ? ["--quick"] : [])]
  // the PostgreSQL part loads the campaign package's TypeScript test setup: it runs on tsx (its figures are rates)
  const child = part === "pg"
    ? spawnTs("durable-entry.ts", args, ["ignore", "pipe", "inherit"])
    : spawnPart("durable", args, ["ignore", "pipe", "inherit"])
  return resultOfChild(child, DURABLE_RESULT, `the durable campaign process (${part})`)
}

export const main = async (argv: ReadonlyArray<string>): Promise<number> => {
  const parsed = parseArgs(argv)
  if (typeof parsed === "string") {
    console.error(parsed)
    return parsed === usage ? 0 : 2
  }
  const args = parsed
  const config = settings(args.quick)

  await printMachine(args)
  const started = performance.now()
  let http: HttpResult | undefined
  let cpu: CpuResult | undefined
  let campaign: CampaignResult | undefined
  let durable: { sqlite: SqliteResult; csv: CsvResult; pg: PgResult } | undefined

  if (args.only.includes("http")) {
    const server = await startServer(10 * 60_000)
    try {
      http = await runHttp(server, { ...config.http, contenders: args.contenders })
    } finally {
      await server.close()
    }
  }
  if (args.only.includes("cpu")) cpu = await runCpu(config.cpu)
  if (args.only.includes("campaign")) {
    // In a fresh process that loads only what a campaign needs, so that the peak RSS is the campaign's own.
    campaign = await campaignInChild(args.quick, args.campaignNodeFlags)
  }
  if (args.only.includes("durable")) {
    durable = {
      sqlite: await durableInChild<SqliteResult>("sqlite", args.quick),
      csv: await durableInChild<CsvResult>("csv", args.quick),
      pg: await durableInChild<PgResult>("pg", args.quick)
    }
  }

  heading(
    `Summary (${fixed((performance.now() - started) / 1000, 1)} s${args.quick ? ", quick run: indicative only" : ""})`
  )
  const rows: Array<Array<string>> = []
  if (http !== undefined) {
    rows.push([
      "(1) library / undici Pool, concurrency 64",
      `${fixed(http.libraryOverUndici, 3)} (${int(http.libraryMedian)} vs ${int(http.undiciMedian)}/s)`,
      ">= 0.85",
      verdict(http.pass)
    ])
    rows.push([
      "    client CPU per request: library / undici",
      `${fixed(http.libraryCpuMicros / http.undiciCpuMicros, 2)} (${fixed(http.libraryCpuMicros, 1)} vs ${
        fixed(http.undiciCpuMicros, 1)
      } us)`,
      "",
      ""
    ])
    rows.push([
      "    library / fetch",
      `${fixed(http.libraryOverFetch, 2)} (${int(http.libraryMedian)} vs ${int(http.fetchMedian)}/s)`,
      "",
      ""
    ])
    rows.push([
      "    transport only / undici (the floor)",
      `${fixed(http.transportOverUndici, 3)} (${int(http.transportMedian)}/s, ${fixed(http.transportCpuMicros, 1)} us)`,
      "",
      ""
    ])
  }
  if (cpu !== undefined) {
    rows.push([
      "(2) KaleyraTest.layer sends/s, one fiber",
      `${int(cpu.sendsPerSecond)} (${fixed(1e6 / cpu.sendsPerSecond, 1)} us/send)`,
      ">= 40 000",
      verdict(cpu.sendsPerSecond >= 40_000)
    ])
    rows.push([
      "    + a subscriber draining the events",
      `${int(cpu.sendsPerSecondWithEvents)} (${fixed(1e6 / cpu.sendsPerSecondWithEvents, 1)} us/send)`,
      ">= 40 000",
      verdict(cpu.sendsPerSecondWithEvents >= 40_000)
    ])
  }
  if (campaign !== undefined) {
    rows.push([
      `(3) campaign ${int(campaign.count)} at ${int(campaign.rate)}/s: wall time`,
      `${fixed(campaign.wallSeconds, 2)} s (${percent(campaign.deviation)})`,
      `${fixed(campaign.boundSeconds, 1)} s +/- 5 %`,
      verdict(Math.abs(campaign.deviation) <= 0.05)
    ])
    rows.push([
      "    results (all Sent, in order)",
      `${int(campaign.results)} (${int(campaign.sent)} sent)`,
      `== ${int(campaign.count)}`,
      verdict(campaign.results === campaign.count && campaign.sent === campaign.count && campaign.inOrder)
    ])
    rows.push([
      "    client CPU per message",
      `${fixed(campaign.cpuMicrosPerMessage, 1)} us (${fixed(campaign.cpuCores, 2)} cores)`,
      "",
      ""
    ])
    rows.push(["    peak RSS", mb(campaign.peakRss), "< 200 MB", verdict(campaign.peakRss < 200 * 1024 * 1024)])
    if (campaign.liveHeapAfter !== undefined) {
      rows.push(["    live heap after (forced GC)", mb(campaign.liveHeapAfter), "", ""])
    }
  }
  if (durable !== undefined) {
    const { csv, pg, sqlite } = durable
    rows.push([
      `(4) durable campaign, SQLite, ${int(sqlite.count)} unthrottled`,
      `${int(sqlite.durableRate)}/s (in memory ${int(sqlite.memoryRate)}/s)`,
      ">= 2 000/s",
      verdict(sqlite.durableRate >= 2_000)
    ])
    rows.push([
      "    CPU per message: ledger / in memory",
      `${fixed(sqlite.durableCpuMicros / sqlite.memoryCpuMicros, 2)} (${fixed(sqlite.durableCpuMicros, 1)} vs ${
        fixed(sqlite.memoryCpuMicros, 1)
      } us)`,
      "<= 2",
      verdict(sqlite.durableCpuMicros <= 2 * sqlite.memoryCpuMicros)
    ])
    rows.push([
      `    ${int(csv.count)}-row CSV, check + import + send: peak RSS`,
      mb(csv.peakRss),
      "< 200 MB",
      verdict(csv.pass)
    ])
    rows.push([
      "    PostgreSQL, 2 workers, 1 sender: most in 1 s",
      int(pg.oneSenderMaxWindow),
      `<= ${pg.perSender}`,
      verdict(pg.oneSenderMaxWindow <= pg.perSender)
    ])
    rows.push([
      "    2 senders, 2 workers each: combined rate",
      `${fixed(pg.twoSendersRate, 1)}/s`,
      `~ ${2 * pg.perSender}/s`,
      verdict(pg.pass)
    ])
  }
  printTable(["target", "measured", "target", ""], rows)
  if (args.json) console.log("BENCH_JSON " + JSON.stringify({ quick: args.quick, http, cpu, campaign, durable }))
  return 0
}
