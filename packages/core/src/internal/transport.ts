/**
 * The transport contract's mechanics: the generic transport over any `HttpClient` (timeout, reading the response,
 * its `http.client` span), and the classification of transport failures into `TransportError`.
 *
 * @internal
 */
import * as Headers from "@effect/platform/Headers"
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as Stream from "effect/Stream"
import { TransportError, type TransportErrorReason, UnexpectedResponse } from "../KaleyraError.js"
import type * as KaleyraTransport from "../KaleyraTransport.js"
import { traced } from "./clientSpan.js"
import { excerpt } from "./describe.js"
import { errorScrubber, textScrubber } from "./secret.js"

/** @internal */
export const TIMEOUT_CODE = "ETIMEDOUT" as const

/** @internal */
export const neverSentCodes: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_INVALID_ARG",
  "UND_ERR_NOT_SUPPORTED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "CERT_HAS_EXPIRED",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "SELF_SIGNED_CERT_IN_CHAIN"
])

/** The most UTF-16 units of a cause's message kept in a `TransportError`'s `detail` (a longer one is cut, "…" added). */
const DETAIL_LENGTH = 300

/** @internal */
export const MAX_RESPONSE_BYTES = 1024 * 1024

const reasonOfCode = (code: string | undefined): TransportErrorReason => {
  switch (code) {
    case "ECONNREFUSED":
      return "ConnectionRefused"
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "DnsFailure"
    case "ECONNRESET":
    case "EPIPE":
    case "UND_ERR_SOCKET":
      return "ConnectionReset"
    case "ETIMEDOUT": // also what a transport with native timeouts reports (KaleyraTransport.TIMEOUT_CODE)
    case "UND_ERR_CONNECT_TIMEOUT":
    case "UND_ERR_HEADERS_TIMEOUT":
    case "UND_ERR_BODY_TIMEOUT":
      return "Timeout"
    default:
      return "Other"
  }
}

interface CauseFacts {
  code: string | undefined
  /** The system call that failed with `code` (Node's system errors carry it: `connect`, `getaddrinfo`, `write`). */
  syscall: unknown
  requestSent: boolean | undefined
  detail: string
}

/**
 * Walks an error's `cause` chain for a system error `code` and for the `requestSent` flag that a transport may set
 * (the node layer's client does: `false` when no byte of the request can have been written).
 */
const factsOf = (cause: unknown): CauseFacts => {
  const facts: CauseFacts = { code: undefined, syscall: undefined, requestSent: undefined, detail: "" }
  let cursor: unknown = cause
  for (let depth = 0; depth < 8 && typeof cursor === "object" && cursor !== null; depth++) {
    const c = cursor as {
      readonly code?: unknown
      readonly syscall?: unknown
      readonly requestSent?: unknown
      readonly message?: unknown
    }
    if (facts.code === undefined && typeof c.code === "string") {
      facts.code = c.code
      facts.syscall = c.syscall
    }
    if (facts.requestSent === undefined && typeof c.requestSent === "boolean") facts.requestSent = c.requestSent
    // The platform's own errors describe the request (method and URL), not what went wrong: skip their message.
    const platform = (cursor as { readonly _tag?: unknown })._tag === "RequestError" ||
      (cursor as { readonly _tag?: unknown })._tag === "ResponseError"
    if (facts.detail === "" && !platform && typeof c.message === "string" && c.message !== "") facts.detail = c.message
    cursor = (cursor as { readonly cause?: unknown }).cause
  }
  return facts
}

/**
 * Classifies a failure that happened before any response arrived.
 *
 * @internal
 */
export const transportErrorFromCause = (cause: unknown): TransportError => {
  const facts = factsOf(cause)
  // The transport's own account wins over any code: a dispatcher destroyed under a request it had written fails
  // with a code (UND_ERR_DESTROYED) that says nothing of what was written.
  const neverSent = facts.requestSent !== undefined
    ? !facts.requestSent
    : facts.code !== undefined && (neverSentCodes.has(facts.code) || facts.syscall === "connect")
  const detail = (facts.code !== undefined ? `${facts.code}: ` : "") + (facts.detail || "the connection failed")
  return new TransportError({
    reason: reasonOfCode(facts.code),
    mayHaveReachedKaleyra: !neverSent,
    // Never between the halves of a pair: the detail stays well-formed text for the scrubber and any encoder.
    detail: excerpt(detail, DETAIL_LENGTH + 1)
  }, { disableValidation: true })
}

