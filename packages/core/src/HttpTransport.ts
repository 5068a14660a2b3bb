/**
 * The contract between the Kaleyra client and an `HttpClient` that wants to do better than the generic one.
 *
 * The client works over any `HttpClient`. A transport written for it can also do the following (the node package's
 * undici client does all three; the testing package's in-memory client the first two):
 *
 * - report whether any byte of a failed request may have been written, by setting `requestSent: boolean` on the
 *   error in the `cause` chain of its `RequestError`. `false` is a proof that nothing was written (never connected,
 *   refused before a connection carried it), which lets the client retry safely; `true` as soon as the request was
 *   handed to a connection, even if it failed mid-write. When it is set, the client believes it whatever the error's
 *   `code`: only a failure without it is judged by its code ({@link neverSentCodes});
 * - enforce the per-attempt timeout itself, without a timer fiber: mark the client with {@link withNativeTimeout},
 *   read {@link currentTimeout} when a request starts, and fail with a cause whose `code` is `"ETIMEDOUT"` (and
 *   `requestSent` set) when the whole response has not arrived in time. The client then skips its generic
 *   `Effect.timeoutFail` wrapper, which costs a race of two fibers per attempt;
 * - answer a send in one step, by offering an {@link Exchange} (mark the client with {@link withExchange}): the
 *   request goes out as a method, a URL, headers and a text body, and comes back read (status, the two headers the
 *   client reads, the body as text, at most {@link MAX_RESPONSE_BYTES}). The client then sends messages through it
 *   instead of `execute` + reading the response, which costs an `HttpClientRequest`, an `HttpClientResponse` and a
 *   dozen Effect steps per request. Uploads (multipart) still go through `execute`.
 *
 * A client passed through `transformClient` is always given the generic path (`execute`, and the generic timeout),
 * since the wrapper may not keep the contract.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import { globalValue } from "effect/GlobalValue"

/**
 * The property by which an `HttpClient` declares that it enforces `currentTimeout` itself (see `withNativeTimeout`).
 *
 * @since 0.1.0
 * @category symbols
 */
export const NativeTimeout: unique symbol = Symbol.for("@effect-kaleyra/core/HttpTransport/NativeTimeout")

/**
 * The timeout of the attempt in progress, set by the client around each request when its transport enforces
 * timeouts natively. `undefined`: no timeout requested.
 *
 * @since 0.1.0
 * @category fiber refs
 */
export const currentTimeout: FiberRef.FiberRef<Duration.Duration | undefined> = globalValue(
  "@effect-kaleyra/core/HttpTransport/currentTimeout",
  () => FiberRef.unsafeMake<Duration.Duration | undefined>(undefined)
)

/**
 * Marks a client as enforcing {@link currentTimeout} itself.
 *
 * @since 0.1.0
 * @category constructors
 */
export const withNativeTimeout = <C extends HttpClient.HttpClient.With<unknown, unknown>>(client: C): C =>
  Object.assign(client, { [NativeTimeout]: true as const })

/**
 * Whether a client enforces {@link currentTimeout} itself.
 *
 * @since 0.1.0
 * @category predicates
 */
export const hasNativeTimeout = (client: HttpClient.HttpClient.With<unknown, unknown>): boolean =>
  (client as { readonly [NativeTimeout]?: boolean })[NativeTimeout] === true

/**
 * The error code a transport uses for a timeout it enforced.
 *
 * @since 0.1.0
 * @category constants
 */
export const TIMEOUT_CODE = "ETIMEDOUT"

/**
 * Error codes that prove that no byte of the request was written (refused, unresolvable, a connect timeout, TLS
 * refused at the handshake, a request undici refused to send). Only a failure whose transport does not say whether
 * the request was written (no `requestSent` in its cause) is judged by them. A destroyed or closed dispatcher
 * (`UND_ERR_DESTROYED`, `UND_ERR_CLOSED`) is not among them: it may have been destroyed under a request already
 * written. Nor is an unreachable host or network, which a connection already established can report too (the
 * client counts those as never sent only when they come from `connect`).
 *
 * @since 0.1.0
 * @category constants
 */
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

/**
 * The most a client reads of a response body; a larger body is not read (`ExchangeResponse.body` is `undefined`).
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_RESPONSE_BYTES = 1024 * 1024

/**
 * A request as an {@link Exchange} takes it.
 *
 * @since 0.1.0
 * @category models
 */
export interface ExchangeRequest {
  readonly method: string
  /** Absolute, `http:` or `https:`. */
  readonly url: string
  /** Sent as they are (lower-case names). */
  readonly headers: Readonly<Record<string, string>>
  /** Sent as UTF-8. */
  readonly body: string
  /**
   * The deadline of the whole exchange, until the last byte of the response; on expiry it fails with `ETIMEDOUT`. Any
   * positive number: a transport whose timers take less (Node's: up to 2^31 - 1 ms) clamps it.
   */
  readonly timeoutMillis: number
}

/**
 * A response as an {@link Exchange} returns it, read.
 *
 * @since 0.1.0
 * @category models
 */
export interface ExchangeResponse {
  readonly status: number
  readonly contentType: string | undefined
  readonly retryAfter: string | undefined
  /** The body decoded as UTF-8; `undefined` when it exceeded {@link MAX_RESPONSE_BYTES} (the rest is not read). */
  readonly body: string | undefined
}

/**
 * Why an exchange failed. `cause` follows the same contract as the `cause` of a `RequestError` (a `code`, and
 * `requestSent` when the transport knows it). `status` is set when the response's status had arrived and reading its
 * body failed.
 *
 * @since 0.1.0
 * @category models
 */
export interface ExchangeFailure {
  readonly cause: unknown
  readonly status?: number | undefined
  readonly contentType?: string | undefined
}

/**
 * One request and its response, read: what a client marked with {@link withExchange} offers. Interrupting it aborts
 * the request. The client calls it once per send and runs the effect once per attempt, so the request must be made
 * when the effect runs, not when the function is called, and calling it must not throw. A failure belongs in the
 * error channel; a defect while the effect runs is taken for a broken transport (an ambiguous `TransportError`).
 *
 * @since 0.1.0
 * @category models
 */
export type Exchange = (request: ExchangeRequest) => Effect.Effect<ExchangeResponse, ExchangeFailure>

/**
 * The property under which an `HttpClient` offers its `Exchange` (the client then sends through it).
 *
 * @since 0.1.0
 * @category symbols
 */
export const ExchangeId: unique symbol = Symbol.for("@effect-kaleyra/core/HttpTransport/Exchange")

/**
 * Offers `exchange` on a client; it must enforce `timeoutMillis` itself (so the client is also marked
 * {@link withNativeTimeout}).
 *
 * @since 0.1.0
 * @category constructors
 */
export const withExchange = <C extends HttpClient.HttpClient.With<unknown, unknown>>(
  client: C,
  exchange: Exchange
): C => Object.assign(withNativeTimeout(client), { [ExchangeId]: exchange })

/**
 * The {@link Exchange} a client offers, if any.
 *
 * @since 0.1.0
 * @category getters
 */
export const exchangeOf = (client: HttpClient.HttpClient.With<unknown, unknown>): Exchange | undefined =>
  (client as { readonly [ExchangeId]?: Exchange })[ExchangeId]
