/**
 * The in-memory transports to a simulator: `makeTransport`, the `KaleyraTransport` contract the client sends through
 * (its deadline on the `Clock`), and `makeHttpClient`, an `HttpClient` over the same `handle` (what a
 * `transformClient` wraps). No socket, no web `Request`/`Response`.
 *
 * @internal
 */
import * as KaleyraTransport from "@effect-kaleyra/core/KaleyraTransport"
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
import * as Inspectable from "effect/Inspectable"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as KaleyraSimulator from "../KaleyraSimulator.js"

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
 * `KaleyraTransport.Failure` expects.
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
    KaleyraTransport.TIMEOUT_CODE,
    true
  )

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
    /** Clock millis when the last byte of a slow body (`drip`) arrives. */
    private readonly until?: number
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

  /** Waits until the body has arrived (a `drip`). */
  private get ready(): Effect.Effect<void> {
    const until = this.until
    if (until === undefined || this.arrived) return Effect.void
    return Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.map(Effect.sleep(Math.max(0, until - now)), () => {
        this.arrived = true
      }))
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

/** @internal */
export type Handle = KaleyraSimulator.Simulator["handle"]

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

/** A `reset` fault: `requestSent` when the request had been received. */
const resetFailure = (phase: "before-body" | "after-body") =>
  new SimulatedTransportFailure(
    phase === "before-body"
      ? "the connection was reset before the request was received"
      : "the connection was reset after the request was received",
    "ECONNRESET",
    phase === "after-body"
  )

/**
 * Imitates a transport-level fault of the simulator (see `KaleyraSimulator.TransportFault`) on the `Clock`. An
 * `HttpClient` has no deadline: its caller races it (the generic transport does).
 */
