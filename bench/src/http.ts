/**
 * (1) Sends per second at concurrency 64 against the simulator served by another process: raw undici `Pool`,
 * global `fetch`, and the library (`KaleyraNode.layer`), with the same body and headers. The runs are interleaved
 * (undici, library, fetch, undici, ...) and each contender is warmed up first; the medians are reported.
 *
 * A fourth contender, "transport only", is the library's own transport (`UndiciHttpClient`'s
 * `HttpTransport.Exchange`, through which the client sends, with the client's per-attempt timeout) sending the
 * pre-encoded body and reading the answer, with no Kaleyra client around it: the floor under the library's figure,
 * and what is left for validation, encoding, decoding, the retry loop and events.
 */
import { HttpTransport, KaleyraConfig, MediaMessage, sendMedia } from "@effect-kaleyra/core"
import { KaleyraNode, UndiciHttpClient } from "@effect-kaleyra/node"
import * as HttpClient from "@effect/platform/HttpClient"
import { Duration, Effect, Either, ManagedRuntime, Redacted } from "effect"
import { Pool } from "undici"
import { imageMessage } from "./message.js"
import type { ServerProcess } from "./serverProcess.js"
import { fixed, heading, int, median, printTable, verdict } from "./util.js"

export interface HttpOptions {
  readonly concurrency: number
  readonly rounds: number
  readonly warmupMillis: number
  readonly runMillis: number
  /** Which contenders run (default all; e.g. only the library, to profile it). */
  readonly contenders?: ReadonlyArray<string> | undefined
}

export interface RunResult {
  readonly ok: number
  readonly failed: number
  readonly millis: number
  readonly rate: number
  /** This (client) process's CPU time per completed send, in microseconds. */
  readonly cpuMicros: number
}

export interface HttpResult {
  readonly undici: ReadonlyArray<number>
  readonly library: ReadonlyArray<number>
  /** The library's transport alone (see the module's comment); empty when it did not run. */
  readonly transport: ReadonlyArray<number>
  readonly transportMedian: number
  /** The transport's median over undici's: the best ratio the library could reach on this machine. */
  readonly transportOverUndici: number
  readonly fetch: ReadonlyArray<number>
  readonly undiciMedian: number
  readonly libraryMedian: number
  readonly fetchMedian: number
  /** The library's median over undici's median. */
  readonly libraryOverUndici: number
  readonly libraryOverFetch: number
  readonly failed: number
  readonly pass: boolean
  /** Median client CPU per request, in microseconds. */
  readonly undiciCpuMicros: number
  readonly libraryCpuMicros: number
  readonly fetchCpuMicros: number
  readonly transportCpuMicros: number
}

interface Counts {
  ok: number
  failed: number
}

/** Runs `concurrency` workers that send until `deadline` (a `performance.now()` time), and counts the outcomes. */
type Contender = (deadline: number) => Promise<Counts>

/** The rate counts every completed send, over the time until the last one completed. */
const measure = async (contender: Contender, millis: number): Promise<RunResult> => {
  const cpuBefore = process.cpuUsage()
  const start = performance.now()
  const counts = await contender(start + millis)
  const elapsed = performance.now() - start
  const cpu = process.cpuUsage(cpuBefore)
  return {
    ...counts,
    millis: elapsed,
    rate: counts.ok / elapsed * 1000,
    cpuMicros: (cpu.user + cpu.system) / Math.max(1, counts.ok + counts.failed)
  }
}

const sum = (parts: ReadonlyArray<Counts>): Counts =>
  parts.reduce((total, part) => ({ ok: total.ok + part.ok, failed: total.failed + part.failed }), { ok: 0, failed: 0 })

const promiseWorkers = (concurrency: number, once: () => Promise<boolean>): Contender => async (deadline) => {
  const worker = async (): Promise<Counts> => {
    const counts: Counts = { ok: 0, failed: 0 }
    while (performance.now() < deadline) {
      try {
        if (await once()) counts.ok++
        else counts.failed++
      } catch {
        counts.failed++
      }
    }
    return counts
  }
  return sum(await Promise.all(Array.from({ length: concurrency }, worker)))
}

