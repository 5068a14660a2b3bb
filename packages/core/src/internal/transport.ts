/**
 * Reading responses through any `HttpClient`, and classifying transport failures.
 *
 * @internal
 */
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { type ExchangeFailure, MAX_RESPONSE_BYTES, neverSentCodes } from "../HttpTransport.js"
import { TransportError, type TransportErrorReason, UnexpectedResponse } from "../KaleyraError.js"
import type { RawResponse } from "./response.js"

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
    case "ETIMEDOUT": // also what a transport with native timeouts reports (HttpTransport.TIMEOUT_CODE)
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
    detail: detail.length > 300 ? detail.slice(0, 300) + "…" : detail
  }, { disableValidation: true })
}

/**
 * Maps a platform `HttpClientError` raised before a response arrived.
 *
 * @internal
 */
export const fromRequestError = (error: HttpClientError.HttpClientError): TransportError => {
  if (error._tag === "RequestError" && error.reason === "InvalidUrl") {
    // No URL, no connection: nothing was sent.
    return new TransportError({
      reason: "Other",
      mayHaveReachedKaleyra: false,
      detail: `the request could not be built (${error.reason})`
    }, { disableValidation: true })
  }
  // An Encode error is judged like any other by what its transport says: node:http's client reports a streamed body
  // that fails after it was written (the whole of it, its length announced) as Encode.
  return transportErrorFromCause(error.cause ?? error)
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
 * Maps the failure of an `HttpTransport.Exchange` as the same failure through `execute` is mapped.
 *
 * @internal
 */
export const fromExchangeFailure = (failure: ExchangeFailure): TransportError | UnexpectedResponse =>
  failure.status !== undefined
    ? bodyReadFailed(failure.status, failure.contentType, failure.cause)
    : transportErrorFromCause(failure.cause)

/**
 * Reads at most {@link MAX_RESPONSE_BYTES} of a response. A body read failure after the status arrived is an
 * `UnexpectedResponse` (Kaleyra answered; the status says how).
 *
 * @internal
 */
export const readResponse = (
  response: HttpClientResponse.HttpClientResponse
): Effect.Effect<RawResponse, UnexpectedResponse> => {
  const status = response.status
  const contentType = response.headers["content-type"]
  const retryAfter = response.headers["retry-after"]
  const length = response.headers["content-length"]
  const make = (body: string | undefined): RawResponse => ({ status, contentType, retryAfter, body })
  const failed = (cause: unknown) => bodyReadFailed(status, contentType, cause)
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

/**
 * @internal
 */
export const isHttpClientError = (u: unknown): u is HttpClientError.HttpClientError =>
  HttpClientError.isHttpClientError(u)
