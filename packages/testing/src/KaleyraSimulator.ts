/**
 * A faithful simulator of Kaleyra's WhatsApp API v2: it checks requests in the order Kaleyra does, answers every
 * response of the specification with its exact body, keeps a balance and a daily count, knows which sender numbers
 * exist, issues deterministic message and media ids, records what it received, and can be scripted (`failNext`,
 * per-recipient scenarios) to answer any failure or fault.
 *
 * Routes: `POST /v2/{sid}/whatsapp/{senderNumber}/messages` (send media) and
 * `POST /v2/{sid}/whatsapp/{senderNumber}/media` (upload: multipart `file` + `type`).
 *
 * Checks, in order: the route (404), the method (405), the `api-key` header and the SID (401 `RBC001`), the account
 * (401 `WA-401` `account`), the sender number (401 `WA-401` `phone_number` for another API version, 401 `WA401` when
 * not registered), for uploads a prepaid account (401 `WA-401` `account`), then scripted failures, then the payload
 * (400 `WA400`), the balance (400 `E110`) and the daily limit (`WAV2101`).
 *
 * The behaviour is a pure request handler (`handle`), so it runs in memory (see `KaleyraTest`), behind an
 * `@effect/platform` server (`app`), or behind any other server.
 *
 * Faults of the network, of a gateway or of the answer ({@link Fault}: latency, resets before or after the body,
 * silence, a dripped body, HTML gateway pages, bad JSON, 429s, `WA500`, a huge body) are injected per request
 * (`injectNext`) or drawn at fixed rates from a seeded generator (`setFaultRates`, `seed`): deterministic, no
 * `Math.random`. Transport-level faults come out of `handle` as `SimResponse.fault`, for the transport to perform.
 * `stats` counts requests, faults and accepted messages (exactly those Kaleyra would have processed), and
 * `acceptedRefs` how many times each `extra_info.ref` was accepted, so that a test can prove nothing was sent twice.
 *
 * Where Kaleyra's documentation is silent, the simulator makes a documented choice:
 *
 * - `WAV2101` (daily limit) answers HTTP 403 with `{"code":"WAV2101","message":...,"data":{},"error":{"limit":...}}`.
 * - HTTP 429 answers `{"message":"Too Many Requests"}`, with `Retry-After` (seconds) when given.
 * - Unknown routes answer 404 `{"message":"Not Found"}`; other methods than POST answer 405
 *   `{"message":"Method Not Allowed"}` with `Allow: POST`.
 * - The payload check is strict: an unknown key in the body, in `messaging_object`, in the media object or in
 *   `extra_info` is a `WA400` (Meta refuses unknown parameters; it also catches client bugs).
 * - A `caption` longer than 1024 code points is a `WA400` (Meta's limit). `ref`, `ref1` and `ref2` longer than 255
 *   code points are truncated and an unknown `wa_source` becomes `"api"`, as Kaleyra documents.
 * - The balance and the daily limit count one message per recipient; uploads cost nothing.
 * - An upload answers 200 `{"id":"<media id>"}` (Meta's shape; Kaleyra documents none). The `type` field must be a
 *   MIME type of core's `MediaFile.supportedTypes` and the file within its size limit, or it is a `WA400`.
 * - With the `callbacks` option, every accepted message gets its status callbacks (`sent`, `delivered`, `read`, or
 *   `failed` for a media Meta could not fetch): see `CallbackOptions` for the rules and `makeScoped`.
 * - Template messages (`type: "template"`) are checked structurally like media bodies (a `WA400` when malformed).
 *   With the `templates` and `window` options, Meta's verdicts on templates and on free-form messages outside the
 *   24-hour window come back as `failed` callbacks (see `SimulatorTemplates`).
 *
 * This module holds the models and the entry points; the behaviour lives in `internal/simulator/`, one module per
 * concept: `handler` (the checks in order), `oracle` (the payload check), `responses`, `faults`, `scripts`, `state`,
 * `conversations`, `callbacks` and `scheduler`, `server` (the `HttpApp`), `simulator` (the parts assembled).
 *
 * @since 0.1.0
 */
