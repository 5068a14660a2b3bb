/**
 * (3) A campaign: `sendMediaBatch` of `count` messages rate-limited at `rate` per second, concurrency 64, through
 * `KaleyraNode.layer` to the simulator served by another process. Reports the wall time against the bound
 * (`count / rate` seconds), the results, and the peak RSS sampled every 50 ms.
 */
import { KaleyraClient, sendMediaBatch } from "@effect-kaleyra/core"
import * as KaleyraNode from "@effect-kaleyra/node/KaleyraNode"
// Effect's modules by path, as the library imports them: the `effect` barrel would load every module of Effect
// (about 6.7 MB more live heap, which V8 multiplies into its heap limits), which is not the campaign's cost.
import * as Effect from "effect/Effect"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { campaign } from "./message.js"
import type { ServerProcess } from "./serverProcess.js"
import { fixed, heading, int, mb, percent, printTable, verdict } from "./util.js"

export interface CampaignOptions {
  readonly count: number
  /** Messages per second. */
  readonly rate: number
  readonly concurrency: number
  /** Results in input order (the default of `sendMediaBatch`). */
  readonly ordered: boolean
  /** Print a progress line this often (0: never). */
  readonly progressMillis: number
}

export interface CampaignResult {
  readonly count: number
  readonly rate: number
  readonly wallSeconds: number
  readonly boundSeconds: number
  /** (wall - bound) / bound. */
  readonly deviation: number
  readonly results: number
  readonly sent: number
  readonly failed: number
  readonly notAttempted: number
  readonly inOrder: boolean
  /** The most results completed in one second (10 buckets of 100 ms). */
  readonly maxPerSecond: number
  readonly baselineRss: number
  readonly peakRss: number
  readonly peakHeapUsed: number
  /** This (client) process's CPU time per message, in microseconds, and in cores over the run. */
  readonly cpuMicrosPerMessage: number
  readonly cpuCores: number
  /**
   * Heap used after a forced full GC once the campaign is over and the memory sampling has stopped (when
   * `--expose-gc`): the live memory. No GC is forced before or during the campaign: a forced full GC resets V8's
   * heap limits and lowers the peak RSS (193 MB with it, 233 to 235 MB without, in the runs of 2026-11-24), which no
   * real process does.
   */
  readonly liveHeapAfter: number | undefined
  readonly pass: boolean
}

const RSS_LIMIT = 200 * 1024 * 1024

/** The heap used after a full GC, when the process runs with `--expose-gc` (only once the measurement is over). */
const liveHeap = (): number | undefined => {
  const gc = (globalThis as { readonly gc?: () => void }).gc
  if (gc === undefined) return undefined
  gc()
  return process.memoryUsage().heapUsed
}
const TOLERANCE = 0.05

/** Samples the RSS and the heap every 50 ms until stopped. */
const sampleMemory = () => {
  let peakRss = 0
  let peakHeapUsed = 0
  const sample = () => {
    const usage = process.memoryUsage()
    if (usage.rss > peakRss) peakRss = usage.rss
    if (usage.heapUsed > peakHeapUsed) peakHeapUsed = usage.heapUsed
  }
  sample()
  let timer: ReturnType<typeof setInterval> | undefined = setInterval(sample, 50)
  return {
    /** Takes a last sample and stops sampling (again: nothing). */
    stop: () => {
      if (timer === undefined) return
      clearInterval(timer)
      timer = undefined
      sample()
    },
    peaks: () => ({ peakRss, peakHeapUsed })
  }
}

