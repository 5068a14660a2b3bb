/**
 * (2) The library's CPU cost per send, in memory: sequential sends (one fiber, so one core) through
 * `KaleyraTest.layer` (the real client over the lean in-memory transport to the simulator, with `KaleyraEvents`),
 * with a subscriber draining the events, with the simulator's status callbacks, without `KaleyraEvents`, and over a
 * canned answer (no simulator); the variants are interleaved. Then the pure parts and the cost of the Effect
 * combinators of the send path, for context.
 */
import {
  KaleyraClient,
  KaleyraEvents,
  KaleyraTransport,
  MediaMessage,
  sendMedia,
  SendMediaRequest
} from "@effect-kaleyra/core"
import { KaleyraSimulator, KaleyraTest } from "@effect-kaleyra/testing"

import {
  Clock,
  Deferred,
  Effect,
  Either,
  Exit,
  FiberRef,
  Layer,
  ManagedRuntime,
  Option,
  PubSub,
  Queue,
  Redacted
} from "effect"
import { PerformanceObserver } from "node:perf_hooks"
import { imageMessage } from "./message.js"
import { fixed, heading, int, median, printTable, sleep, verdict } from "./util.js"

export interface CpuOptions {
  readonly warmup: number
  readonly sends: number
  readonly reps: number
  /** Iterations of each pure part. */
  readonly partIterations: number
}

export interface VariantResult {
  readonly name: string
  /** Sends per second of wall time (median rep). */
  readonly sendsPerSecond: number
  readonly wallMicros: number
  /** Process CPU time (user + system, GC threads included) per send. */
  readonly cpuMicros: number
  /** Share of the wall time spent in GC pauses. */
  readonly gcShare: number
  readonly note: string
}

export interface CpuResult {
  readonly variants: ReadonlyArray<VariantResult>
  readonly parts: ReadonlyArray<{ readonly name: string; readonly micros: number }>
  readonly combinators: ReadonlyArray<{ readonly name: string; readonly micros: number }>
  /** The headline: `KaleyraTest.layer({ callbacks: false })`, sends per second on one core. */
  readonly sendsPerSecond: number
  /** With `KaleyraEvents` and a subscriber. */
  readonly sendsPerSecondWithEvents: number
  readonly pass: boolean
}

const TARGET = 40_000
const BALANCE = 1e15

interface Rep {
  readonly wallMillis: number
  readonly cpuMicros: number
  readonly gcMillis: number
}

// GC pauses, summed by a performance observer while the benchmark runs.
let gcMillis = 0

const sequential = (count: number): Effect.Effect<void, unknown, KaleyraClient> =>
  Effect.gen(function*() {
    for (let i = 0; i < count; i++) yield* sendMedia(imageMessage)
  })

interface Variant {
  readonly name: string
  readonly runtime: ManagedRuntime.ManagedRuntime<KaleyraClient, never>
  readonly note: () => string
  readonly reps: Array<Rep>
}

const variant = <R>(
  name: string,
  layer: Layer.Layer<KaleyraClient | R>,
  note: (runtime: ManagedRuntime.ManagedRuntime<KaleyraClient | R, never>) => () => string
): Variant => {
  const runtime = ManagedRuntime.make(layer)
  return { name, runtime, note: note(runtime), reps: [] }
}

/** One rep: `sends` sequential sends in one fiber, timed by the wall clock, the process's CPU time and GC pauses. */
const runRep = async (v: Variant, sends: number): Promise<void> => {
  // Let the GC entries of the previous run arrive before reading the counter.
  await sleep(20)
  const gcBefore = gcMillis
  const cpuBefore = process.cpuUsage()
  const start = performance.now()
  await v.runtime.runPromise(sequential(sends))
  const wallMillis = performance.now() - start
  const cpu = process.cpuUsage(cpuBefore)
  await sleep(20)
  v.reps.push({ wallMillis, cpuMicros: cpu.user + cpu.system, gcMillis: gcMillis - gcBefore })
}

const summarize = (v: Variant, sends: number): VariantResult => {
  const wall = median(v.reps.map((r) => r.wallMillis))
  return {
    name: v.name,
    sendsPerSecond: sends / wall * 1000,
    wallMicros: wall * 1000 / sends,
    cpuMicros: median(v.reps.map((r) => r.cpuMicros)) / sends,
    gcShare: median(v.reps.map((r) => r.gcMillis / r.wallMillis)),
    note: v.note()
  }
}

/** Median time of one call of `f`, in microseconds. */
const timePart = (f: () => unknown, iterations: number): number => {
  const runs: Array<number> = []
  for (let i = 0; i < Math.min(20_000, iterations); i++) f()
  for (let rep = 0; rep < 3; rep++) {
    const start = performance.now()
    for (let i = 0; i < iterations; i++) f()
    runs.push((performance.now() - start) * 1000 / iterations)
  }
  return median(runs)
}

