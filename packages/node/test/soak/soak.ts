/**
 * Soak test: sends continuously through `KaleyraNode.layer` (the lean undici client, a real loopback socket) to a
 * served simulator that injects every fault at a low rate, for a bounded time; then checks that nothing was lost,
 * duplicated or leaked.
 *
 *   pnpm soak [--seconds 120] [--concurrency 32] [--rate 0.005] [--seed 1]
 *   (= tsx --conditions=@effect-kaleyra/source packages/node/test/soak/soak.ts ...)
 *
 * Checks (exit code 1 when one fails):
 *
 * 1. every send started has exactly one outcome (started == outcomes), and none is a defect or an interruption;
 * 2. no message was accepted twice (the simulator counts acceptances per `extra_info.ref`; every ref is unique);
 *    a `Sent` was accepted exactly once, an error that proves non-acceptance (`KaleyraServerError`, `RateLimited`,
 *    a non-2xx `UnexpectedResponse`, a `TransportError` that did not reach Kaleyra) never was;
 * 3. open file descriptors (`/proc/self/fd`) grow by at most 50 from the end of the warm-up to the end, and come back
 *    to at most start + 10 once the client and the server are closed;
 * 4. RSS (after a forced GC) grows by at most 100 MB from the end of the warm-up to the end. The simulator runs in
 *    this process and keeps one count per accepted ref (about 100 bytes each), which is part of that budget.
 *
 * The faults' parameters are scaled for a soak: latency 50 ms, drip 200 ms (both within the 1-second timeout),
 * `Retry-After: 1`, and a 2 MiB huge response (over the client's 1 MiB limit, without turning the soak into a
 * bandwidth test). The whole run stops by itself: a watchdog exits 1 if it overruns by a minute.
 */
import { MediaMessage, sendMedia, type SendMediaError } from "@effect-kaleyra/core"
import { type FaultRates, faults } from "@effect-kaleyra/testing/KaleyraSimulator"
import * as SimulatorServer from "@effect-kaleyra/testing/SimulatorServer"
import { Cause, Effect, Exit, Fiber, Layer, Redacted, Scope } from "effect"
import { readdirSync } from "node:fs"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import * as KaleyraNode from "../../src/KaleyraNode.js"

// -----------------------------------------------------------------------------
// options
// -----------------------------------------------------------------------------

const numberArg = (name: string, fallback: number): number => {
  const argv = process.argv.slice(2)
  const index = argv.indexOf(`--${name}`)
  const inline = argv.find((a) => a.startsWith(`--${name}=`))
  const raw = inline !== undefined ? inline.slice(name.length + 3) : index !== -1 ? argv[index + 1] : undefined
  if (raw === undefined) return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value <= 0) {
    process.stderr.write(`--${name} must be a positive number (got ${JSON.stringify(raw)})\n`)
    process.exit(2)
  }
  return value
}

const SECONDS = numberArg("seconds", 120)
const CONCURRENCY = Math.floor(numberArg("concurrency", 32))
const RATE = numberArg("rate", 0.005)
const SEED = Math.floor(numberArg("seed", 1))
const WARMUP_MILLIS = Math.min(10_000, SECONDS * 200)

const FD_GROWTH_LIMIT = 50
const FD_AFTER_CLOSE_LIMIT = 10
const RSS_GROWTH_LIMIT = 100 * 1024 * 1024

const API_KEY = "soak-api-key"
const SID = "HXAP16XXXXXX97IN"
const SENDER = "919999999999"

const print = (line: string) => process.stdout.write(line + "\n")

// -----------------------------------------------------------------------------
// measurements
// -----------------------------------------------------------------------------

setFlagsFromString("--expose-gc")
const gc = runInNewContext("gc") as () => void

const openFds = (): number => {
  try {
    return readdirSync("/proc/self/fd").length
  } catch {
    return -1
  }
}