import type * as MediaMessage from "@effect-kaleyra/core/MediaMessage"
import type * as HttpApp from "@effect/platform/HttpApp"
import type * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as internalCallbacks from "./internal/simulator/callbacks.js"
import * as internalFaults from "./internal/simulator/faults.js"
import * as internalResponses from "./internal/simulator/responses.js"
import * as internalServer from "./internal/simulator/server.js"
import * as internal from "./internal/simulator/simulator.js"
import * as internalState from "./internal/simulator/state.js"
import type * as SimulatorTemplates from "./SimulatorTemplates.js"

// ---------------------------------------------------------------------------------------------------------------
// Models
// ---------------------------------------------------------------------------------------------------------------

/**
 * A request as the simulator sees it.
 *
 * @since 0.1.0
 * @category models
 */
export interface SimRequest {
  readonly method: string
  /** The pathname, with an optional `?query`. */
  readonly path: string
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>
  readonly body: Uint8Array
  /**
   * The fault already drawn for this request with `Simulator.unsafeDrawFault` (a server draws it when the request's
   * head arrives, so that it can reset the connection before reading the body); `null`: drawn, none. When absent,
   * `handle` draws it.
   */
  readonly fault?: DrawnFault | null | undefined
}

/**
 * What a transport must do instead of (or on top of) sending the answer as it is. See {@link Fault}.
 *
 * - `reset`: destroy the connection without answering. `before-body`: the request's body was never read (Kaleyra did
 *   not receive it); `after-body`: it was read and processed (and, when valid, accepted).
 * - `silent`: never answer (the client's timeout ends the exchange).
 * - `latency`: send the answer after `millis`.
 * - `drip`: send the status and headers at once, then the body a few bytes at a time over `millis`.
 * - `huge`: status 200 and a body of `bytes` bytes ({@link hugeBodyChunks}), with a `content-length` unless
 *   `chunked`.
 *
 * @since 0.1.0
 * @category models
 */
export type TransportFault =
  | { readonly kind: "reset"; readonly phase: "before-body" | "after-body" }
  | { readonly kind: "silent" }
  | { readonly kind: "latency"; readonly millis: number }
  | { readonly kind: "drip"; readonly millis: number }
  | { readonly kind: "huge"; readonly bytes: number; readonly chunked: boolean }

/**
 * The simulator's answer.
 *
 * @since 0.1.0
 * @category models
 */
export interface SimResponse {
  /** The status; `0` when nothing is answered (a `reset` or `silent` fault). */
  readonly status: number
  /** Header names in lower case (`content-type`, and `retry-after` / `allow` where relevant). */
  readonly headers: Readonly<Record<string, string>>
  /** The body (for a `huge` fault: empty, the transport generates it). */
  readonly body: string
  /** A transport-level fault to perform: absent for an ordinary answer. */
  readonly fault?: TransportFault | undefined
}

/**
 * A new simulator's account (SID, API key, sender numbers, plan, balance, daily limit), callbacks, faults and seed.
 * @since 0.1.0
 * @category models
 */