/**
 * What Effect combinators cost per call in one fiber (the extra time over `Effect.void`), each effect built anew per
 * call as the send path does: the figures that explain the fiber-runtime share of a profile.
 */
const combinatorCosts = (
  iterations: number
): Promise<ReadonlyArray<{ readonly name: string; readonly micros: number }>> =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const loop = (make: () => Effect.Effect<unknown, unknown>) =>
      Effect.gen(function*() {
        for (let i = 0; i < iterations; i++) yield* make()
      })
    const timed = (make: () => Effect.Effect<unknown, unknown>) =>
      Effect.gen(function*() {
        yield* loop(make)
        const runs: Array<number> = []
        for (let rep = 0; rep < 3; rep++) {
          const start = performance.now()
          yield* loop(make)
          runs.push((performance.now() - start) * 1000 / iterations)
        }
        return median(runs)
      })
    const ref = FiberRef.unsafeMake(0)
    const never = yield* Deferred.make<void>()
    const pubsub = yield* PubSub.sliding<number>(16_384)
    yield* PubSub.subscribe(pubsub)
    const base = yield* timed(() => Effect.void)
    const cases: ReadonlyArray<readonly [string, () => Effect.Effect<unknown, unknown>]> = [
      [
        "Effect.timeoutFail(e, 30 s) (forks 2 fibers + a timer)",
        () => Effect.timeoutFail(Effect.void, { duration: "30 seconds", onTimeout: () => "timeout" })
      ],
      ["Effect.withSpan(e, name)", () => Effect.withSpan(Effect.void, "bench")],
      [
        "Effect.makeSpan + span.end",
        () => Effect.flatMap(Effect.makeSpan("bench"), (span) => Effect.sync(() => span.end(BigInt(0), Exit.void)))
      ],
      ["Effect.locally(e, fiberRef, v)", () => Effect.locally(Effect.void, ref, 1)],
      [
        "Effect.raceFirst(e, Deferred.await) (batch, per send)",
        () => Effect.raceFirst(Effect.void, Deferred.await(never))
      ],
      ["PubSub.publish (sliding, 1 subscriber)", () => PubSub.publish(pubsub, 1)],
      ["Clock.currentTimeMillis", () => Clock.currentTimeMillis]
    ]
    const out: Array<{ readonly name: string; readonly micros: number }> = [{
      name: "Effect.void (baseline)",
      micros: base
    }]
    for (const [name, make] of cases) out.push({ name: `+ ${name}`, micros: (yield* timed(make)) - base })
    return out
  })))

