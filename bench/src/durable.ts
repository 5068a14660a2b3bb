/**
 * (4) Durable campaigns (`@effect-kaleyra/campaign`), each part in a process of its own (`durable-entry.ts`) with
 * the simulator served by another process:
 *
 * - `sqlite`: the same messages sent unthrottled at concurrency 64, first by the in-memory `sendMediaBatch`, then
 *   by `Campaign.run` on a SQLite ledger file (every row's intent committed before its request, its outcome after):
 *   messages/s and this process's CPU per message for both;
 * - `csv`: a CSV of `count` rows written to a temporary file, then checked (`CsvFile.scan`), imported
 *   (`Campaign.create` from `CsvFile.rows`) and sent (unthrottled) as `kaleyra-wa campaign run` does: peak RSS
 *   sampled every 50 ms;
 * - `pg`: a PostgreSQL server started as in the campaign package's tests; two workers (each its own pool) on one
 *   campaign of one sender at 80/s, then four workers on two campaigns of two senders: the most requests in any
 *   1-second window (sliding, from the times each request was written) and the rates of rows sent.
 */
import * as Campaign from "@effect-kaleyra/campaign/Campaign"
import * as CampaignPg from "@effect-kaleyra/campaign/CampaignPg"
import * as CampaignSqlite from "@effect-kaleyra/campaign/CampaignSqlite"
import * as CsvFile from "@effect-kaleyra/cli/CsvFile"
import * as Heap from "@effect-kaleyra/cli/Heap"
import { sendMediaBatch } from "@effect-kaleyra/core/Batch"
import * as KaleyraNode from "@effect-kaleyra/node/KaleyraNode"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { createWriteStream, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { maxInWindow } from "../../packages/campaign/test/window.js"
import { campaign, campaignMessage } from "./message.js"
import type { ServerProcess } from "./serverProcess.js"
import { fixed, heading, int, mb, printTable, verdict } from "./util.js"

/** A client of the server; with `times`, one that notes the time each request is written (after its rate-limit slot). */
const clientLayer = (server: ServerProcess, senderNumber = server.senderNumber, times?: Array<number>) =>
  KaleyraNode.layer({
    sid: server.sid,
    apiKey: Redacted.make(server.apiKey),
    senderNumber,
    baseUrl: server.url,
    ...(times === undefined ? {} : {
      transformClient: HttpClient.tapRequest(() =>
        Effect.sync(() => {
          times.push(Date.now())
        })
      )
    })
  })

/** Wall time and this process's CPU time of `effect`. */
const measure = async <A>(run: () => Promise<A>) => {
  const cpu = process.cpuUsage()
  const start = performance.now()
  const value = await run()
  const used = process.cpuUsage(cpu)
  return { value, seconds: (performance.now() - start) / 1000, cpuMicros: used.user + used.system }
}

const sampleRss = () => {
  let peak = process.memoryUsage.rss()
  const timer = setInterval(() => {
    const rss = process.memoryUsage.rss()
    if (rss > peak) peak = rss
  }, 50)
  return {
    /** The peak so far. */
    peak: () => Math.max(peak, process.memoryUsage.rss()),
    stop: () => {
      clearInterval(timer)
      return Math.max(peak, process.memoryUsage.rss())
    }
  }
}

export interface SqliteResult {
  readonly count: number
  readonly memoryRate: number
  readonly memoryCpuMicros: number
  readonly importSeconds: number
  readonly durableRate: number
  readonly durableCpuMicros: number
  readonly sent: number
  readonly pass: boolean
}

export const runSqlite = async (server: ServerProcess, count: number): Promise<SqliteResult> => {
  heading(`(4a) Durable campaign, SQLite, one worker, unthrottled, concurrency 64: ${int(count)} messages`)
  const dir = mkdtempSync(join(tmpdir(), "effect-kaleyra-durable-"))
  try {
    const client = clientLayer(server)
    // warm up the client and the connection pool
    await Effect.runPromise(
      Stream.runDrain(sendMediaBatch(campaign(500), { concurrency: 64, rateLimit: false })).pipe(Effect.provide(client))
    )
    const memory = await measure(() =>
      Effect.runPromise(
        Stream.runCount(sendMediaBatch(campaign(count), { concurrency: 64, rateLimit: false })).pipe(
          Effect.provide(client)
        )
      )
    )
    const ledger = CampaignSqlite.layer({ filename: join(dir, "ledger.db") })
    const imported = await measure(() =>
      Effect.runPromise(
        Campaign.create({
          name: "bench",
          rows: Stream.map(Stream.fromIterable(campaign(count)), (input) => ({ input }))
        })
          .pipe(Effect.provide(ledger))
      )
    )
    const durable = await measure(() =>
      Effect.runPromise(
        Campaign.run({ name: "bench", concurrency: 64, rateLimit: false }).pipe(
          Effect.provide(Layer.merge(ledger, client))
        )
      )
    )
    const memoryRate = count / memory.seconds
    const durableRate = count / durable.seconds
    const memoryCpu = memory.cpuMicros / count
    const durableCpu = durable.cpuMicros / count
    const rateOk = durableRate >= 2_000
    const cpuOk = durableCpu <= 2 * memoryCpu
    const sentOk = durable.value.sent === count
    printTable(["", "messages/s", "CPU per message", ""], [
      ["sendMediaBatch in memory", int(memoryRate), `${fixed(memoryCpu, 1)} us`, ""],
      ["Campaign.run, SQLite ledger", int(durableRate), `${fixed(durableCpu, 1)} us`, verdict(rateOk && cpuOk)],
      ["  targets", ">= 2 000", "<= 2 x in memory", ""],
      ["  CPU ratio", "", fixed(durableCpu / memoryCpu, 2), ""],
      [
        "  import (Campaign.create)",
        `${fixed(imported.seconds, 2)} s`,
        `${fixed(imported.cpuMicros / count, 1)} us`,
        ""
      ],
      ["  rows Sent", int(durable.value.sent), `== ${int(count)}`, verdict(sentOk)]
    ])
    return {
      count,
      memoryRate,
      memoryCpuMicros: memoryCpu,
      importSeconds: imported.seconds,
      durableRate,
      durableCpuMicros: durableCpu,
      sent: durable.value.sent,
      pass: rateOk && cpuOk && sentOk
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export interface CsvResult {
  readonly count: number
  readonly bytes: number
  readonly scanSeconds: number
  readonly importSeconds: number
  readonly sendSeconds: number
  readonly sent: number
  readonly peakRss: number
  readonly peakRssAfterScan: number
  readonly peakRssAfterImport: number
  readonly pass: boolean
}

const writeCsv = (path: string, count: number): Promise<number> =>
  new Promise((resolve, reject) => {
    const out = createWriteStream(path)
    let i = 0
    let bytes = 0
    const more = () => {
      while (i < count) {
        const m = campaignMessage(i)
        const line = `${m.to},customer-${i}\n`
        bytes += line.length
        i++
        if (!out.write(line)) return void out.once("drain", more)
      }
      out.end(() => resolve(bytes))
    }
    out.on("error", reject)
    bytes += "to,ref1\n".length
    out.write("to,ref1\n")
    more()
  })

export const runCsv = async (server: ServerProcess, count: number): Promise<CsvResult> => {
  heading(`(4b) A ${int(count)}-row CSV: check, import and send (unthrottled), as \`kaleyra-wa campaign run\` does`)
  // this part runs in a process of its own, set up as `kaleyra-wa` sets up its own
  Heap.limitGrowth()
  const dir = mkdtempSync(join(tmpdir(), "effect-kaleyra-durable-csv-"))
  try {
    const csv = join(dir, "contacts.csv")
    const bytes = await writeCsv(csv, count)
    const rss = sampleRss()
    const defaults = {
      type: "image" as const,
      link: "https://cdn.example.com/campaigns/2024/diwali/banner-1080x1080.png",
      caption: "Happy Diwali from Example Store! 20% off everything until Sunday. Reply STOP to opt out."
    }
    const ledger = CampaignSqlite.layer({ filename: join(dir, "ledger.db") })
    const scan = await measure(() =>
      Effect.runPromise(CsvFile.scan(csv, defaults).pipe(Effect.provide(NodeFileSystem.layer)))
    )
    const peakAfterScan = rss.peak()
    const imported = await measure(() =>
      Effect.runPromise(
        Campaign.create({ name: "csv", rows: CsvFile.rows(csv, defaults), fingerprint: scan.value.fingerprint }).pipe(
          Effect.provide(Layer.merge(ledger, NodeFileSystem.layer))
        )
      )
    )
    const peakAfterImport = rss.peak()
    const sent = await measure(() =>
      Effect.runPromise(
        Campaign.run({ name: "csv", concurrency: 64, rateLimit: false }).pipe(
          Effect.provide(Layer.merge(ledger, clientLayer(server)))
        )
      )
    )
    const peakRss = rss.stop()
    const rssOk = peakRss < 200 * 1024 * 1024
    const sentOk = sent.value.sent === count && scan.value.rows === count
    printTable(["step", "time", "", ""], [
      ["CSV file", mb(bytes), `${int(count)} rows`, ""],
      ["check (CsvFile.scan)", `${fixed(scan.seconds, 1)} s`, `peak RSS so far ${mb(peakAfterScan)}`, ""],
      ["import (Campaign.create)", `${fixed(imported.seconds, 1)} s`, `peak RSS so far ${mb(peakAfterImport)}`, ""],
      ["send (Campaign.run)", `${fixed(sent.seconds, 1)} s`, `${int(count / sent.seconds)}/s`, ""],
      ["rows Sent", int(sent.value.sent), `== ${int(count)}`, verdict(sentOk)],
      ["peak RSS (every 50 ms)", mb(peakRss), "< 200 MB", verdict(rssOk)]
    ])
    return {
      count,
      bytes,
      scanSeconds: scan.seconds,
      importSeconds: imported.seconds,
      sendSeconds: sent.seconds,
      sent: sent.value.sent,
      peakRss,
      peakRssAfterScan: peakAfterScan,
      peakRssAfterImport: peakAfterImport,
      pass: rssOk && sentOk
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export interface PgResult {
  readonly perSender: number
  readonly oneSenderMaxWindow: number
  readonly oneSenderRate: number
  /** Requests per second between the first request and the last. */
  readonly oneSenderSteadyRate: number
  readonly twoSendersMaxWindow: ReadonlyArray<number>
  readonly twoSendersRate: number
  readonly twoSendersSteadyRates: ReadonlyArray<number>
  readonly pass: boolean
}

/** `workers` runs of campaign `name` at once, each with its own connection pool and client; how many were Sent. */
const workers = (
  url: string,
  name: string,
  server: ServerProcess,
  sender: string,
  times: Array<number>,
  limit: number
) =>
  Effect.all(
    [1, 2].map((n) =>
      Campaign.run({ name, workerId: `${name}-${n}`, concurrency: 16, rateLimit: { limit } }).pipe(
        Effect.provide(Layer.merge(CampaignPg.layer({ url: Redacted.make(url) }), clientLayer(server, sender, times))),
        Effect.map((summary) => summary.attempted)
      )
    ),
    { concurrency: "unbounded" }
  ).pipe(Effect.map((counts) => counts.reduce((a, b) => a + b, 0)))

export const runPg = async (server: ServerProcess, url: string, rows: number, secondSender: string) => {
  const limit = 80
  heading(`(4c) PostgreSQL, two workers per campaign, ${limit}/s per sender number: ${int(rows)} rows per campaign`)
  const ledger = CampaignPg.layer({ url: Redacted.make(url) })
  const create = (name: string) =>
    Campaign.create({
      name,
      rows: Stream.map(Stream.fromIterable(campaign(rows)), (input) => ({ input }))
    }).pipe(Effect.provide(ledger))
  const tag = Date.now().toString(36)
  await Effect.runPromise(create(`one-${tag}`))
  const oneTimes: Array<number> = []
  const one = await measure(() =>
    Effect.runPromise(workers(url, `one-${tag}`, server, server.senderNumber, oneTimes, limit))
  )
  await Effect.runPromise(Effect.all([create(`a-${tag}`), create(`b-${tag}`)]))
  const twoTimes: [Array<number>, Array<number>] = [[], []]
  const two = await measure(() =>
    Effect.runPromise(
      Effect.all([
        workers(url, `a-${tag}`, server, server.senderNumber, twoTimes[0], limit),
        workers(url, `b-${tag}`, server, secondSender, twoTimes[1], limit)
      ], { concurrency: "unbounded" })
    )
  )
  const oneWindow = maxInWindow(oneTimes, 1000)
  const twoWindows = twoTimes.map((times) => maxInWindow(times, 1000))
  const oneRate = one.value / one.seconds
  const twoRate = (two.value[0] + two.value[1]) / two.seconds
  // requests per second from a sender's first request to its last (the runs' start-up and end left out)
  const steady = (times: ReadonlyArray<number>) =>
    times.length < 2 ? 0 : (times.length - 1) * 1000 / (Math.max(...times) - Math.min(...times))
  const oneSteady = steady(oneTimes)
  const twoSteady = twoTimes.map(steady)
  // judged on the senders' own rates: the run's start-up (pools, migrations) weighs on short runs
  const rateOk = twoSteady[0] + twoSteady[1] >= 2 * limit * 0.9
  const limitOk = oneWindow <= limit && twoWindows.every((w) => w <= limit)
  printTable(["", "value", "target", ""], [
    ["one sender, 2 workers: most requests in 1 s", int(oneWindow), `<= ${limit}`, verdict(oneWindow <= limit)],
    [
      "  rate: rows sent / run time; requests between the first and the last",
      `${fixed(oneRate, 1)}/s; ${fixed(oneSteady, 1)}/s`,
      `${limit}/s`,
      ""
    ],
    [
      "two senders, 2 workers each: most requests in 1 s",
      twoWindows.map(int).join(" / "),
      `<= ${limit} each`,
      verdict(twoWindows.every((w) => w <= limit))
    ],
    [
      "  combined rate; per sender between its first and last request",
      `${fixed(twoRate, 1)}/s; ${twoSteady.map((r) => fixed(r, 1)).join(" + ")}/s`,
      `~ 2 x ${limit}/s`,
      verdict(rateOk)
    ]
  ])
  return {
    perSender: limit,
    oneSenderMaxWindow: oneWindow,
    oneSenderRate: oneRate,
    oneSenderSteadyRate: oneSteady,
    twoSendersMaxWindow: twoWindows,
    twoSendersRate: twoRate,
    twoSendersSteadyRates: twoSteady,
    pass: limitOk && rateOk
  } satisfies PgResult
}