export interface SimulatorOptions {
  /** The account SID (default `HXAP16XXXXXX97IN`). */
  readonly sid?: string
  /** The API key expected in the `api-key` header (default `sim-api-key`). */
  readonly apiKey?: string
  /** The registered business numbers, digits only (default `["919999999999"]`). */
  readonly senderNumbers?: ReadonlyArray<string>
  /** Numbers registered on another version of the WhatsApp API: 401 `WA-401` with `error.phone_number`. */
  readonly otherVersionNumbers?: ReadonlyArray<string>
  /** `"unavailable"`: every call answers 401 `WA-401` with `error.account` (default `"postpaid"`). */
  readonly account?: "postpaid" | "prepaid" | "unavailable"
  /** The starting balance (default 1 000 000); each accepted message spends 1 per recipient. */
  readonly balance?: number
  /**
   * Messages (one per recipient) accepted per UTC day of the `Clock` (the `TestClock` in tests) before `WAV2101`.
   * No limit by default.
   */
  readonly dailyLimit?: number
  /**
   * How many requests, accepted messages and uploads are kept for `requests`, `sent` and `uploads` (the most recent
   * ones; default 10 000; 0 keeps nothing, for benchmarks), so that a long run does not grow without bound.
   */
  readonly historyLimit?: number
  /**
   * Status callbacks, as Kaleyra sends them to the callback profile of the business number: for every accepted
   * message and every recipient, `sent`, then `delivered`, then `read` (or `sent`, then `failed` for a media Meta
   * could not fetch), in the v2 envelope of {@link statusCallback}. See {@link CallbackOptions}. Scheduled callbacks
   * are tied to the simulator's scope with {@link makeScoped} (and the layers and servers built on it).
   */
  readonly callbacks?: CallbackOptions | undefined
  /** The probability of each {@link Fault} per request from the start (see `Simulator.setFaultRates`). */
  readonly faultRates?: FaultRates | undefined
  /** The seed of the generator that draws faults from their rates (default 1): the same seed, the same draws. */
  readonly seed?: number | undefined
  /** The default parameters of the faults (delays, `Retry-After`, size). */
  readonly faults?: FaultOptions | undefined
  /**
   * Whether to count accepted messages per `extra_info.ref` (`Simulator.acceptedRefs`, `stats.duplicateRefs`;
   * default `true`). Turn it off for very long runs with unique refs: the counts grow with the number of refs.
   */
  readonly countRefs?: boolean | undefined
  /**
   * The registered templates (see `SimulatorTemplates`): a template message that does not match one (name and
   * language, header type, body parameter count, status) is accepted, then fails by callback with Meta's code
   * (132000, 132001, 132012, 132015, 132016). Without this option, every valid template message is delivered.
   */
  readonly templates?: ReadonlyArray<SimulatorTemplates.RegisteredTemplate> | undefined
  /**
   * Enforces the 24-hour customer-service window (off by default): a free-form media message to a recipient who has
   * not written to the business in the last 24 hours of the `Clock` (`conversations.receiveFrom`) is accepted, then
   * fails by callback with Meta's 131047. Template messages are delivered whatever the window.
   */
  readonly window?: boolean | undefined
}

/**
 * The options after defaults.
 *
 * @since 0.1.0
 * @category models
 */
export interface ResolvedOptions {
  readonly sid: string
  readonly apiKey: string
  readonly senderNumbers: ReadonlyArray<string>
  readonly otherVersionNumbers: ReadonlyArray<string>
  readonly account: "postpaid" | "prepaid" | "unavailable"
  readonly balance: number
  readonly dailyLimit: number | undefined
  readonly historyLimit: number
  readonly seed: number
  readonly faults: ResolvedFaultOptions
  readonly countRefs: boolean
}

/**
 * A failure or fault the simulator can be told to answer.
 *
 * - `RBC001`, `WA401`, `WA400`, `WA500`, `E110`, `WA-401-account`, `WA-401-phone_number`: the specification's
 *   bodies and statuses exactly.
 * - `WAV2101`: 403, the daily limit.
 * - `429`: too many requests (with `Retry-After` when `retryAfter` is given).
 * - `503-html`, `502-html`: a gateway's HTML page with that status.
 * - `invalid-json`: status 200 and a truncated body (`{"code":"WA202",`); `empty-body`: status 202 and no body.
 *   These two are faults on the way back: the request is processed normally (and, when valid, accepted: the
 *   message is in `sent` and the balance is spent); only the answer is mangled.
 *
 * @since 0.1.0
 * @category models
 */
export type FailCode =
  | "RBC001"
  | "WA401"
  | "WA400"
  | "WA500"
  | "E110"
  | "WA-401-account"
  | "WA-401-phone_number"
  | "WAV2101"
  | "429"
  | "503-html"
  | "502-html"
  | "invalid-json"
  | "empty-body"

/**
 * Every {@link FailCode}.
 *
 * @since 0.1.0
 * @category constants
 */
export const failCodes: ReadonlyArray<FailCode> = internalResponses.failCodes

/**
 * A message the simulator accepted.
 *
 * @since 0.1.0
 * @category models
 */
