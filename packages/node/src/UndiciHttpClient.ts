/**
 * A lean `HttpClient` straight on an undici `Dispatcher` (`Agent`, `Pool`, `Client`).
 *
 * It talks to undici at the level of `dispatcher.dispatch(options, handler)`: no `AbortController` per request, no
 * web `Request`/`Response`, no response `FinalizationRegistry`, no URL re-parsing for the common case (absolute URL,
 * no `urlParams`). The response body is collected by the handler itself, so reading it is a concatenation, not a
 * stream pipeline.
 *
 * - **Interruption** aborts the request through undici's own abort callback (the socket is destroyed, so the server
 *   sees the connection close). A request still queued for a connection is aborted before anything is written.
 * - **Errors** are the platform's `RequestError` (reason `Transport`, or `Encode` when undici refused the request)
 *   and `ResponseError` (reason `Decode`, when the body fails). Their `cause` is a {@link TransportFailure}: an
 *   `Error` with the system or undici `code` and `requestSent`, `true` as soon as the request was handed to a
 *   connection (any byte of it may have been written), whatever the code. `false` proves that no byte was written, so
 *   it may be retried safely.
 * - **Bodies** sent: `Uint8Array`, string or `Raw`, `Empty`, `Stream` (streamed, chunked when no length is known) and
 *   `FormData` (copied into undici's own `FormData`, so the global one of Node 20 works: nodejs/undici#4212; undici
 *   writes the multipart `content-type` with its boundary).
 * - **Response bodies** are buffered as they arrive, so an unread response never holds a socket: it is released
 *   when the body is complete. `stream` applies backpressure once it is being consumed.
 * - There is no `http.client` span; trace at the call site (the Kaleyra client has its own spans).
 * - It offers an `HttpTransport.Exchange`, through which the Kaleyra client sends messages: the same dispatch, the
 *   same deadline, interruption and `requestSent`, but the response is read whole (at most
 *   `HttpTransport.MAX_RESPONSE_BYTES`; a longer body is not read and the exchange is aborted) and answered once, as a
 *   status, two headers and a text, without an `HttpClientRequest` or `HttpClientResponse`.
 *
 * @since 0.1.0
 */
import * as HttpTransport from "@effect-kaleyra/core/HttpTransport"
import * as Cookies from "@effect/platform/Cookies"
import * as Headers from "@effect/platform/Headers"
import type * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as UrlParams from "@effect/platform/UrlParams"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Inspectable from "effect/Inspectable"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type { Agent as UndiciAgent, Dispatcher, FormData as UndiciFormData } from "undici"
import { Agent, FormData as UndiciFormDataClass, formDataOf } from "./internal/undici.js"

// -----------------------------------------------------------------------------
// errors
// -----------------------------------------------------------------------------

/**
 * The `cause` of every transport failure raised by this client: one line of what happened (never the request or its
 * headers), the system or undici `code` (`ECONNREFUSED`, `UND_ERR_SOCKET`, ...) and whether any byte of the request
 * may have been written to a socket.
 *
 * @since 0.1.0
 * @category errors
 */
export class TransportFailure extends Error {
  /**
   * The system or undici error code, when there is one.
   *
   * @since 0.1.0
   */
  readonly code: string | undefined
  /**
   * `true` once the request was handed to a connection (any byte of it may have been written, even if the
   * connection failed mid-write or the dispatcher was destroyed under it): the server may have received it. `false`
   * means no byte of it can have been written (never connected, refused, or aborted while it waited for a
   * connection).
   *
   * @since 0.1.0
   */
  readonly requestSent: boolean

  constructor(cause: unknown, requestSent: boolean, code: string | undefined = codeOf(cause)) {
    super(messageOf(cause), { cause })
    this.name = "TransportFailure"
    this.code = code
    this.requestSent = requestSent
  }
}

