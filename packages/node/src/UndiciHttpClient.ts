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
 * - There is no deadline: a caller that wants one races the request (the Kaleyra client sends through
 *   `UndiciTransport`, the same dispatch with its deadline enforced by the dispatch itself).
 *
 * @since 0.1.0
 */
import * as Cookies from "@effect/platform/Cookies"
import * as Headers from "@effect/platform/Headers"
import type * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as UrlParams from "@effect/platform/UrlParams"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Inspectable from "effect/Inspectable"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type { Agent as UndiciAgent, Dispatcher } from "undici"
import { Agent, toUndiciFormData } from "./internal/undici.js"
import {
  Attempt,
  decoder,
  InterruptedError,
  isPlainUndici,
  join,
  latin1,
  NO_HEADERS,
  TransportFailure as TransportFailureClass
} from "./internal/undiciAttempt.js"
import { type Target, Targets } from "./internal/undiciTargets.js"

// -----------------------------------------------------------------------------
// errors
// -----------------------------------------------------------------------------

/**
 * The `cause` of every transport failure raised by this client (see `internal/undiciAttempt.ts`): its `code`, and
 * `requestSent`, whether any byte of the request may have been written.
 *
 * @since 0.1.0
 * @category errors
 */
export const TransportFailure: typeof TransportFailureClass = TransportFailureClass

/**
 * The type of {@link TransportFailure}.
 *
 * @since 0.1.0
 * @category errors
 */
export type TransportFailure = TransportFailureClass

// -----------------------------------------------------------------------------
// request bodies
// -----------------------------------------------------------------------------

type DispatchBody = Exclude<Dispatcher.DispatchOptions["body"], undefined>

/** undici takes (async) iterables and `Blob`s as bodies, which its types do not list. */
const asDispatchBody = (body: unknown): DispatchBody => body as DispatchBody

const rawBody = (body: unknown): DispatchBody => {
  if (typeof FormData !== "undefined" && body instanceof FormData) return toUndiciFormData(body)
  // undici validates the rest (string, bytes, Readable, Blob, (async) iterables) and refuses anything else.
  return asDispatchBody(body)
}

// -----------------------------------------------------------------------------
// the exchange: undici handler + response body source
// -----------------------------------------------------------------------------

const HIGH_WATER_MARK = 64 * 1024

type Resume = (effect: Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>) => void

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

// -----------------------------------------------------------------------------
// the response
// -----------------------------------------------------------------------------

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
      cause: cause instanceof TransportFailureClass ? cause : this.exchange.failureOf(cause),
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
    Effect.async<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>((resume) => {
      const exchange = new Exchange(request, reportsConnect, resume)
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

  return HttpClient.makeWith(
    (effect) => Effect.flatMap(effect, execute),
    Effect.succeed as HttpClient.HttpClient.Preprocess<never, never>
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