export interface SentMessage {
  /** The id returned in `data.message_id`. */
  readonly messageId: string
  /** The sender number of the path, digits only. */
  readonly senderNumber: string
  /** The recipients, in E.164 (`+` added when the request left it out), in the order given. */
  readonly recipients: ReadonlyArray<string>
  readonly type: MediaMessage.MessageType
  /** The body as received (parsed JSON). */
  readonly body: unknown
  /** The body decoded with core's `SendMediaRequest.fromWireBody`, when it decodes (`undefined` otherwise). */
  readonly message: MediaMessage.MediaMessage | undefined
  /** `extra_info` as Kaleyra stores it: refs truncated to 255 characters, an unknown `wa_source` replaced by `api`. */
  readonly extraInfo?: MediaMessage.ExtraInfo
}

/**
 * A media file the simulator accepted on `POST /v2/{sid}/whatsapp/{senderNumber}/media`.
 *
 * @since 0.1.0
 * @category models
 */
export interface UploadedMedia {
  /** The media id returned (`{"id": ...}`), to send with. */
  readonly id: string
  readonly senderNumber: string
  /** The `type` form field. */
  readonly mimeType: string
  readonly mediaType: MediaMessage.MediaType
  /** The file name of the `file` part. */
  readonly filename: string
  readonly size: number
  readonly data: Uint8Array
}

/**
 * A request the simulator received, whatever its outcome.
 *
 * @since 0.1.0
 * @category models
 */
export interface RecordedRequest {
  readonly method: string
  readonly path: string
  /** The request headers, the `api-key` value replaced by `<redacted>`. */
  readonly headers: Readonly<Record<string, string>>
  /** The body as text (UTF-8, invalid sequences replaced). */
  readonly body: string
  /** The status the simulator answered. */
  readonly status: number
}

/**
 * Options of `failNext`: how many requests fail, and a 429's `Retry-After`.
 * @since 0.1.0
 * @category models
 */
export interface FailNextOptions {
  /** How many consecutive requests fail (default 1; `Infinity`: every request until `reset`). */
  readonly times?: number
  /** For `429`: the `Retry-After` header, in seconds. */
  readonly retryAfter?: number
}

/**
 * A fault of the network, of a gateway in front of Kaleyra, or of Kaleyra's answer: injected with
 * `Simulator.injectNext`, or drawn at random (deterministically, from `seed`) with `Simulator.setFaultRates`. A fault
 * is decided before anything else (the route, the credentials, `failNext`): it happens in front of Kaleyra.
 *
 * "Accepted" means the request is processed as usual, so a valid message is accepted (charged, in `sent`, counted in
 * `stats.accepted`, its status callbacks scheduled); "not accepted" means Kaleyra never processed it.
 *
 * - `latency`: the answer is sent after `latencyMillis`. Accepted.
 * - `reset-before-body`: the connection is reset before the request's body is read. Not accepted.
 * - `reset-after-body`: the body is read and processed, then the connection is reset without an answer. Accepted:
 *   the client cannot know it.
 * - `silent`: the request is read and never answered, as when a load balancer holds the connection and loses the
 *   request. Not accepted.
 * - `drip`: the status and headers at once, then the body a few bytes at a time over `dripMillis`. Accepted.
 * - `html-502`, `html-503`, `html-504`: a gateway's HTML page with that status. Not accepted.
 * - `truncated-json`: 202 and the accepted body cut in half. Accepted.
 * - `malformed-json`: 500 and `{"code":` (not JSON). Not accepted.
 * - `empty-body`: 202 and no body. Accepted.
 * - `unexpected-2xx`: 200 and `{"status":"ok"}` (no message id). Accepted.
 * - `429`: 429 without `Retry-After`; `429-retry-after`: 429 with `Retry-After: retryAfter`. Not accepted.
 * - `WA500`: the specification's 500 `WA500`. Not accepted.
 * - `huge-response`: 200 and a body of `hugeBytes` (over 10 MB by default). Accepted.
 *
 * `truncated-json`, `empty-body`, `unexpected-2xx` and `huge-response` replace a 2xx answer only: a request Kaleyra
 * refuses (a `WA400`, a wrong key) gets its usual error. `latency`, `drip` and `reset-after-body` apply to whatever the
 * answer is. The transport-level faults (`reset-*`, `silent`, `latency`, `drip`, `huge-response`) come out of `handle`
 * as {@link SimResponse.fault}: the node package's server performs them on the socket, `KaleyraTest`'s in-memory
 * transport imitates them on the `Clock`.
 *
 * @since 0.1.0
 * @category models
 */