const codeOf = (error: unknown): string | undefined => {
  let cursor: unknown = error
  for (let depth = 0; depth < 4 && typeof cursor === "object" && cursor !== null; depth++) {
    const candidate = cursor as { readonly code?: unknown; readonly cause?: unknown; readonly errors?: unknown }
    if (typeof candidate.code === "string") return candidate.code
    cursor = candidate.cause ?? (Array.isArray(candidate.errors) ? candidate.errors[0] : undefined)
  }
  return undefined
}

const messageOf = (error: unknown): string => {
  if (typeof error === "object" && error !== null) {
    const candidate = error as { readonly message?: unknown; readonly errors?: unknown }
    if (typeof candidate.message === "string" && candidate.message !== "") return candidate.message
    if (Array.isArray(candidate.errors) && candidate.errors.length > 0) return messageOf(candidate.errors[0])
  }
  return typeof error === "string" && error !== "" ? error : "the connection failed"
}

// -----------------------------------------------------------------------------
// targets: origin + path, with a cache of validated origins
// -----------------------------------------------------------------------------

/** A path that the WHATWG URL parser would leave exactly as it is (no encoding, no dot segments). */
const PLAIN_PATH = /^\/[A-Za-z0-9\-_~.!$&()*+,;=:@%/?]*$/
const DOT_SEGMENT = /\/\.|%2e/i

const MAX_CACHED_ORIGINS = 256

interface Target {
  readonly origin: string
  readonly path: string
}

class Targets {
  /** Raw scheme+authority prefix -> normalised origin, or `null` when the prefix needs the full parser. */
  private readonly origins = new Map<string, string | null>()

  resolve(request: HttpClientRequest.HttpClientRequest): Target | Error {
    if (request.urlParams.length === 0 && request.hash._tag === "None") {
      const target = this.plain(request.url)
      if (target !== undefined) return target
    }
    return this.parse(request.url, request.urlParams, request.hash)
  }

  /** The last URL given to {@link resolveUrl} and its target (a client sends to one URL, again and again). */
  private lastUrl: string | undefined = undefined
  private lastTarget: Target | Error | undefined = undefined

  /** An absolute URL. */
  resolveUrl(url: string): Target | Error {
    if (url === this.lastUrl) return this.lastTarget!
    const target = this.plain(url) ?? this.parse(url, UrlParams.empty, Option.none())
    this.lastUrl = url
    this.lastTarget = target
    return target
  }

  /** The target of a URL whose origin is cached and whose path needs no normalising. */
  private plain(url: string): Target | undefined {
    const schemeEnd = url.indexOf("://")
    if (schemeEnd <= 0) return undefined
    const pathStart = url.indexOf("/", schemeEnd + 3)
    const prefix = pathStart === -1 ? url : url.slice(0, pathStart)
    let origin = this.origins.get(prefix)
    if (origin === undefined) origin = this.remember(prefix)
    if (origin === null) return undefined
    const path = pathStart === -1 ? "/" : url.slice(pathStart)
    return PLAIN_PATH.test(path) && !DOT_SEGMENT.test(path) ? { origin, path } : undefined
  }

  private remember(prefix: string): string | null {
    let origin: string | null = null
    try {
      const parsed = new URL(prefix)
      if (
        (parsed.protocol === "http:" || parsed.protocol === "https:") && parsed.pathname === "/" &&
        parsed.search === "" && parsed.hash === "" && parsed.username === "" && parsed.password === "" &&
        !prefix.includes("?") && !prefix.includes("#")
      ) {
        origin = parsed.origin
      }
    } catch {
      origin = null
    }
    if (this.origins.size >= MAX_CACHED_ORIGINS) this.origins.clear()
    this.origins.set(prefix, origin)
    return origin
  }

  private parse(url: string, urlParams: UrlParams.UrlParams, hash: Option.Option<string>): Target | Error {
    const result = UrlParams.makeUrl(url, urlParams, hash)
    if (result._tag === "Left") return result.left
    const parsed = result.right
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      return new Error(`unsupported protocol ${JSON.stringify(parsed.protocol)}`)
    }
    // The fragment is never sent.
    return { origin: parsed.origin, path: parsed.pathname + parsed.search }
  }
}

// -----------------------------------------------------------------------------
// request bodies
// -----------------------------------------------------------------------------

