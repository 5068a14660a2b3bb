/**
 * `KaleyraTest.layer()`: the real Kaleyra client of `@effect-kaleyra/core` over an in-memory `KaleyraTransport` that
 * hands every request to a {@link KaleyraSimulator.Simulator} (no socket, no web `Request`/`Response`), plus the
 * simulator itself to script failures and to inspect what was sent.
 *
 * ```ts
 * import { sendMedia } from "@effect-kaleyra/core"
 * import { KaleyraTest } from "@effect-kaleyra/testing"
 *
 * const program = Effect.gen(function*() {
 *   yield* KaleyraTest.failNext("E110")
 *   const error = yield* Effect.flip(sendMedia(input))   // LowBalance
 *   const sent = yield* KaleyraTest.sent                 // []
 * }).pipe(Effect.provide(KaleyraTest.layer()))
 * ```
 *
 * The layer also provides `KaleyraEvents`: the client's events and the simulator's status callbacks, delivered in
 * memory on the `Clock`, so that `awaitStatus` works in unit tests (`TestClock.adjust("150 millis")` reaches `read`).
 *
 * Faults (`KaleyraSimulator.Fault`) are injected with `KaleyraTest.injectNext("reset-after-body")` or drawn at rates
 * (`KaleyraTest.setFaultRates`, the `seed` option); the in-memory transport imitates the transport-level ones on the
 * `Clock` (resets as `ECONNRESET`, `silent` and `latency` as waits) and enforces the client's timeout itself, so a
 * `TestClock.adjust` past the timeout gives the `TransportError` a socket would. `KaleyraTest.stats` and
 * `KaleyraTest.acceptedRefs` tell what the simulator accepted.
 *
 * The simulator holds state (balance, ids, history). `@effect/vitest`'s `layer(...)` builds a layer once and shares
 * it between the tests of its block, and tests may run concurrently: provide `KaleyraTest.layer()` inside each test
 * (`Effect.provide(KaleyraTest.layer())`) so that every test gets a fresh simulator and the same message ids.
 *
 * @since 0.1.0
 */
import { KaleyraClient } from "@effect-kaleyra/core/KaleyraClient"
import type * as KaleyraConfig from "@effect-kaleyra/core/KaleyraConfig"
import {
  KaleyraEvents,
  type Options as EventsOptions,
  type Service as EventsService
} from "@effect-kaleyra/core/KaleyraEvents"
import * as KaleyraTransport from "@effect-kaleyra/core/KaleyraTransport"
import * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as inMemory from "./internal/inMemory.js"
import * as KaleyraSimulator from "./KaleyraSimulator.js"

// ---------------------------------------------------------------------------------------------------------------
// The in-memory transport
// ---------------------------------------------------------------------------------------------------------------

/**
 * The `KaleyraTransport` that hands every request to `handle` (typically `simulator.handle`), in memory: the contract
 * the client sends through, so that tests run the production send path. The simulator's transport-level faults
 * (`SimResponse.fault`) are imitated on the `Clock` within the request's deadline: a `reset` fails with a cause whose
 * `code` is `ECONNRESET` and `requestSent` says whether the request was received (`reset-before-body`: `false`, so the
 * client retries); `silent`, and a `latency` or `drip` longer than the deadline, fail at the deadline with `ETIMEDOUT`
 * (`requestSent: true`); `huge` answers a body too large to read. Its `httpClient` is {@link makeHttpClient}.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeTransport: (
  handle: KaleyraSimulator.Simulator["handle"],
  options?: TransportOptions
) => KaleyraTransport.Service = inMemory.makeTransport

/**
 * Options of {@link makeTransport}: `prompt` declares that `handle` never waits on the `Clock` (the simulator's own
 * does not), so that its time need not be raced against the request's deadline. Default `false`.
 *
 * @since 0.1.0
 * @category models
 */
export type TransportOptions = inMemory.TransportOptions

