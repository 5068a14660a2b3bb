/**
 * (1) Sends per second at concurrency 64 against the simulator served by another process: raw undici `Pool`,
 * global `fetch`, and the library (`KaleyraNode.layer`), with the same body and headers. Each client runs in its
 * own process (`contender-entry.ts`), so that none pays for another's garbage; the runs are interleaved (undici,
 * library, fetch, undici, ...) and each client is warmed up first; the medians are reported.
 *
 * A fourth contender, "transport only", is the library's own transport (`UndiciTransport`, the `KaleyraTransport`
 * through which the client sends, with the client's per-attempt timeout) sending the
 * pre-encoded body and reading the answer, with no Kaleyra client around it: the floor under the library's figure,
 * and what is left for validation, encoding, decoding, the retry loop and events.
 */
import type { ChildProcess } from "node:child_process"
import { createInterface } from "node:readline"
import { type ContenderId, contenderIds, contenderNames, type RunReport } from "./contenders.js"
import type { ServerProcess } from "./serverProcess.js"
import { CONTENDER_RESULT } from "./settings.js"
import { fixed, heading, int, median, printTable, spawnPart, verdict } from "./util.js"

export interface HttpOptions {
  readonly concurrency: number
  readonly rounds: number
  readonly warmupMillis: number
  readonly runMillis: number
  /** Which contenders run (default all; e.g. only the library, to profile it). */
  readonly contenders?: ReadonlyArray<string> | undefined
}

export interface RunResult extends RunReport {
  /** Completed sends per second. */
  readonly rate: number
}

export interface HttpResult {
  readonly undici: ReadonlyArray<number>
  readonly library: ReadonlyArray<number>
  /** The library's transport alone (see the module's comment); empty when it did not run. */
  readonly transport: ReadonlyArray<number>
  readonly transportMedian: number
  /** The transport's median over undici's: the floor under the library's cost, so about the best ratio it could reach. */
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

/** A contender's process: it runs one command at a time and answers each with one line. */
interface ContenderProcess {
  readonly id: ContenderId
  readonly name: string
  /** Sends for `millis` and reports the outcome. */
  readonly measure: (millis: number) => Promise<RunResult>
  /** Closes its stdin and waits for it to exit (killing it after 10 seconds). */
  readonly close: () => Promise<void>
}

/** The node flags this process runs with that its contender processes need too (`--profile`'s). */
const forwardedFlags = (): ReadonlyArray<string> => {
  const flags: Array<string> = []
  const argv = process.execArgv
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--cpu-prof") flags.push(argv[i])
    else if (argv[i] === "--cpu-prof-dir") flags.push(argv[i], argv[++i])
    else if (argv[i].startsWith("--cpu-prof-dir=")) flags.push(argv[i])
  }
  return flags
}

const startContender = (id: ContenderId, server: ServerProcess, concurrency: number): Promise<ContenderProcess> =>
  new Promise((resolve, reject) => {
    const { close: _close, ...info } = server
    const child: ChildProcess = spawnPart(
      "contender",
      [id, JSON.stringify(info), String(concurrency)],
      ["pipe", "pipe", "inherit"],
      forwardedFlags()
    )
    const waiting: Array<{ resolve: (line: string) => void; reject: (error: Error) => void }> = []
    let exited: Error | undefined
    const lines = createInterface({ input: child.stdout! })
    lines.on("line", (line) => {
      if (line.startsWith(CONTENDER_RESULT)) waiting.shift()?.resolve(line.slice(CONTENDER_RESULT.length))
      else console.log(line)
    })
    const gone = (error: Error) => {
      exited = error
      for (const waiter of waiting.splice(0)) waiter.reject(error)
    }
    child.once("exit", (code, signal) => gone(new Error(`the ${id} contender process exited (${code ?? signal})`)))
    child.once("error", gone)
    /** The next answer, within `millis` (the process is killed after that: a benchmark never hangs). */
    const next = (millis: number) =>
      new Promise<string>((resolveLine, rejectLine) => {
        if (exited !== undefined) return rejectLine(exited)
        const timer = setTimeout(() => {
          child.kill("SIGKILL")
          rejectLine(new Error(`the ${id} contender process did not answer within ${millis} ms`))
        }, millis)
        const clear = <A>(settle: (value: A) => void) => (value: A) => {
          clearTimeout(timer)
          settle(value)
        }
        waiting.push({ resolve: clear(resolveLine), reject: clear(rejectLine) })
      })
    const contender: ContenderProcess = {
      id,
      name: contenderNames[id],
      measure: async (millis) => {
        child.stdin!.write(`run ${millis}\n`)
        const result = JSON.parse(await next(millis + 60_000)) as RunReport
        return { ...result, rate: result.ok / result.millis * 1000 }
      },
      close: () =>
        new Promise((resolveClose) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolveClose()
          const timer = setTimeout(() => child.kill("SIGKILL"), 10_000)
          child.once("exit", () => {
            clearTimeout(timer)
            resolveClose()
          })
          child.stdin!.end()
        })
    }
    next(60_000).then((line) => {
      if (line === "ready") return resolve(contender)
      child.kill("SIGKILL")
      reject(new Error(`${id}: ${line}`))
    }, reject)
  })

export const runHttp = async (server: ServerProcess, options: HttpOptions): Promise<HttpResult> => {
  heading(`(1) HTTP throughput: concurrency ${options.concurrency}, server in its own process (${server.url})`)
  const contenders: Array<ContenderProcess> = []
  const results = new Map<string, Array<RunResult>>()
  try {
    for (const id of contenderIds) {
      if (options.contenders !== undefined && !options.contenders.includes(id)) continue
      const contender = await startContender(id, server, options.concurrency)
      contenders.push(contender)
      results.set(contender.name, [])
    }
    for (const contender of contenders) {
      const warm = await contender.measure(options.warmupMillis)
      console.log(`  warm-up ${contender.name}: ${int(warm.rate)} /s`)
    }
    for (let round = 1; round <= options.rounds; round++) {
      const line: Array<string> = []
      for (const contender of contenders) {
        const result = await contender.measure(options.runMillis)
        results.get(contender.name)!.push(result)
        line.push(`${contender.name} ${int(result.rate)}`)
      }
      console.log(`  round ${round}: ${line.join(", ")}`)
    }
  } finally {
    await Promise.all(contenders.map((contender) => contender.close()))
  }

  const rates = (name: string) => results.get(name)?.map((r) => r.rate) ?? []
  const undiciRates = rates(contenderNames.undici)
  const libraryRates = rates(contenderNames.library)
  const fetchRates = rates(contenderNames.fetch)
  const transportRates = rates(contenderNames.transport)
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
    "  (client CPU us/req: the client's process's user + system time per request, GC threads included; each client\n" +
      "   and the server run in processes of their own. Less sensitive to other work on the machine than requests/s.)"
  )
  const cpuOf = (name: string) => median(results.get(name)?.map((r) => r.cpuMicros) ?? [])
  return {
    undiciCpuMicros: cpuOf(contenderNames.undici),
    libraryCpuMicros: cpuOf(contenderNames.library),
    fetchCpuMicros: cpuOf(contenderNames.fetch),
    transportCpuMicros: cpuOf(contenderNames.transport),
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