interface Sample {
  readonly label: string
  readonly at: number
  readonly fds: number
  readonly rss: number
  readonly heapUsed: number
  readonly sends: number
}

const MB = 1024 * 1024
const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`
const signed = (n: number, format: (n: number) => string = String) => (n >= 0 ? "+" : "-") + format(Math.abs(n))

// -----------------------------------------------------------------------------
// bookkeeping: one byte per send (its expected acceptance), and the outcomes
// -----------------------------------------------------------------------------

/** What an outcome says about acceptance: never (it proves so), exactly once, or at most once (ambiguous). */
const Acceptance = { Never: 1, Once: 2, Unknown: 3 } as const
type Acceptance = typeof Acceptance[keyof typeof Acceptance]
const acceptanceName = (a: Acceptance): string => a === 1 ? "never" : a === 2 ? "once" : "at most once"

class Ledger {
  started = 0
  finished = 0
  private expected = new Uint8Array(1 << 16)
  readonly outcomes = new Map<string, number>()
  sent = 0
  /** Outcomes that prove acceptance without a `Sent` (a 2xx the client could not use). */
  accepted2xx = 0
  /** Outcomes that leave acceptance unknown. */
  ambiguous = 0

  start(): number {
    const id = this.started++
    if (id >= this.expected.length) {
      const grown = new Uint8Array(this.expected.length * 2)
      grown.set(this.expected)
      this.expected = grown
    }
    return id
  }

  finish(id: number, key: string, acceptance: Acceptance): void {
    this.finished++
    this.expected[id] = acceptance
    this.outcomes.set(key, (this.outcomes.get(key) ?? 0) + 1)
    if (key === "Sent") this.sent++
    else if (acceptance === Acceptance.Once) this.accepted2xx++
    else if (acceptance === Acceptance.Unknown) this.ambiguous++
  }

  expectedOf(id: number): Acceptance {
    return this.expected[id] as Acceptance
  }
}

const classify = (error: SendMediaError): { readonly key: string; readonly acceptance: Acceptance } => {
  switch (error._tag) {
    case "TransportError":
      return {
        key: `TransportError(${error.reason}, ${error.mayHaveReachedKaleyra ? "may have reached" : "did not reach"})`,
        acceptance: error.mayHaveReachedKaleyra ? Acceptance.Unknown : Acceptance.Never
      }
    case "UnexpectedResponse":
      return {
        key: `UnexpectedResponse(${error.reason}, ${error.status})`,
        acceptance: error.accepted ? Acceptance.Once : Acceptance.Never
      }
    case "KaleyraServerError":
    case "RateLimited":
      return { key: error._tag, acceptance: Acceptance.Never }
    default:
      // Not expected from these faults; a failure proves nothing either way.
      return { key: error._tag, acceptance: Acceptance.Unknown }
  }
}

// -----------------------------------------------------------------------------
// the run
// -----------------------------------------------------------------------------

const message = (id: number) =>
  MediaMessage.image({
    to: "+919876543210",
    link: "https://example.com/soak.png",
    extraInfo: { ref: `soak-${id}` }
  })

const program = Effect.gen(function*() {
  const failures: Array<string> = []
  const check = (ok: boolean, what: string) => {
    print(`${ok ? "ok  " : "FAIL"} ${what}`)
    if (!ok) failures.push(what)
  }
  const samples: Array<Sample> = []
  const ledger = new Ledger()
  const t0 = Date.now()
  const sample = (label: string) =>
    Effect.sync(() => {
      gc()
      const memory = process.memoryUsage()
      const s = {
        label,
        at: Date.now() - t0,
        fds: openFds(),
        rss: memory.rss,
        heapUsed: memory.heapUsed,
        sends: ledger.finished
      }
      samples.push(s)
      print(
        `[${(s.at / 1000).toFixed(1)} s] ${label}: fds ${s.fds}, rss ${mb(s.rss)}, heap ${mb(s.heapUsed)}, ` +
          `${s.sends} sends`
      )
      return s
    })

  const start = yield* sample("start")
  const rates: FaultRates = Object.fromEntries(faults.map((fault) => [fault, RATE]))
  print(
    `soak: ${SECONDS} s, concurrency ${CONCURRENCY}, every fault (${faults.length}) at ${RATE * 100}% (seed ${SEED})`
  )

  const scope = yield* Scope.make()
  const served = yield* Scope.extend(
    SimulatorServer.serve({
      simulator: {
        apiKey: API_KEY,
        sid: SID,
        senderNumbers: [SENDER],
        balance: Number.MAX_SAFE_INTEGER,
        historyLimit: 0,
        seed: SEED,
        faultRates: rates,
        faults: { latencyMillis: 50, dripMillis: 200, retryAfter: 1, hugeBytes: 2 * MB }
      }
    }),
    scope
  )
  const context = yield* Scope.extend(
    Layer.build(KaleyraNode.layer({
      sid: SID,
      apiKey: Redacted.make(API_KEY),
      senderNumber: SENDER,
      baseUrl: served.url,
      timeout: "1 second",
      retryBaseDelay: "20 millis",
      maxRetries: 2
    })),
    scope
  )

  const deadline = t0 + SECONDS * 1000
  const worker = Effect.gen(function*() {
    while (Date.now() < deadline) {
      const id = ledger.start()
      const exit = yield* Effect.exit(Effect.provide(sendMedia(message(id)), context))
      if (Exit.isSuccess(exit)) {
        ledger.finish(id, "Sent", Acceptance.Once)
        continue
      }
      const failure = Cause.failureOption(exit.cause)
      if (failure._tag === "Some") {
        const { acceptance, key } = classify(failure.value)
        ledger.finish(id, key, acceptance)
      } else {
        const kind = Cause.isInterruptedOnly(exit.cause) ? "Interrupted" : "Defect"
        ledger.finish(id, kind, Acceptance.Unknown)
        print(`${kind}: ${Cause.pretty(exit.cause).split("\n")[0]}`)
      }
    }
  })

  const sampler = Effect.gen(function*() {
    yield* Effect.sleep(WARMUP_MILLIS)
    yield* sample("warm")
    yield* Effect.sleep(Math.max(0, t0 + (SECONDS * 1000) / 2 - Date.now()))
    yield* sample("middle")
  })
  const progress = Effect.gen(function*() {
    let last = 0
    for (;;) {
      yield* Effect.sleep("10 seconds")
      const done = ledger.finished
      print(
        `[${((Date.now() - t0) / 1000).toFixed(0)} s] ${done} sends (${((done - last) / 10).toFixed(0)}/s), ` +
          `in flight ${ledger.started - ledger.finished}`
      )
      last = done
    }
  })

  const background = yield* Effect.fork(Effect.all([sampler, progress], { concurrency: 2, discard: true }))
  yield* Effect.all(Array.from({ length: CONCURRENCY }, () => worker), { concurrency: CONCURRENCY, discard: true })
  const elapsed = (Date.now() - t0) / 1000
  yield* Fiber.interrupt(background)
  // Let the server finish the faults still running (drips, huge bodies) and the sockets settle.
  yield* Effect.sleep("1500 millis")
  const end = yield* sample("end")

  const stats = yield* served.simulator.stats
  const refs = yield* served.simulator.acceptedRefs
  yield* Scope.close(scope, Exit.void)
  yield* Effect.sleep("500 millis")
  const closed = yield* sample("closed")

  // --- report ----------------------------------------------------------------
  print("")
  print(`${ledger.started} sends in ${elapsed.toFixed(1)} s (${(ledger.started / elapsed).toFixed(0)}/s)`)
  print("outcomes:")
  for (const [key, count] of [...ledger.outcomes.entries()].sort((a, b) => b[1] - a[1])) {
    print(`  ${String(count).padStart(8)}  ${key}`)
  }
  print(`simulator: ${stats.requests} requests, ${stats.accepted} accepted, ${stats.duplicateRefs} refs twice`)
  print(`faults: ${faults.map((f) => `${f} ${stats.faults[f]}`).join(", ")}`)
  const table = samples.map((s) =>
    `  ${s.label.padEnd(7)} ${(s.at / 1000).toFixed(1).padStart(6)} s  fds ${String(s.fds).padStart(4)}  rss ${
      mb(s.rss).padStart(9)
    }  heap ${mb(s.heapUsed).padStart(9)}  sends ${s.sends}`
  )
  print("samples (after a forced GC):")
  for (const line of table) print(line)
  print("")

  // --- checks ----------------------------------------------------------------
  const warm = samples.find((s) => s.label === "warm") ?? start
  const outcomes = [...ledger.outcomes.values()].reduce((a, b) => a + b, 0)
  check(
    ledger.started === ledger.finished && outcomes === ledger.started,
    `every send has exactly one outcome ` +
      `(started ${ledger.started}, finished ${ledger.finished}, outcomes ${outcomes})`
  )
  const broken = (ledger.outcomes.get("Defect") ?? 0) + (ledger.outcomes.get("Interrupted") ?? 0)
  check(broken === 0, `no defect and no interruption (${broken})`)
  check(stats.duplicateRefs === 0, `no ref accepted twice (${stats.duplicateRefs})`)
  let mismatches = 0
  for (let id = 0; id < ledger.started; id++) {
    const count = refs.get(`soak-${id}`) ?? 0
    const expected = ledger.expectedOf(id)
    const ok = expected === Acceptance.Once ? count === 1 : expected === Acceptance.Never ? count === 0 : count <= 1
    if (!ok) {
      if (mismatches < 5) print(`  ref soak-${id}: accepted ${count} times, outcome says ${acceptanceName(expected)}`)
      mismatches++
    }
  }
  check(mismatches === 0, `each outcome agrees with the simulator's acceptances (${mismatches} mismatches)`)
  const lower = ledger.sent + ledger.accepted2xx
  check(
    stats.accepted >= lower && stats.accepted <= lower + ledger.ambiguous,
    `Sent + accepted 2xx errors <= accepted <= that + ambiguous (${lower} <= ${stats.accepted} <= ${
      lower + ledger.ambiguous
    })`
  )
  check(stats.requests >= ledger.started, `every send reached the server at least once or was counted`)
  if (start.fds >= 0) {
    check(
      end.fds - warm.fds <= FD_GROWTH_LIMIT,
      `fds after warm-up ${signed(end.fds - warm.fds)} <= +${FD_GROWTH_LIMIT}`
    )
    check(
      closed.fds - start.fds <= FD_AFTER_CLOSE_LIMIT,
      `fds once closed ${closed.fds} <= start ${start.fds} + ${FD_AFTER_CLOSE_LIMIT}`
    )
  } else {
    print("skip fds: /proc/self/fd is not available")
  }
  check(
    end.rss - warm.rss <= RSS_GROWTH_LIMIT,
    `rss after warm-up ${signed(end.rss - warm.rss, mb)} <= +${mb(RSS_GROWTH_LIMIT)}`
  )
  print(failures.length === 0 ? "\nsoak: PASS" : `\nsoak: FAIL (${failures.length})`)
  return failures.length === 0
})

const watchdog = setTimeout(() => {
  process.stderr.write("soak: watchdog: the run overran its time by a minute\n")
  process.exit(1)
}, (SECONDS + 60) * 1000)
watchdog.unref()

Effect.runPromiseExit(program).then((exit) => {
  if (Exit.isFailure(exit)) process.stderr.write(Cause.pretty(exit.cause) + "\n")
  process.exit(Exit.isSuccess(exit) && exit.value ? 0 : 1)
})