type DispatchBody = Exclude<Dispatcher.DispatchOptions["body"], undefined>

/** undici takes (async) iterables and `Blob`s as bodies, which its types do not list. */
const asDispatchBody = (body: unknown): DispatchBody => body as DispatchBody

/**
 * Copies a `FormData` into undici's own class. On Node 20 the global `FormData` comes from the undici bundled in
 * Node (6.x), which undici 7 cannot serialise (nodejs/undici#4212).
 *
 * @since 0.1.0
 * @category conversions
 */
export const toUndiciFormData = (formData: FormData): UndiciFormData => formDataOf(formData, UndiciFormDataClass)

const rawBody = (body: unknown): DispatchBody => {
  if (typeof FormData !== "undefined" && body instanceof FormData) return toUndiciFormData(body)
  // undici validates the rest (string, bytes, Readable, Blob, (async) iterables) and refuses anything else.
  return asDispatchBody(body)
}

// -----------------------------------------------------------------------------
// the exchange: undici handler + response body source
// -----------------------------------------------------------------------------

const HIGH_WATER_MARK = 64 * 1024
const NO_HEADERS: ReadonlyArray<Buffer> = []

type Resume = (effect: Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>) => void

class InterruptedError extends Error {
  constructor() {
    super("the request was interrupted")
    this.name = "InterruptedError"
  }
}

/** The attempt's deadline passed (see `HttpTransport.currentTimeout`). */
class TimeoutError extends Error {
  readonly code = HttpTransport.TIMEOUT_CODE
  constructor(millis?: number) {
    super(millis === undefined ? "timed out" : `no complete response within ${millis} ms`)
    this.name = "TimeoutError"
  }
}

/**
 * What every exchange does as an undici (legacy) dispatch handler: keep the abort callback, know whether the request
 * may have reached the server, and enforce the deadline of the whole exchange.
 */
abstract class Attempt {
  abortFn: ((error?: Error) => void) | undefined = undefined
  /**
   * undici called `onConnect`: the request was handed to a connection and is written right after it (unless aborted
   * here). From then on any byte of it may have been written: `onRequestSent` comes only once all of it was, and a
   * streamed body's last byte can be on the wire before it.
   */
  connected = false
  interrupted = false
  complete = false
  /** The deadline timer (HttpTransport.currentTimeout), cleared when the exchange ends. */
  timer: ReturnType<typeof setTimeout> | undefined = undefined
  timedOut = false

  /** `reportsConnect`: the dispatcher calls `onConnect` before it writes any byte (undici's own). */
  constructor(readonly reportsConnect: boolean) {}

  /** A failure of the exchange (undici's `onError`, or the deadline). */
  protected abstract report(error: unknown): void

  onConnect(abort: (error?: Error) => void): void {
    this.connected = true
    this.abortFn = abort
    if (this.interrupted) abort(new InterruptedError())
    else if (this.timedOut) abort(new TimeoutError())
  }

  onError(error: Error): void {
    this.abortFn = undefined
    this.clearTimer()
    if (this.interrupted) return
    this.report(error)
  }

  /** Whether any byte of the request may have been written, whatever the error's code. */
  private sent(code: string | undefined): boolean {
    if (this.connected) return true
    if (this.reportsConnect) return false
    // A dispatcher that may not forward `onConnect` (interceptors): only a proof that nothing was written counts.
    return code === undefined || !HttpTransport.neverSentCodes.has(code)
  }

  failureOf(error: unknown): TransportFailure {
    const code = codeOf(error)
    return new TransportFailure(error, this.sent(code), code)
  }

  /**
   * Starts the deadline of the whole exchange (until the last byte of the response body). When it passes, the
   * request is aborted and fails with `ETIMEDOUT`, `requestSent` saying whether it had been written. `millis` is
   * clamped to what Node's timers take (1 ms to about 24.8 days).
   */
  startTimer(deadline: number): void {
    const millis = Math.max(1, Math.min(deadline, 2 ** 31 - 1))
    this.timer = setTimeout(() => {
      this.timer = undefined
      if (this.complete || this.interrupted) return
      this.timedOut = true
      const error = new TimeoutError(millis)
      const abort = this.abortFn
      this.abortFn = undefined
      this.report(error)
      // Abort after reporting: undici then calls onError, which finds nothing left to report.
      if (abort !== undefined) abort(error)
    }, millis)
  }