const imitate = (
  request: HttpClientRequest.HttpClientRequest,
  response: KaleyraSimulator.SimResponse,
  fault: KaleyraSimulator.TransportFault
): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError> => {
  switch (fault.kind) {
    case "reset":
      return Effect.fail(transportError(request, resetFailure(fault.phase)))
    case "huge":
      return Effect.succeed(new SimClientResponse(request, response))
    case "silent":
      return Effect.never
    case "latency":
      return Effect.as(
        Effect.sleep(fault.millis),
        new SimClientResponse(request, { status: response.status, headers: response.headers, body: response.body })
      )
    case "drip":
      return Effect.map(Clock.currentTimeMillis, (now) => new SimClientResponse(request, response, now + fault.millis))
  }
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
 * It has no deadline of its own (`silent` never answers): its caller races it, as the generic transport does.
 *
 * @internal
 */
export const makeHttpClient = (handle: Handle): HttpClient.HttpClient => {
  const toResponse = (
    request: HttpClientRequest.HttpClientRequest,
    response: KaleyraSimulator.SimResponse
  ): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError> =>
    response.fault === undefined
      ? Effect.succeed(new SimClientResponse(request, response))
      : imitate(request, response, response.fault)

  const respond = (request: HttpClientRequest.HttpClientRequest, headers: Headers.Headers, body: Uint8Array) =>
    Effect.flatMap(
      handle({ method: request.method, path: pathOf(request), headers, body }),
      (response) => toResponse(request, response)
    )

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

  return HttpClient.makeWith(
    (effect) => Effect.flatMap(effect, execute),
    Effect.succeed as HttpClient.HttpClient.Preprocess<never, never>
  )
}

// ---------------------------------------------------------------------------------------------------------------
// The transport contract
// ---------------------------------------------------------------------------------------------------------------

/**
 * Options of `makeTransport`.
 *
 * @internal
 */
export interface TransportOptions {
  /**
   * Declares that `handle` never waits on the `Clock` (the simulator's own `handle` does not: it answers sends at
   * once), so that its time need not be raced against the request's deadline (a race costs two fibers and a timer).
   * Default `false`.
   */
  readonly prompt?: boolean | undefined
}

/** The path and query of an absolute URL (the origin, whatever it is, is dropped). */
const pathOfUrl = (url: string): string => {
  const scheme = url.indexOf("://")
  const slash = scheme === -1 ? -1 : url.indexOf("/", scheme + 3)
  const path = slash === -1 ? "/" : url.slice(slash)
  const hash = path.indexOf("#")
  return hash === -1 ? path : path.slice(0, hash)
}

const timedOut = (timeoutMillis: number, status?: number, contentType?: string): KaleyraTransport.Failure => ({
  cause: timeoutFailure(Duration.millis(timeoutMillis)),
  ...(status !== undefined ? { status, contentType } : {})
})

/** A simulator's answer, read as a transport reads it (a `huge` body, or one over the cap, is not read). */
const read = (response: KaleyraSimulator.SimResponse): KaleyraTransport.Response => ({
  status: response.status,
  contentType: response.headers["content-type"],
  retryAfter: response.headers["retry-after"],
  body: response.fault?.kind === "huge" || utf8Length(response.body) > KaleyraTransport.MAX_RESPONSE_BYTES
    ? undefined
    : response.body
})

/** Imitates a transport-level fault within the request's deadline, on the `Clock`. */
const imitateRead = (
  response: KaleyraSimulator.SimResponse,
  fault: KaleyraSimulator.TransportFault,
  timeoutMillis: number
): Effect.Effect<KaleyraTransport.Response, KaleyraTransport.Failure> => {
  switch (fault.kind) {
    case "reset":
      return Effect.fail({ cause: resetFailure(fault.phase) })
    case "huge":
      return Effect.succeed(read(response))
    case "silent":
      return Effect.zipRight(Effect.sleep(timeoutMillis), Effect.fail(timedOut(timeoutMillis)))
    case "latency":
      return timeoutMillis <= fault.millis
        ? Effect.zipRight(Effect.sleep(timeoutMillis), Effect.fail(timedOut(timeoutMillis)))
        : Effect.as(Effect.sleep(fault.millis), read(response))
    case "drip":
      // The status arrived at once; the body is still coming at the deadline.
      return fault.millis > timeoutMillis
        ? Effect.zipRight(
          Effect.sleep(timeoutMillis),
          Effect.fail(timedOut(timeoutMillis, response.status, response.headers["content-type"]))
        )
        : Effect.as(Effect.sleep(fault.millis), read(response))
  }
}

/**
 * The `KaleyraTransport` over `handle`, in memory: a send hands its method, path, headers and UTF-8 body to `handle`;
 * an upload its form encoded as `multipart/form-data`. The simulator's transport-level faults are imitated on the
 * `Clock` within the request's deadline (`reset` with `requestSent` as its phase says, `silent` and a `latency` or
 * `drip` longer than the deadline fail with `ETIMEDOUT` at the deadline). A `handle` that does not answer at once is
 * raced against the deadline, unless it is `prompt`; an answer without a fault costs no timer and no fiber.
 *
 * @internal
 */
export const makeTransport = (handle: Handle, options: TransportOptions = {}): KaleyraTransport.Service => {
  const prompt = options.prompt === true
  const answer = (request: KaleyraSimulator.SimRequest, timeoutMillis: number) => {
    const answered = handle(request)
    const raced = prompt || Exit.isExit(answered) ? answered : Effect.timeoutFail(answered, {
      duration: Duration.millis(timeoutMillis),
      onTimeout: () => timedOut(timeoutMillis)
    })
    return Effect.flatMap(
      raced,
      (response): Effect.Effect<KaleyraTransport.Response, KaleyraTransport.Failure> =>
        response.fault === undefined
          ? Effect.succeed(read(response))
          : imitateRead(response, response.fault, timeoutMillis)
    )
  }
  return {
    send: (request) =>
      Effect.suspend(() => {
        const body = encoder.encode(request.body)
        const headers = { ...request.headers, "content-length": String(body.length) }
        return answer({ method: request.method, path: pathOfUrl(request.url), headers, body }, request.timeoutMillis)
      }),
    upload: (upload) =>
      Effect.flatMap(
        Effect.tryPromise({
          try: () => encodeViaWeb(upload.form, Headers.fromInput(upload.headers)),
          catch: (cause): KaleyraTransport.Failure => ({
            cause: Object.assign(new Error("the body could not be encoded", { cause }), { requestSent: false })
          })
        }),
        (encoded) =>
          answer(
            { method: "POST", path: pathOfUrl(upload.url), headers: encoded.headers, body: encoded.bytes },
            upload.timeoutMillis
          )
      ),
    httpClient: makeHttpClient(handle),
    tracesRequests: false
  }
}
