/**
 * How a transport plugs into the Kaleyra client: the service the client sends every request through.
 *
 * A transport sends a request given as a method, a URL, headers and a body, within a deadline, and answers it read:
 * the status, the two headers the client reads, and the body as text (at most {@link MAX_RESPONSE_BYTES}). It also
 * uploads a form (`multipart/form-data`) the same way. Its failures say whether any byte of the request may have been
 * written ({@link Failure}), which decides whether the client may retry.
 *
 * Three transports implement it: {@link fromHttpClient} over any `HttpClient` (the generic path: the deadline is a
 * timer, and an `http.client` span is recorded per request), the node package's undici transport (the lean path: one
 * dispatch per request, the deadline enforced by the dispatch itself), and the testing package's in-memory transport
 * to the simulator. A `transformClient` (`KaleyraConfig.Options`) wraps {@link Service.httpClient}, the `HttpClient`
 * the transport was made from, and the client then sends through {@link fromHttpClient} over the wrapped client.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as internal from "./internal/transport.js"

/**
 * The error code a transport uses for a deadline it enforced.
 *
 * @since 0.1.0
 * @category constants
 */
export const TIMEOUT_CODE: "ETIMEDOUT" = internal.TIMEOUT_CODE

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
export const neverSentCodes: ReadonlySet<string> = internal.neverSentCodes

/**
 * The most a transport reads of a response body; a larger body is not read ({@link Response.body} is `undefined`).
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_RESPONSE_BYTES: number = internal.MAX_RESPONSE_BYTES

/**
 * A request as a transport sends it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Request {
  readonly method: string
  /** Absolute, `http:` or `https:`. */
  readonly url: string
  /** Sent as they are (lower-case names). */
  readonly headers: Readonly<Record<string, string>>
  /** Sent as UTF-8. */
  readonly body: string
  /**
   * The deadline of the whole request, until the last byte of the response; on expiry it fails with
   * {@link TIMEOUT_CODE}. Any positive number: a transport whose timers take less (Node's: up to 2^31 - 1 ms) clamps it.
   */
  readonly timeoutMillis: number
}

/**
 * An upload as a transport sends it: a `POST` of `form` as `multipart/form-data` (the transport writes the
 * `content-type` with its boundary).
 *
 * @since 0.1.0
 * @category models
 */
export interface Upload {
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly form: FormData
  readonly timeoutMillis: number
}

/**
 * A response, read.
 *
 * @since 0.1.0
 * @category models
 */
export interface Response {
  readonly status: number
  readonly contentType: string | undefined
  readonly retryAfter: string | undefined
  /** The body decoded as UTF-8; `undefined` when it exceeded {@link MAX_RESPONSE_BYTES} (the rest is not read). */
  readonly body: string | undefined
}

/**
 * Why a request failed. `cause` says what happened: an error whose chain (`cause` after `cause`) carries the system
 * or undici `code`, and `requestSent: boolean` when the transport knows whether any byte of the request may have been
 * written. `false` is a proof that nothing was written (never connected, refused before a connection carried it),
 * which lets the client retry; `true` as soon as the request was handed to a connection. When it is set the client
 * believes it whatever the `code`; without it the failure is judged by its code ({@link neverSentCodes}). `status` is
 * set when the response's status had arrived and reading its body failed.
 *
 * @since 0.1.0
 * @category models
 */
export interface Failure {
  readonly cause: unknown
  readonly status?: number | undefined
  readonly contentType?: string | undefined
}

/**
 * What a transport offers. The client builds the effects once per send and runs them once per attempt, so a request
 * must be made when its effect runs, not when the function is called, and calling the function must not throw.
 * Interrupting the effect aborts the request. A failure belongs in the error channel; a defect is taken for a broken
 * transport (an ambiguous `TransportError`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Sends a request and reads its response, within `request.timeoutMillis`. */
  readonly send: (request: Request) => Effect.Effect<Response, Failure>
  /** Uploads a form and reads the response, within `upload.timeoutMillis`. */
  readonly upload: (upload: Upload) => Effect.Effect<Response, Failure>
  /** The `HttpClient` the transport was made from: what a `transformClient` wraps. */
  readonly httpClient: HttpClient.HttpClient
  /**
   * Whether the transport records a span of its own per request, nested under the current span: the client then
   * makes its send span the current one (which costs a copy of the fiber's context per send), otherwise not.
   */
  readonly tracesRequests: boolean
}

/**
 * The transport the Kaleyra client sends through.
 *
 * @since 0.1.0
 * @category tags
 */
export class KaleyraTransport
  extends Context.Tag("@effect-kaleyra/core/KaleyraTransport")<KaleyraTransport, Service>()
{}

/**
 * The generic transport over any `HttpClient`: each request is an `HttpClientRequest` through `execute`, raced
 * against its deadline, its response read up to {@link MAX_RESPONSE_BYTES}. It records an `http.client` span per
 * request in place of the platform's, with the values of redacted request headers (the API key) scrubbed from what a
 * server echoes back, and sends no trace headers to Kaleyra.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromHttpClient: (httpClient: HttpClient.HttpClient) => Service = internal.fromHttpClient

/**
 * {@link fromHttpClient} over the `HttpClient` in context.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<KaleyraTransport, never, HttpClient.HttpClient> = Layer.effect(
  KaleyraTransport,
  Effect.map(HttpClient.HttpClient, fromHttpClient)
)
