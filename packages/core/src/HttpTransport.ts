/**
 * The contract between the Kaleyra client and an `HttpClient` that wants to do better than the generic one.
 *
 * The client works over any `HttpClient`. A transport written for it (the node package's undici client, the testing
 * package's in-memory client) can also:
 *
 * - report whether a failed request was fully written, by setting `requestSent: boolean` on the error in the
 *   `cause` chain of its `RequestError` (`false` lets the client retry safely);
 * - enforce the per-attempt timeout itself, without a timer fiber: mark the client with {@link withNativeTimeout},
 *   read {@link currentTimeout} when a request starts, and fail with a cause whose `code` is `"ETIMEDOUT"` (and
 *   `requestSent` set) when the whole response has not arrived in time. The client then skips its generic
 *   `Effect.timeoutFail` wrapper, which costs a race of two fibers per attempt.
 *
 * A client passed through `transformClient` is always given the generic timeout, since the wrapper may not keep the
 * contract.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Duration from "effect/Duration"
import * as FiberRef from "effect/FiberRef"
import { globalValue } from "effect/GlobalValue"

/**
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
 * Error codes that prove no connection carried the request (refused, unresolvable, unreachable, TLS refused, a closed
 * or destroyed client, an invalid request): a failure with one of them is safe to retry.
 *
 * @since 0.1.0
 * @category constants
 */
export const neverSentCodes: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EADDRNOTAVAIL",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_DESTROYED",
  "UND_ERR_CLOSED",
  "UND_ERR_INVALID_ARG",
  "UND_ERR_NOT_SUPPORTED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "CERT_HAS_EXPIRED",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "SELF_SIGNED_CERT_IN_CHAIN"
])