export type Fault =
  | "latency"
  | "reset-before-body"
  | "reset-after-body"
  | "silent"
  | "drip"
  | "html-502"
  | "html-503"
  | "html-504"
  | "truncated-json"
  | "malformed-json"
  | "empty-body"
  | "unexpected-2xx"
  | "429"
  | "429-retry-after"
  | "WA500"
  | "huge-response"

/**
 * Every {@link Fault}, in the order the rates are drawn in.
 *
 * @since 0.1.0
 * @category constants
 */
export const faults: ReadonlyArray<Fault> = internalFaults.faults

/**
 * Whether a fault leaves the message accepted (when it is valid): see {@link Fault}.
 *
 * @since 0.1.0
 * @category predicates
 */
export const faultAccepts: (fault: Fault) => boolean = internalFaults.faultAccepts

/**
 * The probability (from 0 to 1) of each fault, per request. One number is drawn per request and the faults are
 * tried in the order of {@link faults}, so at most one fault hits a request; when the rates add up to more than 1,
 * the last ones get less than asked.
 *
 * @since 0.1.0
 * @category models
 */
export type FaultRates = { readonly [F in Fault]?: number }

/**
 * The parameters of the faults.
 *
 * @since 0.1.0
 * @category models
 */
export interface FaultOptions {
  /** The delay of `latency`, in milliseconds (default 100). */
  readonly latencyMillis?: number | undefined
  /** How long `drip` takes to send the body, in milliseconds (default 1 000). */
  readonly dripMillis?: number | undefined
  /** The `Retry-After` of `429-retry-after`, in seconds (default 1). */
  readonly retryAfter?: number | undefined
  /** The body size of `huge-response`, in bytes (default 10 MiB + 1 KiB: over 10 MB). */
  readonly hugeBytes?: number | undefined
  /** Whether `huge-response` leaves out `content-length` (chunked encoding; default `false`). */
  readonly hugeChunked?: boolean | undefined
}

/**
 * The parameters of the faults after defaults.
 *
 * @since 0.1.0
 * @category models
 */
export interface ResolvedFaultOptions {
  readonly latencyMillis: number
  readonly dripMillis: number
  readonly retryAfter: number
  readonly hugeBytes: number
  readonly hugeChunked: boolean
}

/**
 * A fault drawn for one request, with its parameters.
 *
 * @since 0.1.0
 * @category models
 */
export interface DrawnFault extends ResolvedFaultOptions {
  readonly fault: Fault
}

/**
 * Options of `injectNext`: the fault's options, and how many requests get it.
 * @since 0.1.0
 * @category models
 */
export interface InjectNextOptions extends FaultOptions {
  /** How many consecutive requests get the fault (default 1; `Infinity`: every request until `reset`). */
  readonly times?: number | undefined
}

/**
 * What the simulator counted since it was built or `reset`.
 *
 * @since 0.1.0
 * @category models
 */
export interface SimulatorStats {
  /** Requests handled, whatever their outcome (faulted ones included). */
  readonly requests: number
  /** Messages accepted (charged): exactly the messages Kaleyra would have processed. */
  readonly accepted: number
  /** Media files accepted for upload. */
  readonly uploads: number
  /** How many requests each fault hit. */
  readonly faults: { readonly [F in Fault]: number }
  /** How many `extra_info.ref` values were accepted more than once (see `SimulatorOptions.countRefs`). */
  readonly duplicateRefs: number
}

/**
 * The simulator.
 *
 * @since 0.1.0
 * @category models
 */