  clearTimer(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer)
      this.timer = undefined
    }
  }

  /** Stops the exchange: the request is aborted if it is still going, and nothing more is reported. */
  interrupt(): void {
    this.clearTimer()
    if (this.interrupted || this.complete) return
    this.interrupted = true
    const abort = this.abortFn
    this.abortFn = undefined
    if (abort !== undefined) abort(new InterruptedError())
  }
}

/** One request/response exchange of `execute`: answers an `HttpClientResponse` as soon as the status arrives. */
class Exchange extends Attempt {
  resume: Resume | undefined
  /** Response body state. */
  chunks: Array<Buffer> = []
  size = 0
  failure: unknown = undefined
  consumed = false
  streaming = false
  paused = false
  resumeReading: (() => void) | undefined = undefined
  waiters: Array<() => void> | undefined = undefined

  constructor(
    readonly request: HttpClientRequest.HttpClientRequest,
    reportsConnect: boolean,
    resume: Resume
  ) {
    super(reportsConnect)
    this.resume = resume
  }

  // --- undici handler -------------------------------------------------------

  onHeaders(statusCode: number, rawHeaders: Array<Buffer | string> | null, resume: () => void): boolean {
    if (statusCode < 200) return true
    this.resumeReading = resume
    const response = new UndiciResponse(this.request, this, statusCode, rawHeaders ?? NO_HEADERS)
    const callback = this.resume
    this.resume = undefined
    if (callback !== undefined) callback(Effect.succeed(response))
    return true
  }

  onData(chunk: Buffer): boolean {
    this.chunks.push(chunk)
    this.size += chunk.length
    if (this.waiters !== undefined) this.notify()
    if (this.streaming && this.size > HIGH_WATER_MARK) {
      this.paused = true
      return false
    }
    return true
  }

  onComplete(): void {
    this.complete = true
    this.abortFn = undefined
    this.clearTimer()
    if (this.waiters !== undefined) this.notify()
  }

  // --- helpers --------------------------------------------------------------

  /** A failure of the exchange: fails the request if no response came yet, otherwise the body being read. */
  protected report(error: unknown): void {
    const callback = this.resume
    if (callback !== undefined) {
      this.resume = undefined
      callback(Effect.fail(this.requestError(error)))
      return
    }
    this.failure = error
    if (this.waiters !== undefined) this.notify()
  }

  requestError(error: unknown): HttpClientError.RequestError {
    const failure = this.failureOf(error)
    return new HttpClientError.RequestError({
      request: this.request,
      reason: failure.code === "UND_ERR_INVALID_ARG" || failure.code === "UND_ERR_NOT_SUPPORTED"
        ? "Encode"
        : "Transport",
      cause: failure
    })
  }

  override interrupt(): void {
    const wasLive = !this.interrupted && !this.complete
    super.interrupt()
    if (!wasLive) return
    this.resume = undefined
    if (this.waiters !== undefined) this.notify()
  }

  wait(callback: () => void): void {
    if (this.waiters === undefined) this.waiters = [callback]
    else this.waiters.push(callback)
  }

  unwait(callback: () => void): void {
    if (this.waiters === undefined) return
    const index = this.waiters.indexOf(callback)
    if (index !== -1) this.waiters.splice(index, 1)
  }

  private notify(): void {
    const waiters = this.waiters!
    this.waiters = undefined
    for (let i = 0; i < waiters.length; i++) waiters[i]()
  }

  /** Takes the buffered chunks (stream consumption) and resumes reading if undici was paused. */
  take(): Array<Buffer> {
    const chunks = this.chunks
    this.chunks = []
    this.size = 0
    if (this.paused) {
      this.paused = false
      this.resumeReading?.()
    }
    return chunks
  }
}