/** The body of a response with `status` could not be read: Kaleyra answered, the status says how. */
const bodyReadFailed = (status: number, contentType: string | undefined, cause: unknown): UnexpectedResponse =>
  new UnexpectedResponse({
    status,
    reason: "BodyReadFailed",
    ...(contentType !== undefined ? { contentType } : {}),
    excerpt: transportErrorFromCause(cause).detail
  }, { disableValidation: true })

/**
 * Classifies the failure of a transport: a `TransportError` before the response's status arrived, an
 * `UnexpectedResponse` (`BodyReadFailed`) after.
 *
 * @internal
 */
export const fromFailure = (failure: KaleyraTransport.Failure): TransportError | UnexpectedResponse =>
  failure.status !== undefined
    ? bodyReadFailed(failure.status, failure.contentType, failure.cause)
    : transportErrorFromCause(failure.cause)

/**
 * A platform `HttpClientError` raised before a response arrived, as a transport failure. An `Encode` error is judged
 * like any other by what its transport says: node:http's client reports a streamed body that fails after it was
 * written (the whole of it, its length announced) as Encode.
 */
const failureOfRequestError = (error: HttpClientError.HttpClientError): KaleyraTransport.Failure =>
  error._tag === "RequestError" && error.reason === "InvalidUrl"
    // No URL, no connection: nothing was sent.
    ? { cause: neverSent(`the request could not be built (${error.reason})`) }
    : { cause: error.cause ?? error }

const neverSent = (message: string) => Object.assign(new Error(message), { requestSent: false })

/**
 * Reads at most {@link MAX_RESPONSE_BYTES} of a response. A body read failure after the status arrived carries the
 * status (Kaleyra answered; the status says how).
 *
 * @internal
 */
const readResponse = (
  response: HttpClientResponse.HttpClientResponse
): Effect.Effect<KaleyraTransport.Response, KaleyraTransport.Failure> => {
  const status = response.status
  const contentType = response.headers["content-type"]
  const retryAfter = response.headers["retry-after"]
  const length = response.headers["content-length"]
  const make = (body: string | undefined): KaleyraTransport.Response => ({ status, contentType, retryAfter, body })
  const failed = (cause: unknown): KaleyraTransport.Failure => ({ cause, status, contentType })
  if (length !== undefined && Number(length) <= MAX_RESPONSE_BYTES) {
    return Effect.mapBoth(response.text, { onFailure: failed, onSuccess: make })
  }
  if (length !== undefined) {
    // Announced as too large: read nothing more, and end the stream so that the transport aborts the exchange
    // instead of buffering the rest.
    return response.stream.pipe(
      Stream.take(1),
      Stream.runDrain,
      Effect.ignore,
      Effect.as(make(undefined))
    )
  }
  return response.stream.pipe(
    Stream.mapError(failed),
    Stream.scan({ size: 0, chunks: Chunk.empty<Uint8Array>() }, (acc, chunk) => ({
      size: acc.size + chunk.length,
      chunks: acc.size + chunk.length > MAX_RESPONSE_BYTES ? acc.chunks : Chunk.append(acc.chunks, chunk)
    })),
    Stream.takeUntil((acc) => acc.size > MAX_RESPONSE_BYTES),
    Stream.runLast,
    Effect.map((last) => {
      if (last._tag === "None") return make("")
      if (last.value.size > MAX_RESPONSE_BYTES) return make(undefined)
      const bytes = new Uint8Array(last.value.size)
      let offset = 0
      for (const chunk of last.value.chunks) {
        bytes.set(chunk, offset)
        offset += chunk.length
      }
      return make(new TextDecoder().decode(bytes))
    })
  )
}

/** Scrubs the values of a request's redacted headers (the API key) from what a server or transport echoes back. */
interface Scrubbers {
  readonly text: (text: string) => string
  readonly error: (error: TransportError) => TransportError
}

const noScrubbers: Scrubbers = { text: (text) => text, error: (error) => error }

/**
 * The scrubbers of a request's redacted header values, the last ones kept: building one costs a pass over every
 * fragment of the secret, and a transport sees the same key on every request.
 *
 * @internal
 */