export interface Simulator {
  /**
   * Answers one request, as Kaleyra would. Never fails. Sends are answered synchronously;
   * uploads parse their multipart body asynchronously. The request's `headers` object is kept for `requests`: do not
   * mutate it afterwards.
   */
  readonly handle: (request: SimRequest) => Effect.Effect<SimResponse>
  /**
   * The same behaviour as an `@effect/platform` `HttpApp`, for servers; faults are performed as
   * {@link performServerResponse} describes.
   */
  readonly app: HttpApp.Default
  readonly options: ResolvedOptions
  /**
   * The next requests that reach the scripted step (after the route, the credentials, the account and the sender
   * number were checked) answer `code`; calls queue up in order. `"WA-401"` alone (as the seed writes it) is the
   * account variant; an unknown code is a defect that names the known ones.
   */
  readonly failNext: (code: FailCode | "WA-401", options?: FailNextOptions) => Effect.Effect<void>
  /** Any send with `recipient` (E.164, `+` optional) among its recipients answers `code`, until `reset`. */
  readonly setScenario: (recipient: string, code: FailCode | "WA-401") => Effect.Effect<void>
  /** Removes the scenario of `recipient`. */
  readonly clearScenario: (recipient: string) => Effect.Effect<void>
  readonly setBalance: (balance: number) => Effect.Effect<void>
  readonly balance: Effect.Effect<number>
  /** The accepted messages, in order. */
  readonly sent: Effect.Effect<ReadonlyArray<SentMessage>>
  /** The media files uploaded (`POST .../media`), in order. */
  readonly uploads: Effect.Effect<ReadonlyArray<UploadedMedia>>
  /** Every request received, in order. */
  readonly requests: Effect.Effect<ReadonlyArray<RecordedRequest>>
  /**
   * Back to the initial state: balance, ids, daily count, history, scripted failures and scenarios, injected faults,
   * fault rates (those of the options) and their generator (re-seeded), stats and ref counts; pending status
   * callbacks are cancelled and their counters zeroed.
   */
  readonly reset: Effect.Effect<void>
  /** Status callbacks delivered (see {@link SimulatorOptions.callbacks}): one per recipient and status. */
  readonly callbacksDelivered: Effect.Effect<number>
  /** Status callbacks that could not be delivered (an error, a non-2xx answer, a timeout). Never retried. */
  readonly callbackFailures: Effect.Effect<number>
  /** Waits until every status callback scheduled so far has been delivered or has failed. */
  readonly awaitCallbacks: Effect.Effect<void>
  /**
   * The next requests get `fault` (see {@link Fault}), before any rate is drawn. Calls queue up in order. The options
   * override the simulator's fault parameters for these requests.
   */
  readonly injectNext: (fault: Fault, options?: InjectNextOptions) => Effect.Effect<void>
  /**
   * Replaces the fault rates (a fault not named gets 0; `{}` turns them off). Draws are deterministic: they come
   * from a generator seeded with `SimulatorOptions.seed`, one number per request.
   */
  readonly setFaultRates: (rates: FaultRates) => Effect.Effect<void>
  /** Counts of requests, accepted messages and faults. */
  readonly stats: Effect.Effect<SimulatorStats>
  /** How many times each `extra_info.ref` was accepted (empty when `countRefs` is off). A copy. */
  readonly acceptedRefs: Effect.Effect<ReadonlyMap<string, number>>
  /**
   * Draws the fault of the next request (the queue of `injectNext` first, then the rates), for a server that wants
   * to act before reading the request's body: pass the result as {@link SimRequest.fault} to `handle` (`null` for
   * none), which counts it. `undefined`: none.
   */
  readonly unsafeDrawFault: () => DrawnFault | undefined
  /** The recipients' 24-hour windows, the registered templates, scripted delivery failures (`SimulatorTemplates`). */
  readonly conversations: SimulatorTemplates.Conversations
}

/**
 * The simulator as a service.
 *
 * @since 0.1.0
 * @category tags
 */
export class KaleyraSimulator extends Context.Tag("@effect-kaleyra/testing/KaleyraSimulator")<
  KaleyraSimulator,
  Simulator
>() {}

/**
 * The body of a `huge-response` fault, generated lazily in chunks of at most `chunkSize` bytes: a JSON object of
 * exactly `bytes` bytes (`{"code":"WA202",...,"padding":"xxxx…"}`), without a message id.
 *
 * @since 0.1.0
 * @category constructors
 */
export const hugeBodyChunks: (bytes: number, chunkSize?: number) => Generator<Uint8Array> =
  internalFaults.hugeBodyChunks

/**
 * The deterministic message id number `n` (1-based): `wamid.SIM` and `n` on 20 digits. A fresh simulator issues the
 * same ids, in the same order, on every run.
 *
 * @since 0.1.0
 * @category constructors
 */