export const runHttp = async (server: ServerProcess, options: HttpOptions): Promise<HttpResult> => {
  heading(`(1) HTTP throughput: concurrency ${options.concurrency}, server in its own process (${server.url})`)
  const clientOptions: KaleyraConfig.Options = {
    sid: server.sid,
    apiKey: Redacted.make(server.apiKey),
    senderNumber: server.senderNumber,
    baseUrl: server.url
  }
  const config = Either.getOrThrow(KaleyraConfig.resolve(clientOptions))
  const url = `${config.accountUrl}/messages`
  const path = new URL(url).pathname
  // The very body and headers the library sends.
  const body = JSON.stringify(MediaMessage.toWire(Either.getOrThrow(MediaMessage.validate(imageMessage))))
  const headers = {
    "api-key": server.apiKey,
    "cache-control": "no-cache",
    accept: "application/json",
    "content-type": "application/json"
  }

  const pool = new Pool(server.url, { connections: options.concurrency })
  const undici = promiseWorkers(options.concurrency, async () => {
    const response = await pool.request({ path, method: "POST", headers, body })
    await response.body.text()
    return response.statusCode === 202
  })

  const fetchContender = promiseWorkers(options.concurrency, async () => {
    const response = await fetch(url, { method: "POST", headers, body })
    await response.text()
    return response.status === 202
  })

  const runtime = ManagedRuntime.make(KaleyraNode.layer(clientOptions))
  const send = Effect.either(sendMedia(imageMessage))
  const libraryWorker = (deadline: number) =>
    Effect.suspend(() => {
      const counts: Counts = { ok: 0, failed: 0 }
      return Effect.as(
        Effect.whileLoop({
          while: () => performance.now() < deadline,
          body: () => send,
          step: (outcome) => {
            if (Either.isRight(outcome)) counts.ok++
            else counts.failed++
          }
        }),
        counts
      )
    })
  const library: Contender = (deadline) =>
    runtime.runPromise(
      Effect.map(
        Effect.all(Array.from({ length: options.concurrency }, () => libraryWorker(deadline)), {
          concurrency: "unbounded"
        }),
        sum
      )
    )

  // The same request through the library's transport alone: the exchange the client sends through, with the
  // client's timeout.
  const transportRuntime = ManagedRuntime.make(UndiciHttpClient.layer)
  const exchangeRequest: HttpTransport.ExchangeRequest = {
    method: "POST",
    url,
    headers,
    body,
    timeoutMillis: Duration.toMillis(config.timeout)
  }
  const transportOnce = Effect.flatMap(HttpClient.HttpClient, (client) => {
    const exchange = HttpTransport.exchangeOf(client)
    if (exchange === undefined) return Effect.dieMessage("UndiciHttpClient offers no HttpTransport.Exchange")
    return Effect.map(exchange(exchangeRequest), (response) => response.status === 202)
  })
  const transport: Contender = (deadline) =>
    transportRuntime.runPromise(
      Effect.map(
        Effect.all(
          Array.from({ length: options.concurrency }, () =>
            Effect.suspend(() => {
              const counts: Counts = { ok: 0, failed: 0 }
              return Effect.as(
                Effect.whileLoop({
                  while: () => performance.now() < deadline,
                  body: () => Effect.either(transportOnce),
                  step: (outcome) => {
                    if (Either.isRight(outcome) && outcome.right) counts.ok++
                    else counts.failed++
                  }
                }),
                counts
              )
            })),
          { concurrency: "unbounded" }
        ),
        sum
      )
    )

  const contenders = [
    { id: "undici", name: "undici Pool", run: undici },
    { id: "library", name: "library (KaleyraNode.layer)", run: library },
    { id: "fetch", name: "fetch", run: fetchContender },
    { id: "transport", name: "transport only (UndiciHttpClient)", run: transport }
  ].filter((c) => options.contenders === undefined || options.contenders.includes(c.id))
  const results = new Map<string, Array<RunResult>>(contenders.map((c) => [c.name, []]))
  try {
    for (const contender of contenders) {
      const warm = await measure(contender.run, options.warmupMillis)
      console.log(`  warm-up ${contender.name}: ${int(warm.rate)} /s`)
    }
    for (let round = 1; round <= options.rounds; round++) {
      const line: Array<string> = []
      for (const contender of contenders) {
        const result = await measure(contender.run, options.runMillis)
        results.get(contender.name)!.push(result)
        line.push(`${contender.name} ${int(result.rate)}`)
      }
      console.log(`  round ${round}: ${line.join(", ")}`)
    }
  } finally {
    await runtime.dispose()
    await transportRuntime.dispose()
    await pool.close()
  }

  const rates = (name: string) => results.get(name)?.map((r) => r.rate) ?? []
  const undiciRates = rates("undici Pool")
  const libraryRates = rates("library (KaleyraNode.layer)")
  const fetchRates = rates("fetch")
  const transportRates = rates("transport only (UndiciHttpClient)")
  const transportMedian = median(transportRates)
  const undiciMedian = median(undiciRates)
  const libraryMedian = median(libraryRates)
  const fetchMedian = median(fetchRates)
  const perRound = libraryRates.map((rate, i) => rate / undiciRates[i])
  console.log("")
  printTable(
    [
      "requests/s",
      ...Array.from({ length: options.rounds }, (_, i) => `round ${i + 1}`),
      "median",
      "client CPU us/req",
      "sends",
      "failed"
    ],
    contenders.map((c) => {
      const runs = results.get(c.name)!
      return [
        c.name,
        ...runs.map((r) => int(r.rate)),
        int(median(runs.map((r) => r.rate))),
        fixed(median(runs.map((r) => r.cpuMicros)), 1),
        int(runs.reduce((n, r) => n + r.ok, 0)),
        int(runs.reduce((n, r) => n + r.failed, 0))
      ]
    })
  )
  const failed = [...results.values()].flat().reduce((n, r) => n + r.failed, 0)
  const libraryOverUndici = libraryMedian / undiciMedian
  const libraryOverFetch = libraryMedian / fetchMedian
  const pass = libraryOverUndici >= 0.85 && failed === 0
  console.log("")
  printTable(["ratio (of medians)", "value", "per round", "target", ""], [
    [
      "library / undici",
      fixed(libraryOverUndici, 3),
      perRound.map((r) => fixed(r, 2)).join(" "),
      ">= 0.85",
      verdict(pass)
    ],
    [
      "library / fetch",
      fixed(libraryOverFetch, 2),
      libraryRates.map((r, i) => fixed(r / fetchRates[i], 2)).join(" "),
      "",
      ""
    ],
    [
      "transport only / undici (the floor)",
      fixed(transportMedian / undiciMedian, 3),
      transportRates.map((r, i) => fixed(r / undiciRates[i], 2)).join(" "),
      "",
      ""
    ]
  ])
  console.log(
    "  (client CPU us/req: this process's user + system time per request, GC threads included; the server runs in\n" +
      "   another process. Less sensitive to other work on the machine than requests/s.)"
  )
  const cpuOf = (name: string) => median(results.get(name)?.map((r) => r.cpuMicros) ?? [])
  return {
    undiciCpuMicros: cpuOf("undici Pool"),
    libraryCpuMicros: cpuOf("library (KaleyraNode.layer)"),
    fetchCpuMicros: cpuOf("fetch"),
    transportCpuMicros: cpuOf("transport only (UndiciHttpClient)"),
    transport: transportRates,
    transportMedian,
    transportOverUndici: transportMedian / undiciMedian,
    undici: undiciRates,
    library: libraryRates,
    fetch: fetchRates,
    undiciMedian,
    libraryMedian,
    fetchMedian,
    libraryOverUndici,
    libraryOverFetch,
    failed,
    pass
  }
}
