/**
 * `KaleyraTest.layer()`: the real Kaleyra client of `@effect-kaleyra/core` over an in-memory `HttpClient` that
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
import * as HttpTransport from "@effect-kaleyra/core/HttpTransport"
import { KaleyraClient } from "@effect-kaleyra/core/KaleyraClient"
import type * as KaleyraConfig from "@effect-kaleyra/core/KaleyraConfig"
import {
  KaleyraEvents,
  type Options as EventsOptions,
  type Service as EventsService
} from "@effect-kaleyra/core/KaleyraEvents"
import * as Cookies from "@effect/platform/Cookies"
import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as UrlParams from "@effect/platform/UrlParams"
import type * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberRef from "effect/FiberRef"
import * as Inspectable from "effect/Inspectable"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as KaleyraSimulator from "./KaleyraSimulator.js"

// ---------------------------------------------------------------------------------------------------------------
// The in-memory transport
// ---------------------------------------------------------------------------------------------------------------

const encoder = new TextEncoder()
const EMPTY = new Uint8Array(0)

/** The byte length of a string once encoded as UTF-8 (without encoding it). */
const utf8Length = (s: string): number => {
  let n = s.length
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) continue
    if (c < 0x800) n += 1
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      // A surrogate pair: two UTF-16 units, four bytes.
      n += 2
      i++
    } else n += 2
  }
  return n
}

/** The path and query of a request URL (the origin, whatever it is, is dropped). */
const pathOf = (request: HttpClientRequest.HttpClientRequest): string => {
  const url = request.url
  let path: string
  const scheme = url.indexOf("://")
  if (scheme === -1) {
    path = url.charCodeAt(0) === 47 ? url : "/" + url
  } else {
    const slash = url.indexOf("/", scheme + 3)
    path = slash === -1 ? "/" : url.slice(slash)
  }
  const hash = path.indexOf("#")
  if (hash !== -1) path = path.slice(0, hash)
  if (request.urlParams.length > 0) {
    path += (path.includes("?") ? "&" : "?") + UrlParams.toString(request.urlParams)
  }
  return path
}

/**
 * The cause of the transport failures the in-memory transport imitates: the `code` a socket would give
 * (`ECONNRESET`, `ETIMEDOUT`) and whether any byte of the request may have been written (`requestSent`), as
 * `HttpTransport` expects.
 */
class SimulatedTransportFailure extends Error {
  constructor(message: string, readonly code: string, readonly requestSent: boolean) {
    super(message)
    this.name = "SimulatedTransportFailure"
  }
}

const timeoutFailure = (timeout: Duration.Duration) =>
  new SimulatedTransportFailure(
    `no complete response within ${Duration.format(timeout)}`,
    HttpTransport.TIMEOUT_CODE,
    true
  )

/** A body that arrives over time (the `drip` fault): complete at `until`, unless the deadline comes first. */
interface SlowBody {
  /** Clock millis when the last byte arrives. */
  readonly until: number
  /** Clock millis of the attempt's deadline, and the timeout it came from. */
  readonly deadline: number | undefined
  readonly timeout: Duration.Duration | undefined
}

const HUGE_CHUNK = 64 * 1024

/**
 * A response of the in-memory transport: a plain object over the simulator's answer (no web `Response`, no
 * `AbortController`, no `FinalizationRegistry`).
 */
class SimClientResponse extends Inspectable.Class implements HttpClientResponse.HttpClientResponse {
  declare readonly [HttpClientResponse.TypeId]: HttpClientResponse.TypeId
  declare readonly [HttpIncomingMessage.TypeId]: HttpIncomingMessage.TypeId
  private cachedHeaders: Headers.Headers | undefined
  private arrived = false

  constructor(
    readonly request: HttpClientRequest.HttpClientRequest,
    private readonly source: KaleyraSimulator.SimResponse,
    private readonly slow?: SlowBody
  ) {
    super()
  }

  get status(): number {
    return this.source.status
  }

  get headers(): Headers.Headers {
    if (this.cachedHeaders !== undefined) return this.cachedHeaders
    const input: Record<string, string> = {}
    for (const name in this.source.headers) input[name.toLowerCase()] = this.source.headers[name]
    const huge = this.source.fault?.kind === "huge" ? this.source.fault : undefined
    if (huge !== undefined) {
      if (!huge.chunked) input["content-length"] = String(huge.bytes)
      else delete input["content-length"]
    } else if (input["content-length"] === undefined) {
      input["content-length"] = String(utf8Length(this.source.body))
    }
    return this.cachedHeaders = Headers.fromInput(input)
  }