type ExchangeResume = (
  effect: Effect.Effect<HttpTransport.ExchangeResponse, HttpTransport.ExchangeFailure>
) => void

/** The body was longer than `HttpTransport.MAX_RESPONSE_BYTES`: the exchange is aborted once answered. */
class BodyTooLargeError extends Error {
  constructor() {
    super("the response body is too large to read")
    this.name = "BodyTooLargeError"
  }
}

/** The latin1 text of a raw header name when it is `name` (lower case), compared without decoding others. */
const isHeader = (raw: Buffer | string, name: string): boolean =>
  raw.length === name.length && latin1(raw).toLowerCase() === name

/**
 * One exchange of `HttpTransport.Exchange`: reads the whole response (at most `HttpTransport.MAX_RESPONSE_BYTES`) and
 * answers once, when it is complete.
 */
class BufferedExchange extends Attempt {
  status: number | undefined = undefined
  contentType: string | undefined = undefined
  retryAfter: string | undefined = undefined
  chunks: Array<Buffer> = []
  size = 0
  constructor(reportsConnect: boolean, private resume: ExchangeResume | undefined) {
    super(reportsConnect)
  }

  /**
   * Hands the outcome to the waiting fiber, once, after the I/O callbacks of this turn of the event loop: by then
   * undici has released the connection (it marks it free in a microtask queued after `onComplete`), so the fiber's
   * next request reuses it. Resumed at once, the fiber would find every connection busy and the pool would open a
   * new one: twice as many connections as requests in flight, and more CPU per request (see bench/README.md).
   */
  private settle(outcome: Effect.Effect<HttpTransport.ExchangeResponse, HttpTransport.ExchangeFailure>): void {
    this.clearTimer()
    const callback = this.resume
    if (callback === undefined) return
    this.resume = undefined
    setImmediate(callback, outcome)
  }

  onHeaders(statusCode: number, rawHeaders: Array<Buffer | string> | null): boolean {
    if (statusCode < 200) return true
    this.status = statusCode
    let length: string | undefined = undefined
    const raw = rawHeaders ?? NO_HEADERS
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]
      if (isHeader(name, "content-type")) this.contentType = join(this.contentType, latin1(raw[i + 1]))
      else if (isHeader(name, "retry-after")) this.retryAfter = join(this.retryAfter, latin1(raw[i + 1]))
      else if (isHeader(name, "content-length")) length = join(length, latin1(raw[i + 1]))
    }
    // Announced as too large (or not a number): read nothing more.
    if (length !== undefined && !(Number(length) <= HttpTransport.MAX_RESPONSE_BYTES)) this.tooLarge()
    return true
  }

  onData(chunk: Buffer): boolean {
    if (this.resume === undefined) return true
    this.size += chunk.length
    if (this.size > HttpTransport.MAX_RESPONSE_BYTES) {
      this.tooLarge()
      return true
    }
    this.chunks.push(chunk)
    return true
  }

  onComplete(): void {
    this.complete = true
    this.abortFn = undefined
    const chunks = this.chunks
    this.chunks = []
    this.answer(chunks.length === 0 ? "" : decoder.decode(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)))
  }

  protected report(error: unknown): void {
    if (this.resume === undefined) return
    this.chunks = []
    this.settle(Effect.fail({ cause: this.failureOf(error), status: this.status, contentType: this.contentType }))
  }

  private answer(body: string | undefined): void {
    if (this.resume === undefined) return
    this.settle(
      Effect.succeed({ status: this.status!, contentType: this.contentType, retryAfter: this.retryAfter, body })
    )
  }

  /** Answers without the body, then aborts the exchange so that the rest is not read. */
  private tooLarge(): void {
    this.chunks = []
    this.answer(undefined)
    this.interrupted = true
    const abort = this.abortFn
    this.abortFn = undefined
    if (abort !== undefined) abort(new BodyTooLargeError())
  }

  override interrupt(): void {
    this.resume = undefined
    super.interrupt()
  }
}

const join = (previous: string | undefined, value: string): string =>
  previous === undefined ? value : `${previous}, ${value}`