export const messageId: (n: number) => string = internalState.messageId

/**
 * The deterministic media id number `n` (1-based), numeric like Meta's: `1` and `n` on 15 digits.
 *
 * @since 0.1.0
 * @category constructors
 */
export const mediaId: (n: number) => string = internalState.mediaId

/**
 * Builds a simulator with its own state. With `callbacks`, prefer {@link makeScoped}: here the scheduled callbacks
 * are not tied to a scope (they run until delivered, or until `reset`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: SimulatorOptions = {}): Effect.Effect<Simulator> => internal.make(options)

/**
 * Builds a simulator outside of `Effect` (for servers and benchmarks that construct it at start-up). With
 * `callbacks`, prefer {@link makeScoped}: here the scheduled callbacks are not tied to a scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const unsafeMake = (options: SimulatorOptions = {}): Simulator => internal.unsafeMake(options)

/**
 * Builds a simulator whose status callbacks (see {@link SimulatorOptions.callbacks}) belong to the scope: when it
 * closes, the callbacks still pending are cancelled and no new ones are scheduled. Without `callbacks`, the same as
 * {@link make}.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeScoped = (options: SimulatorOptions = {}): Effect.Effect<Simulator, never, Scope.Scope> =>
  internal.makeScoped(options)

/**
 * A simulator answer as an `HttpServerResponse` (its `fault`, if any, is ignored: see {@link performServerResponse}).
 *
 * @since 0.1.0
 * @category conversions
 */
export const toServerResponse: (response: SimResponse) => HttpServerResponse.HttpServerResponse =
  internalServer.toServerResponse

/**
 * A simulator answer as an `HttpServerResponse`, its transport-level fault performed as closely as an `HttpApp` can:
 * `latency` delays the response and `silent` never completes (on the `Clock`); `drip` streams the body a few bytes at
 * a time; `huge` streams its generated body (pulled as the server writes it); a `reset` interrupts the handler, which
 * a platform server turns into an aborted or failed response (an `HttpApp` cannot reset its socket: serve the
 * simulator with `@effect-kaleyra/testing/SimulatorServer` for real resets). An ordinary answer is {@link toServerResponse}.
 *
 * @since 0.1.0
 * @category conversions
 */
export const performServerResponse: (
  response: SimResponse
) => Effect.Effect<HttpServerResponse.HttpServerResponse> = internalServer.performServerResponse

/**
 * The bodies the simulator answers with for each {@link FailCode} (statuses and exact bodies), e.g. to serve them
 * from another server or to compare with.
 *
 * @since 0.1.0
 * @category constants
 */
export const responses: Readonly<Record<FailCode, SimResponse>> = internalResponses.RESPONSES

/**
 * The options of {@link statusCallback}.
 *
 * @since 0.1.0
 * @category models
 */
export interface StatusCallbackOptions {
  /** The recipient the status is for (default: the message's first recipient). */
  readonly recipient?: string
  /** Seconds since the epoch (default 1 700 000 000, so that payloads are deterministic). */
  readonly timestamp?: number
  /** Meta's errors, for `failed` (default: one `131053` "Media upload error" for a failed status). */
  readonly errors?: ReadonlyArray<{
    readonly code: number
    readonly title: string
    readonly message?: string
    readonly details?: string
  }>
}

/**
 * The v2 status callback Kaleyra would POST for an accepted message (the `meta_object` envelope of
 * `kaleyra-api.md` section 5.2, with the message's refs in `extra_info`): feed it to
 * `KaleyraEvents.ingestPayload`, or POST it to a callback receiver. Deterministic for the same inputs.
 *
 * @since 0.1.0
 * @category callbacks
 */
export const statusCallback: (
  sent: SentMessage,
  status: "sent" | "delivered" | "read" | "failed",
  options?: StatusCallbackOptions
) => Record<string, unknown> = internalCallbacks.statusCallback

/**
 * When each status callback is sent, counted from the moment the message was accepted (defaults: `sent` 50 ms,
 * `delivered` 100 ms, `read` 150 ms). They are measured on the Effect `Clock`, so that the `TestClock` drives them
 * in tests. A later status never goes before an earlier one (a smaller delay is raised to the previous one). A
 * failed message gets `failed` at the `delivered` delay.
 *
 * @since 0.1.0
 * @category models
 */