export const runCampaign = async (server: ServerProcess, options: CampaignOptions): Promise<CampaignResult> => {
  const boundSeconds = options.count / options.rate
  heading(
    `(3) Campaign: sendMediaBatch of ${int(options.count)} messages at ${int(options.rate)}/s, concurrency ` +
      `${options.concurrency}${options.ordered ? "" : ", unordered"}, through KaleyraNode.layer ` +
      `(bound ${fixed(boundSeconds, 1)} s)`
  )
  const flags = process.execArgv.filter((flag) => flag !== "--expose-gc")
  if (flags.length > 0) console.log(`  node flags: ${flags.join(" ")}`)
  const baselineRss = process.memoryUsage().rss
  const memory = sampleMemory()
  const runtime = ManagedRuntime.make(KaleyraNode.layer({
    sid: server.sid,
    apiKey: Redacted.make(server.apiKey),
    senderNumber: server.senderNumber,
    baseUrl: server.url
  }))
  const counts = { results: 0, sent: 0, failed: 0, notAttempted: 0 }
  const failures = new Map<string, number>()
  const buckets: Array<number> = []
  let inOrder = true
  let wallMillis = 0
  let cpuMicros = 0
  let progress: NodeJS.Timeout | undefined
  let liveHeapAfter: number | undefined
  try {
    await runtime.runPromise(KaleyraClient)
    const cpuBefore = process.cpuUsage()
    const start = performance.now()
    if (options.progressMillis > 0) {
      progress = setInterval(() => {
        const seconds = (performance.now() - start) / 1000
        console.log(
          `  ${fixed(seconds, 0).padStart(3)} s: ${int(counts.results)} results, ` +
            `${int(counts.results / seconds)}/s, RSS ${mb(process.memoryUsage.rss())}`
        )
      }, options.progressMillis)
    }
    await runtime.runPromise(
      Stream.runForEach(
        sendMediaBatch(campaign(options.count), {
          concurrency: options.concurrency,
          ordered: options.ordered,
          rateLimit: { limit: options.rate, interval: "1 second" }
        }),
        (result) =>
          Effect.sync(() => {
            if (options.ordered && result.index !== counts.results) inOrder = false
            counts.results++
            const bucket = Math.floor((performance.now() - start) / 100)
            buckets[bucket] = (buckets[bucket] ?? 0) + 1
            switch (result._tag) {
              case "Sent":
                counts.sent++
                break
              case "NotAttempted":
                counts.notAttempted++
                break
              case "Failed":
                counts.failed++
                failures.set(result.error._tag, (failures.get(result.error._tag) ?? 0) + 1)
            }
          })
      )
    )
    wallMillis = performance.now() - start
    const cpu = process.cpuUsage(cpuBefore)
    cpuMicros = cpu.user + cpu.system
    // The sampling stops before the forced GC of liveHeap (its compaction would be sampled too).
    memory.stop()
    liveHeapAfter = liveHeap()
  } finally {
    memory.stop()
    if (progress !== undefined) clearInterval(progress)
    await runtime.dispose()
  }
  const { peakHeapUsed, peakRss } = memory.peaks()

  let maxPerSecond = 0
  for (let i = 0; i < buckets.length; i++) {
    let window = 0
    for (let j = i; j < i + 10 && j < buckets.length; j++) window += buckets[j] ?? 0
    if (window > maxPerSecond) maxPerSecond = window
  }
  const wallSeconds = wallMillis / 1000
  const deviation = (wallSeconds - boundSeconds) / boundSeconds
  const timeOk = Math.abs(deviation) <= TOLERANCE
  const resultsOk = counts.results === options.count && counts.sent === options.count && inOrder
  const rssOk = peakRss < RSS_LIMIT
  console.log("")
  printTable(["campaign", "value", "target", ""], [
    ["wall time", `${fixed(wallSeconds, 2)} s`, `${fixed(boundSeconds, 1)} s +/- 5 %`, verdict(timeOk)],
    ["  vs bound", percent(deviation), "", ""],
    ["  achieved rate", `${int(options.count / wallSeconds)}/s`, `${int(options.rate)}/s`, ""],
    ["  most results in 1 s", int(maxPerSecond), "", ""],
    [
      "  client CPU per message",
      `${fixed(cpuMicros / options.count, 1)} us (${fixed(cpuMicros / 1000 / wallMillis, 2)} cores)`,
      "",
      ""
    ],
    [
      "results",
      int(counts.results),
      `== ${int(options.count)}, all Sent${options.ordered ? ", in order" : ""}`,
      verdict(resultsOk)
    ],
    [
      "  sent / failed / not attempted",
      `${int(counts.sent)} / ${int(counts.failed)} / ${int(counts.notAttempted)}`,
      "",
      ""
    ],
    ...(failures.size > 0
      ? [["  failures", [...failures].map(([tag, n]) => `${tag} ${n}`).join(", "), "", ""]]
      : []),
    ["  in input order", options.ordered ? (inOrder ? "yes" : "no") : "not asked (ordered: false)", "", ""],
    ["peak RSS (every 50 ms)", mb(peakRss), "< 200 MB", verdict(rssOk)],
    ["  RSS before the campaign", mb(baselineRss), "", ""],
    ["  peak heap used", mb(peakHeapUsed), "", ""],
    ...(liveHeapAfter !== undefined
      ? [["  live heap after the campaign (forced GC)", mb(liveHeapAfter), "", ""]]
      : [])
  ])
  return {
    count: options.count,
    rate: options.rate,
    wallSeconds,
    boundSeconds,
    deviation,
    ...counts,
    inOrder,
    maxPerSecond,
    baselineRss,
    peakRss,
    peakHeapUsed,
    cpuMicrosPerMessage: cpuMicros / options.count,
    cpuCores: cpuMicros / 1000 / wallMillis,
    liveHeapAfter,
    pass: timeOk && resultsOk && rssOk
  }
}