/**
 * An `HttpClient` that answers every request with `handle`, in memory. Request bodies of every kind are supported:
 * bytes and text as they are, `FormData` as a `multipart/form-data` body with its boundary, streams collected. Whatever
 * the request's origin, only its path and query reach `handle`. The transport-level faults are imitated as in
 * {@link makeTransport}, without a deadline (`silent` never answers): its caller races it, as the generic transport
 * (`KaleyraTransport.fromHttpClient`) does.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeHttpClient: (handle: KaleyraSimulator.Simulator["handle"]) => HttpClient.HttpClient =
  inMemory.makeHttpClient

/**
 * The in-memory transport over a simulator.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerTransport = (simulator: KaleyraSimulator.Simulator): Layer.Layer<KaleyraTransport.KaleyraTransport> =>
  Layer.succeed(KaleyraTransport.KaleyraTransport, makeTransport(simulator.handle, { prompt: true }))

/**
 * The in-memory `HttpClient` over a simulator.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerHttpClient = (simulator: KaleyraSimulator.Simulator): Layer.Layer<HttpClient.HttpClient> =>
  Layer.succeed(HttpClient.HttpClient, makeHttpClient(simulator.handle))

/**
 * The in-memory `HttpClient` over the simulator in context.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerHttpClientFromSimulator: Layer.Layer<
  HttpClient.HttpClient,
  never,
  KaleyraSimulator.KaleyraSimulator
> = Layer.effect(
  HttpClient.HttpClient,
  Effect.map(KaleyraSimulator.KaleyraSimulator, (s) => makeHttpClient(s.handle))
)

/**
 * A fresh simulator as a layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerSimulator = (
  options?: KaleyraSimulator.SimulatorOptions
): Layer.Layer<KaleyraSimulator.KaleyraSimulator> =>
  Layer.scoped(KaleyraSimulator.KaleyraSimulator, KaleyraSimulator.makeScoped(options))

// ---------------------------------------------------------------------------------------------------------------
// KaleyraTest.layer
// ---------------------------------------------------------------------------------------------------------------

/**
 * The options of {@link layer}: the simulator's, the client's timeouts and retries, and `client` to override what
 * the client is configured with (by default the simulator's SID, API key and first sender number), e.g. a wrong API
 * key or an unregistered sender number.
 *
 * @since 0.1.0
 * @category models
 */
export interface TestOptions extends Omit<KaleyraSimulator.SimulatorOptions, "callbacks"> {
  readonly timeout?: KaleyraConfig.Options["timeout"]
  readonly maxRetries?: KaleyraConfig.Options["maxRetries"]
  readonly retryBaseDelay?: KaleyraConfig.Options["retryBaseDelay"]
  readonly maxRetryAfter?: KaleyraConfig.Options["maxRetryAfter"]
  readonly transformClient?: KaleyraConfig.Options["transformClient"]
  readonly client?: Partial<KaleyraConfig.Options>
  /**
   * The simulator's status callbacks. By default (`true`) they are delivered in memory, straight into
   * `KaleyraEvents.ingestPayload`, with the default delays on the `Clock` (so `awaitStatus` works with the
   * `TestClock`: adjust it by 150 ms for `read`). `false` turns them off. An object sets the delays (still in memory),
   * or, with a `url` or `deliver`, is the simulator's own callback options (see `KaleyraSimulator.CallbackOptions`).
   */
  readonly callbacks?: boolean | Partial<KaleyraSimulator.CallbackOptions> | undefined
  /** Options of the `KaleyraEvents` the layer builds (when none is in context already). */
  readonly events?: EventsOptions | undefined
}

/**
 * The base URL the test client is configured with (the in-memory transport ignores it).
 *
 * @since 0.1.0
 * @category constants
 */
export const baseUrl = "http://kaleyra.test"