// -----------------------------------------------------------------------------
// the response
// -----------------------------------------------------------------------------

const decoder = new TextDecoder()

const latin1 = (value: Buffer | string): string => typeof value === "string" ? value : value.toString("latin1")

class UndiciResponse extends Inspectable.Class implements HttpClientResponse.HttpClientResponse {
  readonly [HttpIncomingMessage.TypeId]: HttpIncomingMessage.TypeId = HttpIncomingMessage.TypeId
  readonly [HttpClientResponse.TypeId]: HttpClientResponse.TypeId = HttpClientResponse.TypeId

  private parsedHeaders: Headers.Headers | undefined = undefined
  private setCookies: Array<string> | undefined = undefined
  private parsedCookies: Cookies.Cookies | undefined = undefined
  private bytes: Uint8Array | undefined = undefined
  private textValue: string | undefined = undefined

  constructor(
    readonly request: HttpClientRequest.HttpClientRequest,
    private readonly exchange: Exchange,
    readonly status: number,
    private readonly rawHeaders: ReadonlyArray<Buffer | string>
  ) {
    super()
  }

  get headers(): Headers.Headers {
    if (this.parsedHeaders !== undefined) return this.parsedHeaders
    const record: Record<string, string> = Object.create(null)
    const raw = this.rawHeaders
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = latin1(raw[i]).toLowerCase()
      const value = latin1(raw[i + 1])
      if (name === "set-cookie") (this.setCookies ??= []).push(value)
      record[name] = join(record[name], value)
    }
    return this.parsedHeaders = Headers.unsafeFromRecord(record)
  }

  get cookies(): Cookies.Cookies {
    if (this.parsedCookies !== undefined) return this.parsedCookies
    // Parsing the headers collects the `set-cookie` lines separately (they cannot be joined with commas).
    void this.headers
    return this.parsedCookies = this.setCookies === undefined ? Cookies.empty : Cookies.fromSetCookie(this.setCookies)
  }

  get remoteAddress(): Option.Option<string> {
    return Option.none()
  }

  private decodeError(cause: unknown, description?: string): HttpClientError.ResponseError {
    return new HttpClientError.ResponseError({
      request: this.request,
      response: this,
      reason: "Decode",
      cause: cause instanceof TransportFailure ? cause : this.exchange.failureOf(cause),
      ...(description !== undefined ? { description } : {})
    })
  }

  /** The whole body, once complete. */
  private readonly body: Effect.Effect<Uint8Array, HttpClientError.ResponseError> = Effect.suspend(() => {
    const exchange = this.exchange
    if (this.bytes !== undefined) return Effect.succeed(this.bytes)
    if (exchange.consumed) {
      return Effect.fail(this.decodeError(new Error("the body was already read as a stream"), "body already consumed"))
    }
    if (exchange.failure !== undefined) return Effect.fail(this.decodeError(exchange.failure))
    if (exchange.complete) {
      const chunks = exchange.chunks
      exchange.chunks = []
      exchange.size = 0
      this.bytes = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)
      return Effect.succeed(this.bytes)
    }
    if (exchange.interrupted) return Effect.fail(this.decodeError(new InterruptedError()))
    return Effect.async<Uint8Array, HttpClientError.ResponseError>((resume) => {
      const wake = () => resume(this.body)
      exchange.wait(wake)
      return Effect.sync(() => {
        exchange.unwait(wake)
        exchange.interrupt()
      })
    })
  })

  get arrayBuffer(): Effect.Effect<ArrayBuffer, HttpClientError.ResponseError> {
    return Effect.map(this.body, (bytes) => {
      const copy = new Uint8Array(bytes.byteLength)
      copy.set(bytes)
      return copy.buffer
    })
  }

  get text(): Effect.Effect<string, HttpClientError.ResponseError> {
    return Effect.map(this.body, (bytes) => this.textValue ??= decoder.decode(bytes))
  }

  get json(): Effect.Effect<unknown, HttpClientError.ResponseError> {
    return Effect.flatMap(this.text, (text) => {
      if (text === "") return Effect.succeed(null)
      try {
        return Effect.succeed(JSON.parse(text) as unknown)
      } catch (cause) {
        return Effect.fail(this.decodeError(cause, "invalid JSON"))
      }
    })
  }

  get urlParamsBody(): Effect.Effect<UrlParams.UrlParams, HttpClientError.ResponseError> {
    return Effect.map(this.text, (text) => UrlParams.fromInput(new URLSearchParams(text)))
  }

  get formData(): Effect.Effect<FormData, HttpClientError.ResponseError> {
    return Effect.flatMap(this.body, (bytes) =>
      Effect.tryPromise({
        try: () => {
          const contentType = this.headers["content-type"]
          return new Response(
            bytes as Uint8Array<ArrayBuffer>,
            contentType !== undefined ? { headers: { "content-type": contentType } } : {}
          )
            .formData()
        },
        catch: (cause) => this.decodeError(cause, "invalid form data")
      }))
  }

  get stream(): Stream.Stream<Uint8Array, HttpClientError.ResponseError> {
    return Stream.suspend(() => {
      const exchange = this.exchange
      if (this.bytes !== undefined) return Stream.succeed(this.bytes)
      exchange.streaming = true
      exchange.consumed = true
      const pull: Effect.Effect<Chunk.Chunk<Uint8Array>, Option.Option<HttpClientError.ResponseError>> = Effect
        .suspend(() => {
          if (exchange.chunks.length > 0) return Effect.succeed(Chunk.unsafeFromArray<Uint8Array>(exchange.take()))
          if (exchange.failure !== undefined) return Effect.fail(Option.some(this.decodeError(exchange.failure)))
          if (exchange.complete) return Effect.fail(Option.none())
          if (exchange.interrupted) return Effect.fail(Option.some(this.decodeError(new InterruptedError())))
          return Effect.async<Chunk.Chunk<Uint8Array>, Option.Option<HttpClientError.ResponseError>>((resume) => {
            const wake = () => resume(pull)
            exchange.wait(wake)
            return Effect.sync(() => exchange.unwait(wake))
          })
        })
      return Stream.ensuring(Stream.repeatEffectChunkOption(pull), Effect.sync(() => exchange.interrupt()))
    })
  }

  toJSON(): unknown {
    // Never the request's headers (they hold the API key): only its method and URL.
    const out: Record<string, unknown> = {
      _id: "@effect/platform/HttpClientResponse",
      request: { method: this.request.method, url: this.request.url },
      status: this.status,
      headers: Inspectable.redact(this.headers)
    }
    if (this.textValue !== undefined) out.body = this.textValue
    return out
  }
}