  /** Waits until the body has arrived (a `drip`), or fails like a socket at the attempt's deadline. */
  private get ready(): Effect.Effect<void, HttpClientError.ResponseError> {
    const slow = this.slow
    if (slow === undefined || this.arrived) return Effect.void
    return Effect.flatMap(Clock.currentTimeMillis, (now) => {
      if (slow.deadline !== undefined && slow.timeout !== undefined && slow.until > slow.deadline) {
        const timeout = slow.timeout
        return Effect.zipRight(
          Effect.sleep(Math.max(0, slow.deadline - now)),
          Effect.fail(this.decodeError(timeoutFailure(timeout)))
        )
      }
      return Effect.map(Effect.sleep(Math.max(0, slow.until - now)), () => {
        this.arrived = true
      })
    })
  }

  /** The whole body as text (for `huge`, generated: only a caller that asks for all of it pays for it). */
  private get bodyText(): string {
    const fault = this.source.fault
    if (fault?.kind !== "huge") return this.source.body
    const decoder = new TextDecoder()
    let text = ""
    for (const chunk of KaleyraSimulator.hugeBodyChunks(fault.bytes, HUGE_CHUNK)) {
      text += decoder.decode(chunk, { stream: true })
    }
    return text + decoder.decode()
  }

  get cookies(): Cookies.Cookies {
    const setCookie = this.headers["set-cookie"]
    return setCookie === undefined ? Cookies.empty : Cookies.fromSetCookie(setCookie)
  }

  get remoteAddress(): Option.Option<string> {
    return Option.none()
  }

  get text(): Effect.Effect<string, HttpClientError.ResponseError> {
    if (this.source.fault === undefined) return Effect.succeed(this.source.body)
    return Effect.zipRight(this.ready, Effect.sync(() => this.bodyText))
  }

  get json(): Effect.Effect<unknown, HttpClientError.ResponseError> {
    return Effect.flatMap(this.text, (text) =>
      Effect.try({
        try: (): unknown => text === "" ? null : JSON.parse(text),
        catch: (cause) => this.decodeError(cause)
      }))
  }

  get arrayBuffer(): Effect.Effect<ArrayBuffer, HttpClientError.ResponseError> {
    return Effect.map(this.text, (text) => encoder.encode(text).buffer)
  }

  get stream(): Stream.Stream<Uint8Array, HttpClientError.ResponseError> {
    const fault = this.source.fault
    if (fault?.kind === "huge") {
      // One chunk per pull, generated on demand: a reader that stops early never builds the rest.
      return Stream.suspend(() => {
        const chunks = KaleyraSimulator.hugeBodyChunks(fault.bytes, HUGE_CHUNK)
        return Stream.repeatEffectOption(Effect.suspend(() => {
          const next = chunks.next()
          return next.done === true ? Effect.fail(Option.none()) : Effect.succeed(next.value)
        }))
      })
    }
    const body = this.source.body
    const whole = body === "" ? Stream.empty : Stream.sync(() => encoder.encode(body))
    return fault === undefined ? whole : Stream.unwrap(Effect.as(this.ready, whole))
  }

  get urlParamsBody(): Effect.Effect<UrlParams.UrlParams, HttpClientError.ResponseError> {
    return Effect.flatMap(this.text, (text) =>
      Effect.try({
        try: () => UrlParams.fromInput(new URLSearchParams(text)),
        catch: (cause) => this.decodeError(cause)
      }))
  }

  get formData(): Effect.Effect<FormData, HttpClientError.ResponseError> {
    return Effect.flatMap(this.text, (text) =>
      Effect.tryPromise({
        try: () => new Response(text, { headers: { "content-type": this.headers["content-type"] ?? "" } }).formData(),
        catch: (cause) => this.decodeError(cause)
      }))
  }

  toJSON(): unknown {
    return HttpIncomingMessage.inspect(this, {
      _id: "@effect/platform/HttpClientResponse",
      request: this.request.toJSON(),
      status: this.status
    })
  }

  private decodeError(cause: unknown): HttpClientError.ResponseError {
    return new HttpClientError.ResponseError({ request: this.request, response: this, reason: "Decode", cause })
  }
}

Object.defineProperty(SimClientResponse.prototype, HttpClientResponse.TypeId, { value: HttpClientResponse.TypeId })
Object.defineProperty(SimClientResponse.prototype, HttpIncomingMessage.TypeId, { value: HttpIncomingMessage.TypeId })