const clientOptions = (
  simulator: KaleyraSimulator.ResolvedOptions,
  options: TestOptions
): KaleyraConfig.Options => ({
  sid: simulator.sid,
  apiKey: Redacted.make(simulator.apiKey),
  senderNumber: simulator.senderNumbers[0] ?? "919999999999",
  baseUrl,
  timeout: options.timeout,
  maxRetries: options.maxRetries,
  retryBaseDelay: options.retryBaseDelay,
  maxRetryAfter: options.maxRetryAfter,
  transformClient: options.transformClient,
  ...options.client
})

/** The `KaleyraEvents` already in context (e.g. given with `Layer.provideMerge(KaleyraEvents.layer())`), or a new one. */
const eventsService = (options: EventsOptions | undefined): Effect.Effect<EventsService, never, Scope.Scope> =>
  KaleyraEvents.shared(options)

/**
 * The URL the in-memory callbacks are addressed to (nothing listens there: they go straight to `KaleyraEvents`).
 *
 * @since 0.1.0
 * @category constants
 */
export const inMemoryCallbackUrl = "memory://kaleyra-events"

const simulatorCallbacks = (
  callbacks: TestOptions["callbacks"],
  events: EventsService
): KaleyraSimulator.CallbackOptions | undefined => {
  if (callbacks === false) return undefined
  const given = callbacks === true || callbacks === undefined ? {} : callbacks
  if (given.url !== undefined) return { ...given, url: given.url }
  return {
    ...given,
    url: inMemoryCallbackUrl,
    deliver: given.deliver ?? ((_url, body) => events.ingestPayload(body))
  }
}

/**
 * The real `KaleyraClient` over a fresh in-memory simulator, the simulator, and `KaleyraEvents`: the client publishes
 * its events there, and the simulator's status callbacks are delivered there in memory (see `TestOptions.callbacks`),
 * so that `awaitStatus` works. A `KaleyraEvents` already in context is used instead of a new one. Deterministic: the
 * same sends give the same message ids on every run. Invalid client options (e.g. `maxRetries: 20`) are defects.
 *
 * Provide it per test for isolation (`Effect.provide(KaleyraTest.layer())`): a layer shared by several tests shares
 * one simulator. Pending callbacks are cancelled when the layer is released.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: TestOptions = {}
): Layer.Layer<KaleyraClient | KaleyraSimulator.KaleyraSimulator | KaleyraEvents> =>
  Layer.unwrapScoped(
    Effect.gen(function*() {
      const events = yield* eventsService(options.events)
      const callbacks = simulatorCallbacks(options.callbacks, events)
      const simulator = yield* KaleyraSimulator.makeScoped({ ...options, callbacks })
      return KaleyraClient.layer(clientOptions(simulator.options, options)).pipe(
        Layer.provide(layerTransport(simulator)),
        Layer.orDie,
        Layer.merge(Layer.succeed(KaleyraSimulator.KaleyraSimulator, simulator)),
        Layer.provideMerge(Layer.succeed(KaleyraEvents, events))
      )
    })
  )

// ---------------------------------------------------------------------------------------------------------------
// Accessors
// ---------------------------------------------------------------------------------------------------------------

/**
 * Scripts the next requests to answer `code` (see `Simulator.failNext`).
 *
 * @since 0.1.0
 * @category accessors
 */
export const failNext = (
  code: KaleyraSimulator.FailCode | "WA-401",
  options?: KaleyraSimulator.FailNextOptions
): Effect.Effect<void, never, KaleyraSimulator.KaleyraSimulator> =>
  Effect.flatMap(KaleyraSimulator.KaleyraSimulator, (s) => s.failNext(code, options))

/**
 * Any send to `recipient` answers `code` (see `Simulator.setScenario`).
 *
 * @since 0.1.0
 * @category accessors
 */
export const setScenario = (
  recipient: string,
  code: KaleyraSimulator.FailCode | "WA-401"
): Effect.Effect<void, never, KaleyraSimulator.KaleyraSimulator> =>
  Effect.flatMap(KaleyraSimulator.KaleyraSimulator, (s) => s.setScenario(recipient, code))