export interface CallbackDelays {
  readonly sent?: Duration.DurationInput | undefined
  readonly delivered?: Duration.DurationInput | undefined
  readonly read?: Duration.DurationInput | undefined
}

/**
 * Delivers one callback: `body` is the payload (a plain JSON value), `headers` the request headers (`content-type`,
 * and the secret header when a secret is set). A failure or a defect counts as a failed delivery.
 *
 * @since 0.1.0
 * @category models
 */
export type DeliverCallback = (
  url: string,
  body: unknown,
  headers: Readonly<Record<string, string>>
) => Effect.Effect<unknown, unknown>

/**
 * The status callbacks of a simulator.
 *
 * For every accepted message (whether or not its answer was garbled by a fault: Kaleyra accepted it) and every
 * recipient, the simulator sends `sent`, `delivered` and `read`, in the v2 envelope of {@link statusCallback}: the
 * message's refs in `extra_info`, the top-level `message_id` the send returned, the `Clock`'s time as `timestamp`.
 *
 * The media decides whether Meta can deliver the message. It fails (`sent`, then `failed` with Meta's error
 * `131053` "Media upload error", see {@link mediaUploadError}) when:
 *
 * - the media is a `link` whose path ends in `/404` (e.g. `https://example.com/files/404`; the query and fragment
 *   are not looked at);
 * - the media is an `id` this simulator did not issue: only `mediaId(n)` for an upload `n` it accepted since its last
 *   `reset` is known (whichever sender number uploaded it). Any other id, even a well-formed one such as Meta's
 *   example `1013859600285441`, is unknown.
 *
 * Delivery: `deliver` when given (e.g. straight into `KaleyraEvents.ingestPayload` in memory), otherwise a POST of
 * the JSON body to `url` with the global `fetch` ({@link deliverWithFetch}). Deliveries are not retried; failures
 * are counted (`Simulator.callbackFailures`) and never affect the simulator.
 *
 * @since 0.1.0
 * @category models
 */
export interface CallbackOptions {
  /** Where to send the callbacks (the callback receiver's URL). */
  readonly url: string
  /** A shared secret, sent in the `secretHeader` header of every callback. */
  readonly secret?: string | Redacted.Redacted<string> | undefined
  /** The header that carries the secret (default `x-kaleyra-secret`, the callback receiver's default). */
  readonly secretHeader?: string | undefined
  readonly delays?: CallbackDelays | undefined
  /** Delivers each callback instead of `fetch`. */
  readonly deliver?: DeliverCallback | undefined
  /** How long the default `fetch` delivery waits for an answer (default 10 seconds). */
  readonly timeout?: Duration.DurationInput | undefined
}

/**
 * The default delays of the status callbacks.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultCallbackDelays: {
  readonly sent: Duration.Duration
  readonly delivered: Duration.Duration
  readonly read: Duration.Duration
} = internalCallbacks.defaultCallbackDelays

/**
 * The header that carries the callback secret by default (the same default as the node package's callback
 * receiver).
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultSecretHeader = internalCallbacks.defaultSecretHeader

/**
 * A Meta error of a `failed` status callback.
 *
 * @since 0.1.0
 * @category models
 */
export interface MediaFailure {
  readonly code: number
  readonly title: string
  readonly message?: string
  readonly details?: string
}

/**
 * Meta's error for a media it could not fetch or find (`131053` "Media upload error"), as the simulator reports it.
 *
 * @since 0.1.0
 * @category constants
 */
export const mediaUploadError: (details: string) => MediaFailure = internalCallbacks.mediaUploadError

/**
 * The default delivery: a POST of the JSON body to the URL with the global `fetch`. An answer other than 2xx, a
 * network error or no answer within `timeout` (default 10 seconds) fails.
 *
 * @since 0.1.0
 * @category callbacks
 */
export const deliverWithFetch: (
  options?: { readonly timeout?: Duration.DurationInput | undefined }
) => DeliverCallback = internalCallbacks.deliverWithFetch