type Handle = KaleyraSimulator.Simulator["handle"]

/** The body could not be encoded: the simulator was handed nothing, which `requestSent: false` proves to the client. */
const encodeError = (request: HttpClientRequest.HttpClientRequest, cause: unknown) =>
  new HttpClientError.RequestError({
    request,
    reason: "Encode",
    cause: Object.assign(new Error("the body could not be encoded", { cause }), { requestSent: false })
  })

const concat = (chunks: Chunk.Chunk<Uint8Array>): Uint8Array => {
  let size = 0
  for (const chunk of chunks) size += chunk.length
  const out = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.length
  }
  return out
}

/** Encodes a body the way a runtime would put it on the wire (multipart for `FormData`, with its boundary). */
const encodeViaWeb = (
  body: BodyInit,
  headers: Headers.Headers
): Promise<{ readonly bytes: Uint8Array; readonly headers: Headers.Headers }> => {
  const web = new Response(body)
  const contentType = web.headers.get("content-type")
  return web.arrayBuffer().then((buffer) => {
    const bytes = new Uint8Array(buffer)
    let out = Headers.set(headers, "content-length", String(bytes.length))
    if (contentType !== null && headers["content-type"] === undefined) {
      out = Headers.set(out, "content-type", contentType)
    }
    return { bytes, headers: out }
  })
}

const rawBytes = (body: unknown): Uint8Array | undefined => {
  if (typeof body === "string") return encoder.encode(body)
  if (body instanceof Uint8Array) return body
  if (body instanceof ArrayBuffer) return new Uint8Array(body)
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength)
  if (body === undefined || body === null) return EMPTY
  return undefined
}

const transportError = (request: HttpClientRequest.HttpClientRequest, cause: SimulatedTransportFailure) =>
  new HttpClientError.RequestError({ request, reason: "Transport", cause })

/** Fails like a socket whose deadline passed after `timeout` (on the `Clock`). */
const timeoutAfter = (request: HttpClientRequest.HttpClientRequest, timeout: Duration.Duration) =>
  Effect.zipRight(Effect.sleep(timeout), Effect.fail(transportError(request, timeoutFailure(timeout))))

/**
 * Imitates a transport-level fault of the simulator (see `KaleyraSimulator.TransportFault`) within the attempt's
 * timeout (`HttpTransport.currentTimeout`), on the `Clock`.
 */
const imitate = (
  request: HttpClientRequest.HttpClientRequest,
  response: KaleyraSimulator.SimResponse,
  fault: KaleyraSimulator.TransportFault
): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError> => {
  switch (fault.kind) {
    case "reset":
      return Effect.fail(transportError(
        request,
        new SimulatedTransportFailure(
          fault.phase === "before-body"
            ? "the connection was reset before the request was received"
            : "the connection was reset after the request was received",
          "ECONNRESET",
          fault.phase === "after-body"
        )
      ))
    case "huge":
      return Effect.succeed(new SimClientResponse(request, response))
    case "silent":
      return Effect.flatMap(
        FiberRef.get(HttpTransport.currentTimeout),
        (timeout) => timeout === undefined ? Effect.never : timeoutAfter(request, timeout)
      )
    case "latency":
      return Effect.flatMap(
        FiberRef.get(HttpTransport.currentTimeout),
        (timeout) =>
          timeout !== undefined && Duration.toMillis(timeout) <= fault.millis
            ? timeoutAfter(request, timeout)
            : Effect.as(
              Effect.sleep(fault.millis),
              new SimClientResponse(request, {
                status: response.status,
                headers: response.headers,
                body: response.body
              })
            )
      )
    case "drip":
      return Effect.flatMap(
        FiberRef.get(HttpTransport.currentTimeout),
        (timeout) =>
          Effect.map(Clock.currentTimeMillis, (now) =>
            new SimClientResponse(request, response, {
              until: now + fault.millis,
              deadline: timeout === undefined ? undefined : now + Duration.toMillis(timeout),
              timeout
            }))
      )
  }
}

/**
 * Options of `makeHttpClient`.
 *
 * @since 0.1.0
 * @category models
 */
export interface HttpClientOptions {
  /**
   * Declares that `handle` never waits on the `Clock` (the simulator's own `handle` does not: it answers sends at
   * once), so that its time need not be raced against the attempt's timeout. Default `false`: a `handle` whose
   * effect is not already complete is raced against `HttpTransport.currentTimeout`.
   */
  readonly prompt?: boolean | undefined
}