/**
 * Sets the simulator's balance.
 *
 * @since 0.1.0
 * @category accessors
 */
export const setBalance = (balance: number): Effect.Effect<void, never, KaleyraSimulator.KaleyraSimulator> =>
  Effect.flatMap(KaleyraSimulator.KaleyraSimulator, (s) => s.setBalance(balance))

/**
 * The simulator's balance.
 *
 * @since 0.1.0
 * @category accessors
 */
export const balance: Effect.Effect<number, never, KaleyraSimulator.KaleyraSimulator> = Effect.flatMap(
  KaleyraSimulator.KaleyraSimulator,
  (s) => s.balance
)

/**
 * The messages the simulator accepted, in order.
 *
 * @since 0.1.0
 * @category accessors
 */
export const sent: Effect.Effect<
  ReadonlyArray<KaleyraSimulator.SentMessage>,
  never,
  KaleyraSimulator.KaleyraSimulator
> = Effect.flatMap(KaleyraSimulator.KaleyraSimulator, (s) => s.sent)

/**
 * The media files the simulator accepted for upload, in order.
 *
 * @since 0.1.0
 * @category accessors
 */
export const uploads: Effect.Effect<
  ReadonlyArray<KaleyraSimulator.UploadedMedia>,
  never,
  KaleyraSimulator.KaleyraSimulator
> = Effect.flatMap(KaleyraSimulator.KaleyraSimulator, (s) => s.uploads)

/**
 * Every request the simulator received, in order (the API key redacted).
 *
 * @since 0.1.0
 * @category accessors
 */
export const requests: Effect.Effect<
  ReadonlyArray<KaleyraSimulator.RecordedRequest>,
  never,
  KaleyraSimulator.KaleyraSimulator
> = Effect.flatMap(KaleyraSimulator.KaleyraSimulator, (s) => s.requests)

/**
 * Resets the simulator to its initial state.
 *
 * @since 0.1.0
 * @category accessors
 */
export const reset: Effect.Effect<void, never, KaleyraSimulator.KaleyraSimulator> = Effect.flatMap(
  KaleyraSimulator.KaleyraSimulator,
  (s) => s.reset
)

/**
 * Injects `fault` into the next requests (see `Simulator.injectNext` and `KaleyraSimulator.Fault`).
 *
 * @since 0.1.0
 * @category accessors
 */
export const injectNext = (
  fault: KaleyraSimulator.Fault,
  options?: KaleyraSimulator.InjectNextOptions
): Effect.Effect<void, never, KaleyraSimulator.KaleyraSimulator> =>
  Effect.flatMap(KaleyraSimulator.KaleyraSimulator, (s) => s.injectNext(fault, options))

/**
 * Replaces the simulator's fault rates (see `Simulator.setFaultRates`).
 *
 * @since 0.1.0
 * @category accessors
 */
export const setFaultRates = (
  rates: KaleyraSimulator.FaultRates
): Effect.Effect<void, never, KaleyraSimulator.KaleyraSimulator> =>
  Effect.flatMap(KaleyraSimulator.KaleyraSimulator, (s) => s.setFaultRates(rates))

/**
 * The simulator's counts: requests, accepted messages, faults (see `Simulator.stats`).
 *
 * @since 0.1.0
 * @category accessors
 */
export const stats: Effect.Effect<KaleyraSimulator.SimulatorStats, never, KaleyraSimulator.KaleyraSimulator> = Effect
  .flatMap(KaleyraSimulator.KaleyraSimulator, (s) => s.stats)

/**
 * How many times each `extra_info.ref` was accepted (see `Simulator.acceptedRefs`).
 *
 * @since 0.1.0
 * @category accessors
 */
export const acceptedRefs: Effect.Effect<ReadonlyMap<string, number>, never, KaleyraSimulator.KaleyraSimulator> = Effect
  .flatMap(KaleyraSimulator.KaleyraSimulator, (s) => s.acceptedRefs)