export const runCpu = async (options: CpuOptions): Promise<CpuResult> => {
  heading(
    `(2) CPU per send, in memory: ${int(options.sends)} sequential sends x ${options.reps} (median), ` +
      `after ${int(options.warmup)} warm-up sends`
  )
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMillis += entry.duration
  })
  observer.observe({ entryTypes: ["gc"] })

  const simulatorOptions: KaleyraSimulator.SimulatorOptions = { balance: BALANCE, historyLimit: 0 }
  // The client built by hand too, so that KaleyraEvents can be given to it (and a canned transport).
  const simulator = KaleyraSimulator.unsafeMake(simulatorOptions)
  const clientOptions = {
    sid: simulator.options.sid,
    apiKey: Redacted.make(simulator.options.apiKey),
    senderNumber: simulator.options.senderNumbers[0] ?? "919999999999",
    baseUrl: KaleyraTest.baseUrl
  }
  const noEvents = KaleyraClient.layer(clientOptions).pipe(
    Layer.provide(KaleyraTest.layerTransport(simulator)),
    Layer.orDie
  )
  const received = { count: 0 }
  // Drains every event of the KaleyraEvents in context, from the layer's start to its end.
  const subscriber = Layer.scopedDiscard(Effect.gen(function*() {
    const queue = yield* (yield* KaleyraEvents).subscribe
    yield* Effect.forkScoped(Effect.forever(
      Effect.map(Queue.takeBetween(queue, 1, 4096), (chunk) => {
        received.count += chunk.length
      })
    ))
  }))
  const accepted = Effect.runSync(simulator.handle({
    method: "POST",
    path: `/v2/${simulator.options.sid}/whatsapp/${clientOptions.senderNumber}/messages`,
    headers: { "api-key": simulator.options.apiKey, "content-type": "application/json" },
    body: new TextEncoder().encode(SendMediaRequest.toWireJson(Either.getOrThrow(MediaMessage.validate(imageMessage))))
  }))
  const canned = KaleyraClient.layer(clientOptions).pipe(
    Layer.provide(
      Layer.succeed(KaleyraTransport.KaleyraTransport, KaleyraTest.makeTransport(() => Effect.succeed(accepted)))
    ),
    Layer.orDie
  )
  const expectedEvents = options.warmup + options.sends * options.reps

  // The send path only: the simulator's status callbacks (on by default in KaleyraTest.layer) are simulated
  // delivery reports, not work of the client, so the headline rows turn them off.
  const testLayer = KaleyraTest.layer({ ...simulatorOptions, callbacks: false })
  const eventsNote = (runtime: ManagedRuntime.ManagedRuntime<KaleyraClient, never>) => {
    const events = runtime.runSync(Effect.serviceOption(KaleyraEvents))
    return () => Option.isSome(events) ? "KaleyraEvents in context" : "no KaleyraEvents"
  }
  const variants: ReadonlyArray<Variant> = [
    variant("KaleyraTest.layer({ callbacks: false }): client + simulator", testLayer, eventsNote),
    variant(
      "  same + 1 subscriber draining the events",
      subscriber.pipe(Layer.provideMerge(testLayer)),
      () => () => `${int(received.count)} of ${int(expectedEvents)} events received`
    ),
    variant(
      "KaleyraTest.layer() defaults (status callbacks simulated)",
      KaleyraTest.layer(simulatorOptions),
      eventsNote
    ),
    variant("client + simulator, no KaleyraEvents", noEvents, eventsNote),
    variant(
      "client + canned 202 (no simulator, no KaleyraEvents)",
      canned,
      () => () => `canned status ${accepted.status}`
    )
  ]
  let results: ReadonlyArray<VariantResult>
  try {
    for (const v of variants) await v.runtime.runPromise(sequential(options.warmup))
    // Interleaved (1, 2, 3, 4, 1, 2, ...), so that the heap's growth and the machine's noise spread over all.
    for (let rep = 0; rep < options.reps; rep++) {
      for (const v of variants) await runRep(v, options.sends)
    }
    results = variants.map((v) => summarize(v, options.sends))
  } finally {
    observer.disconnect()
    for (const v of variants) await v.runtime.dispose()
  }

  // The pure parts, for context.
  const message = Either.getOrThrow(MediaMessage.validate(imageMessage))
  const bodyText = SendMediaRequest.toWireJson(message)
  const bodyBytes = new TextEncoder().encode(bodyText)
  const handleSimulator = KaleyraSimulator.unsafeMake({ balance: BALANCE, historyLimit: 0 })
  const request = {
    method: "POST",
    path: `/v2/${handleSimulator.options.sid}/whatsapp/${handleSimulator.options.senderNumbers[0]}/messages`,
    headers: { "api-key": handleSimulator.options.apiKey, "content-type": "application/json" },
    body: bodyBytes
  }
  const responseBody = Effect.runSync(handleSimulator.handle(request)).body
  const n = options.partIterations
  const parts = [
    { name: "MediaMessage.validate(input)", micros: timePart(() => MediaMessage.validate(imageMessage), n) },
    {
      name: "SendMediaRequest.toWireJson(message) [what the client sends]",
      micros: timePart(() => SendMediaRequest.toWireJson(message), n)
    },
    {
      name: "  the same as JSON.stringify(SendMediaRequest.toWire(message))",
      micros: timePart(() => JSON.stringify(SendMediaRequest.toWire(message)), n)
    },
    { name: "JSON.parse(response body)", micros: timePart(() => JSON.parse(responseBody), n) },
    {
      name: "simulator.handle(request) [server side, in row 1]",
      micros: timePart(() => Effect.runSync(handleSimulator.handle(request)), n)
    }
  ]

  const descheduled = results.some((v) => v.cpuMicros < v.wallMicros * 0.9)
  console.log("")
  printTable(
    ["sequential sends, one fiber", "sends/s", "us/send (wall)", "us/send (CPU)", "GC", "target", "", "note"],
    results.map((v, i) => [
      v.name,
      int(v.sendsPerSecond),
      fixed(v.wallMicros, 1),
      fixed(v.cpuMicros, 1),
      `${fixed(v.gcShare * 100, 1)} %`,
      i < 2 ? `>= ${int(TARGET)}/s` : "",
      i < 2 ? verdict(v.sendsPerSecond >= TARGET) : "",
      v.note
    ])
  )
  const combinators = await combinatorCosts(Math.max(2_000, Math.floor(n / 10)))
  console.log("")
  printTable(["part (median of 3)", "us/call"], parts.map((p) => [p.name, fixed(p.micros, 2)]))
  console.log("")
  printTable(
    ["Effect combinator, in one fiber (median of 3)", "us/call"],
    combinators.map((p) => [p.name, fixed(p.micros, 2)])
  )
  console.log("  (us/send (CPU) is process.cpuUsage: user + system of every thread, GC helpers included)")

  if (descheduled) {
    console.log(
      "  (CPU time well below wall time: the process waited for a CPU, other work on the machine skews this run)"
    )
  }

  const headline = results[0].sendsPerSecond
  const withSubscriber = results[1].sendsPerSecond
  return {
    variants: results,
    parts,
    combinators,
    sendsPerSecond: headline,
    sendsPerSecondWithEvents: withSubscriber,
    pass: headline >= TARGET && withSubscriber >= TARGET
  }
}