/**
 * An `HttpClient` that answers every request with `handle` (typically `simulator.handle`), in memory. Request
 * bodies of every kind are supported: bytes and text as they are, `FormData` as a `multipart/form-data` body with
 * its boundary, streams collected. Whatever the request's origin, only its path and query reach `handle`.
 *
 * The simulator's transport-level faults (`SimResponse.fault`) are imitated: a `reset` fails with a `RequestError`
 * whose cause has `code: "ECONNRESET"` and `requestSent` (`reset-before-body`: `false`, as for a connection that
 * failed before any byte of the request was written, so the client retries; `reset-after-body`: `true`); `silent`
 * and `latency` wait on the `Clock`; `drip` delays reading the body; `huge` generates its body on demand.
 *
 * The client enforces the attempt's timeout itself (it is marked with `HttpTransport.withNativeTimeout`): when an
 * imitated fault would take longer than `HttpTransport.currentTimeout`, it fails at the deadline with a cause whose
 * code is `ETIMEDOUT` and `requestSent` is `true`. An answer without a fault costs no timer and no fiber.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeHttpClient = (handle: Handle, options: HttpClientOptions = {}): HttpClient.HttpClient => {
  const prompt = options.prompt === true
  const toResponse = (
    request: HttpClientRequest.HttpClientRequest,
    response: KaleyraSimulator.SimResponse
  ): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError> =>
    response.fault === undefined
      ? Effect.succeed(new SimClientResponse(request, response))
      : imitate(request, response, response.fault)

  const respond = (request: HttpClientRequest.HttpClientRequest, headers: Headers.Headers, body: Uint8Array) => {
    const answer = handle({ method: request.method, path: pathOf(request), headers, body })
    if (prompt || Exit.isExit(answer)) return Effect.flatMap(answer, (response) => toResponse(request, response))
    // A handle that may take time: its own time counts against the attempt's timeout.
    return Effect.flatMap(FiberRef.get(HttpTransport.currentTimeout), (timeout) =>
      Effect.flatMap(
        timeout === undefined ? answer : Effect.timeoutFail(answer, {
          duration: timeout,
          onTimeout: () => transportError(request, timeoutFailure(timeout))
        }),
        (response) => toResponse(request, response)
      ))
  }

  const viaWeb = (request: HttpClientRequest.HttpClientRequest, body: BodyInit) =>
    Effect.flatMap(
      Effect.tryPromise({
        try: () => encodeViaWeb(body, request.headers),
        catch: (cause) => encodeError(request, cause)
      }),
      (encoded) => respond(request, encoded.headers, encoded.bytes)
    )

  const execute = (
    request: HttpClientRequest.HttpClientRequest
  ): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError> => {
    const body = request.body
    switch (body._tag) {
      case "Uint8Array":
        return respond(request, request.headers, body.body)
      case "Empty":
        return respond(request, request.headers, EMPTY)
      case "Raw": {
        const bytes = rawBytes(body.body)
        return bytes !== undefined ? respond(request, request.headers, bytes) : viaWeb(request, body.body as BodyInit)
      }
      case "FormData":
        return viaWeb(request, body.formData)
      case "Stream":
        return body.stream.pipe(
          Stream.runCollect,
          Effect.mapError((cause) => encodeError(request, cause)),
          Effect.flatMap((chunks) => respond(request, request.headers, concat(chunks)))
        )
    }
  }

  return HttpTransport.withNativeTimeout(HttpClient.makeWith(
    (effect) => Effect.flatMap(effect, execute),
    Effect.succeed as HttpClient.HttpClient.Preprocess<never, never>
  ))
}

/**
 * The in-memory `HttpClient` over a simulator.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerHttpClient = (simulator: KaleyraSimulator.Simulator): Layer.Layer<HttpClient.HttpClient> =>
  Layer.succeed(HttpClient.HttpClient, makeHttpClient(simulator.handle, { prompt: true }))

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
  Effect.map(KaleyraSimulator.KaleyraSimulator, (s) => makeHttpClient(s.handle, { prompt: true }))
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
        Layer.provide(layerHttpClient(simulator)),
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
 * The simulator's tag.
 *
 * @since 0.1.0
 * @category tags
 */
export const simulator: typeof KaleyraSimulator.KaleyraSimulator = KaleyraSimulator.KaleyraSimulator

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