// -----------------------------------------------------------------------------
// the client
// -----------------------------------------------------------------------------

const isPlainUndici = (dispatcher: Dispatcher): boolean =>
  // Agent, Pool, Client, BalancedPool and ProxyAgent share this `dispatch` and pass the handler through untouched,
  // so `onConnect` comes before any byte is written; a composed dispatcher (interceptors) wraps the handler.
  dispatcher.dispatch === Agent.prototype.dispatch

/**
 * An `HttpClient` over an undici dispatcher. The dispatcher is not closed by the client.
 *
 * ```ts
 * import { Pool } from "undici"
 * const client = UndiciHttpClient.make(new Pool("http://127.0.0.1:4010", { connections: 64 }))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (dispatcher: Dispatcher): HttpClient.HttpClient => {
  const targets = new Targets()
  const reportsConnect = isPlainUndici(dispatcher)

  const send = (
    request: HttpClientRequest.HttpClientRequest,
    target: Target,
    body: DispatchBody
  ): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError> =>
    Effect.withFiberRuntime((fiber) =>
      Effect.async<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>((resume) => {
        const exchange = new Exchange(request, reportsConnect, resume)
        const timeout = fiber.getFiberRef(HttpTransport.currentTimeout)
        if (timeout !== undefined) exchange.startTimer(Duration.toMillis(timeout))
        const options = {
          origin: target.origin,
          path: target.path,
          method: request.method,
          headers: request.headers as Record<string, string>,
          body
        }
        try {
          dispatcher.dispatch(options, exchange as Dispatcher.DispatchHandler)
        } catch (error) {
          // Only dispatchers that are not undici's own throw instead of calling `onError`.
          exchange.onError(error instanceof Error ? error : new Error(String(error)))
        }
        return Effect.sync(() => exchange.interrupt())
      })
    )

  const execute = (
    request: HttpClientRequest.HttpClientRequest
  ): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError> => {
    const target = targets.resolve(request)
    if (target instanceof Error) {
      return Effect.fail(new HttpClientError.RequestError({ request, reason: "InvalidUrl", cause: target }))
    }
    const body = request.body
    switch (body._tag) {
      case "Empty":
        return send(request, target, null)
      case "Uint8Array":
        return send(request, target, body.body)
      case "Raw":
        return send(request, target, rawBody(body.body))
      case "FormData":
        return send(request, target, toUndiciFormData(body.formData))
      case "Stream":
        return Effect.flatMap(streamBody(body), (iterable) => send(request, target, iterable))
    }
  }

  const exchange: HttpTransport.Exchange = (request) => {
    const target = targets.resolveUrl(request.url)
    if (target instanceof Error) return Effect.fail({ cause: new TransportFailure(target, false) })
    // Interruption aborts the request at once: the wait is interruptible inside a mask, and the failure handler sees
    // the interruption. `Effect.async`'s own canceler does the same through `onInterrupt` and `onExit`, which cost
    // more per request under load (see bench/README.md).
    return Effect.uninterruptibleMask((restore) => {
      let attempt: BufferedExchange | undefined
      return Effect.catchAllCause(
        restore(Effect.async<HttpTransport.ExchangeResponse, HttpTransport.ExchangeFailure>((resume) => {
          attempt = new BufferedExchange(reportsConnect, resume)
          attempt.startTimer(request.timeoutMillis)
          try {
            dispatcher.dispatch({
              origin: target.origin,
              path: target.path,
              method: request.method as Dispatcher.HttpMethod,
              headers: request.headers,
              body: request.body
            }, attempt as Dispatcher.DispatchHandler)
          } catch (error) {
            attempt.onError(error instanceof Error ? error : new Error(String(error)))
          }
        })),
        (cause) => {
          if (Cause.isInterruptedOnly(cause)) attempt?.interrupt()
          return Effect.failCause(cause)
        }
      )
    })
  }

  return HttpTransport.withExchange(
    HttpClient.makeWith(
      (effect) => Effect.flatMap(effect, execute),
      Effect.succeed as HttpClient.HttpClient.Preprocess<never, never>
    ),
    exchange
  )
}

const streamBody = (body: HttpBody.Stream): Effect.Effect<DispatchBody> =>
  Effect.map(Stream.toAsyncIterableEffect(body.stream), asDispatchBody)

/**
 * The default options of the `Agent` that {@link layer} owns: keep-alive connections, kept 4 seconds when idle
 * (less than Node's and most servers' 5 seconds, so that a kept socket is not closed under a request), and
 * undici's 300-second headers and body timeouts as a last resort (per-call timeouts belong to Effect).
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultAgentOptions: UndiciAgent.Options = {
  keepAliveTimeout: 4_000,
  keepAliveMaxTimeout: 600_000
}

/**
 * The client over an `Agent` built with these options (merged over {@link defaultAgentOptions}). The agent is
 * destroyed when the layer's scope closes.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWith = (options: UndiciAgent.Options): Layer.Layer<HttpClient.HttpClient> =>
  Layer.scoped(
    HttpClient.HttpClient,
    Effect.map(
      Effect.acquireRelease(
        Effect.sync(() => new Agent({ ...defaultAgentOptions, ...options })),
        (agent) => Effect.promise(() => agent.destroy())
      ),
      make
    )
  )

/**
 * The client over its own keep-alive `Agent`, destroyed when the layer's scope closes.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<HttpClient.HttpClient> = layerWith({})