const redactedValueScrubbers = () => {
  let lastKey: string | undefined
  let last = noScrubbers
  return (headers: Headers.Headers, redactedNames: ReadonlyArray<string | RegExp>): Scrubbers => {
    const secrets: Array<string> = []
    const redacted = Headers.redact(headers, redactedNames)
    for (const name in redacted) {
      if (typeof redacted[name] !== "string" && headers[name] !== "") secrets.push(headers[name])
    }
    if (secrets.length === 0) return noScrubbers
    const key = secrets.join("\n")
    if (key === lastKey) return last
    const texts = secrets.map(textScrubber)
    const errors = secrets.map((secret, i) => errorScrubber(secret, texts[i]))
    lastKey = key
    last = {
      text: (text) => texts.reduce((acc, scrub) => scrub(acc), text),
      error: (error) => errors.reduce((acc, scrub) => scrub(acc), error)
    }
    return last
  }
}

/** The deadline passed: after the status arrived, as a body that could not be read (as the lean transports say). */
const timedOut = (
  millis: number,
  response: HttpClientResponse.HttpClientResponse | undefined
): KaleyraTransport.Failure => {
  const cause = Object.assign(new Error(`no complete response within ${Duration.format(Duration.millis(millis))}`), {
    code: TIMEOUT_CODE,
    requestSent: true
  })
  return response === undefined
    ? { cause }
    : { cause, status: response.status, contentType: response.headers["content-type"] }
}

/**
 * One request through a generic `HttpClient`, within its deadline, in its own `http.client` span (see clientSpan.ts),
 * read.
 *
 * @internal
 */
const genericSend = (
  client: HttpClient.HttpClient,
  request: HttpClientRequest.HttpClientRequest,
  timeoutMillis: number,
  scrubbersOf: ReturnType<typeof redactedValueScrubbers>
): Effect.Effect<KaleyraTransport.Response, KaleyraTransport.Failure> =>
  Effect.flatMap(FiberRef.get(Headers.currentRedactedNames), (redactedNames) => {
    const scrubbers = scrubbersOf(request.headers, redactedNames)
    // The response, once its status arrived: a deadline passing after it is a body that could not be read.
    let answered: HttpClientResponse.HttpClientResponse | undefined
    const executed = traced(
      request,
      redactedNames,
      Effect.mapError(client.execute(request), failureOfRequestError),
      scrubbers.text,
      (failure) => scrubbers.error(transportErrorFromCause(failure.cause))
    )
    const read = Effect.flatMap(executed, (response) => {
      answered = response
      return readResponse(response)
    })
    return Effect.timeoutFail(read, {
      duration: Duration.millis(timeoutMillis),
      onTimeout: () => timedOut(timeoutMillis, answered)
    })
  })

/**
 * The generic transport over an `HttpClient` (see `KaleyraTransport.fromHttpClient`).
 *
 * @internal
 */
export const fromHttpClient = (httpClient: HttpClient.HttpClient): KaleyraTransport.Service => {
  const client = HttpClient.withTracerPropagation(httpClient, false)
  const scrubbers = redactedValueScrubbers()
  // The client sends with the same method, URL and headers every time: the request is built once for them, and each
  // send only sets its body.
  let base:
    | { readonly source: KaleyraTransport.Request; readonly request: HttpClientRequest.HttpClientRequest }
    | undefined
  const baseOf = (request: KaleyraTransport.Request) => {
    const source = base?.source
    if (
      source === undefined || source.url !== request.url || source.headers !== request.headers ||
      source.method !== request.method
    ) {
      base = {
        source: request,
        request: HttpClientRequest.make(request.method as "POST")(request.url, { headers: request.headers })
      }
    }
    return base!.request
  }
  return {
    send: (request) =>
      genericSend(
        client,
        HttpClientRequest.setBody(baseOf(request), HttpBody.text(request.body, request.headers["content-type"])),
        request.timeoutMillis,
        scrubbers
      ),
    upload: (upload) =>
      genericSend(
        client,
        HttpClientRequest.post(upload.url, { headers: upload.headers, body: HttpBody.formData(upload.form) }),
        upload.timeoutMillis,
        scrubbers
      ),
    httpClient,
    tracesRequests: true
  }
}
