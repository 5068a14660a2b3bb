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
 * @since 0.1.0
 */
import * as MediaFile from "@effect-kaleyra/core/MediaFile"
import * as MediaMessage from "@effect-kaleyra/core/MediaMessage"
import * as SendMediaRequest from "@effect-kaleyra/core/SendMediaRequest"
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as SimulatorTemplates from "./SimulatorTemplates.js"

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
export const failCodes: ReadonlyArray<FailCode> = [
  "RBC001",
  "WA401",
  "WA400",
  "WA500",
  "E110",
  "WA-401-account",
  "WA-401-phone_number",
  "WAV2101",
  "429",
  "503-html",
  "502-html",
  "invalid-json",
  "empty-body"
]

const canonicalFailCode = (code: string): Effect.Effect<FailCode> => {
  const canonical = code === "WA-401" ? "WA-401-account" : code
  return (failCodes as ReadonlyArray<string>).includes(canonical)
    ? Effect.succeed(canonical as FailCode)
    : Effect.dieMessage(`unknown fail code ${JSON.stringify(code)}: one of ${failCodes.join(", ")}`)
}

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
export const faults: ReadonlyArray<Fault> = [
  "latency",
  "reset-before-body",
  "reset-after-body",
  "silent",
  "drip",
  "html-502",
  "html-503",
  "html-504",
  "truncated-json",
  "malformed-json",
  "empty-body",
  "unexpected-2xx",
  "429",
  "429-retry-after",
  "WA500",
  "huge-response"
]

/**
 * Whether a fault leaves the message accepted (when it is valid): see {@link Fault}.
 *
 * @since 0.1.0
 * @category predicates
 */
export const faultAccepts = (fault: Fault): boolean => {
  switch (fault) {
    case "latency":
    case "reset-after-body":
    case "drip":
    case "truncated-json":
    case "empty-body":
    case "unexpected-2xx":
    case "huge-response":
      return true
    default:
      return false
  }
}

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
   * Answers one request, as Kaleyra would. Never fails. Sends are answered synchronously (a few microseconds);
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
   * number were checked) answer `code`. Calls queue up in order.
   */
  /**
   * The next request(s) answer `code`. `"WA-401"` alone (as the seed writes it) is the account variant; an
   * unknown code is a defect that names the known ones.
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

// ---------------------------------------------------------------------------------------------------------------
// Responses (the specification's bodies, byte for byte)
// ---------------------------------------------------------------------------------------------------------------

const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({ "content-type": "application/json" })
const HTML_HEADERS: Readonly<Record<string, string>> = Object.freeze({ "content-type": "text/html" })

const failure = (code: string, message: string, key: string, detail: string, data: "{}" | "[]" = "{}") =>
  `{"code":${JSON.stringify(code)},"message":${JSON.stringify(message)},"data":${data},"error":{${
    JSON.stringify(key)
  }:${JSON.stringify(detail)}}}`

const jsonResponse = (status: number, body: string): SimResponse =>
  Object.freeze({ status, headers: JSON_HEADERS, body })

const gatewayPage = (status: number, title: string): SimResponse =>
  Object.freeze({
    status,
    headers: HTML_HEADERS,
    body: `<html>\r\n<head><title>${status} ${title}</title></head>\r\n<body>\r\n<center><h1>${status} ${title}</h1>` +
      `</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`
  })

const RESPONSES = {
  RBC001: jsonResponse(401, failure("RBC001", "Incorrect SID or API key.", "error", "Incorrect SID or API key.", "[]")),
  WA401: jsonResponse(
    401,
    failure(
      "WA401",
      "Phone number is not present or does not belong to the account.",
      "phone_number",
      "Phone number is not present or does not belong to the account."
    )
  ),
  WA400: jsonResponse(400, failure("WA400", "Refer to correct payload format", "payload", "Incorrect payload format")),
  WA500: jsonResponse(500, failure("WA500", "Please try again later", "error", "Internal server error")),
  E110: jsonResponse(
    400,
    failure(
      "E110",
      "Please check your balance, You have a low balance!",
      "balance",
      "Please check your balance, You have a low balance!"
    )
  ),
  "WA-401-account": jsonResponse(
    401,
    failure(
      "WA-401",
      "API is not available for given customer.Please contact support for more info",
      "account",
      "API is not available for given customer.Please contact support for more info"
    )
  ),
  "WA-401-phone_number": jsonResponse(
    401,
    failure(
      "WA-401",
      "The phone number you're using is associated with different Version of our WA API. Please use the appropriate endpoint.",
      "phone_number",
      "The phone number you're using is associated with different Version of our WA API. Please use the appropriate endpoint."
    )
  ),
  WAV2101: jsonResponse(
    403,
    failure(
      "WAV2101",
      "Daily message limit reached for the account. Please contact support to increase the limit.",
      "limit",
      "Daily message limit reached for the account."
    )
  ),
  "429": jsonResponse(429, `{"message":"Too Many Requests"}`),
  "503-html": gatewayPage(503, "Service Temporarily Unavailable"),
  "502-html": gatewayPage(502, "Bad Gateway"),
  "invalid-json": jsonResponse(200, `{"code":"WA202",`),
  "empty-body": jsonResponse(202, "")
} as const satisfies Record<FailCode, SimResponse>

const NOT_FOUND = jsonResponse(404, `{"message":"Not Found"}`)
const METHOD_NOT_ALLOWED: SimResponse = Object.freeze({
  status: 405,
  headers: Object.freeze({ "content-type": "application/json", allow: "POST" }),
  body: `{"message":"Method Not Allowed"}`
})

const accepted = (messageId: string): SimResponse => ({
  status: 202,
  headers: JSON_HEADERS,
  body: `{"code":"WA202","message":"Request Accepted","data":{"message_id":"${messageId}"},"error":{}}`
})

const responseOf = (code: FailCode, retryAfter: number | undefined): SimResponse =>
  code === "429" && retryAfter !== undefined
    ? {
      status: 429,
      headers: { "content-type": "application/json", "retry-after": String(Math.max(0, Math.floor(retryAfter))) },
      body: RESPONSES["429"].body
    }
    : RESPONSES[code]

const isGarble = (code: FailCode): boolean => code === "invalid-json" || code === "empty-body"

// ---------------------------------------------------------------------------------------------------------------
// Faults
// ---------------------------------------------------------------------------------------------------------------

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({})

const noAnswer = (fault: TransportFault): SimResponse =>
  Object.freeze({ status: 0, headers: NO_HEADERS, body: "", fault })

const RESET_BEFORE_BODY = noAnswer({ kind: "reset", phase: "before-body" })
const RESET_AFTER_BODY = noAnswer({ kind: "reset", phase: "after-body" })
const SILENT = noAnswer({ kind: "silent" })
const HTML_504 = gatewayPage(504, "Gateway Time-out")
const MALFORMED_JSON = jsonResponse(500, `{"code":`)
const UNEXPECTED_2XX = jsonResponse(200, `{"status":"ok"}`)

const HUGE_PREFIX = `{"code":"WA202","message":"Request Accepted","padding":"`
const HUGE_SUFFIX = `"}`

/**
 * The body of a `huge-response` fault, generated lazily in chunks of at most `chunkSize` bytes: a JSON object of
 * exactly `bytes` bytes (`{"code":"WA202",...,"padding":"xxxx…"}`), without a message id.
 *
 * @since 0.1.0
 * @category constructors
 */
export const hugeBodyChunks = function*(bytes: number, chunkSize: number = 64 * 1024): Generator<Uint8Array> {
  const total = Math.max(HUGE_PREFIX.length + HUGE_SUFFIX.length, Math.floor(bytes))
  const size = Math.max(1, Math.floor(chunkSize))
  const filler = new Uint8Array(size).fill(0x78) // "x"
  const head = new TextEncoder().encode(HUGE_PREFIX)
  const tail = new TextEncoder().encode(HUGE_SUFFIX)
  let offset = 0
  while (offset < total) {
    const length = Math.min(size, total - offset)
    if (length === size && offset >= head.length && offset + length <= total - tail.length) {
      // Only filler: the same bytes every time (never written to).
      yield filler
      offset += length
      continue
    }
    const chunk = new Uint8Array(length).fill(0x78)
    // The prefix and suffix overlap the first and last chunks (a chunk may hold both).
    for (let i = 0; i < head.length; i++) {
      const at = i - offset
      if (at >= 0 && at < length) chunk[at] = head[i]
    }
    for (let i = 0; i < tail.length; i++) {
      const at = total - tail.length + i - offset
      if (at >= 0 && at < length) chunk[at] = tail[i]
    }
    yield chunk
    offset += length
  }
}

const DEFAULT_FAULT_OPTIONS: ResolvedFaultOptions = Object.freeze({
  latencyMillis: 100,
  dripMillis: 1_000,
  retryAfter: 1,
  hugeBytes: 10 * 1024 * 1024 + 1024,
  hugeChunked: false
})

const nonNegative = (value: number | undefined, fallback: number): number =>
  value === undefined || !Number.isFinite(value) || value < 0 ? fallback : value

const resolveFaultOptions = (options: FaultOptions | undefined, base: ResolvedFaultOptions): ResolvedFaultOptions =>
  options === undefined ? base : {
    latencyMillis: nonNegative(options.latencyMillis, base.latencyMillis),
    dripMillis: nonNegative(options.dripMillis, base.dripMillis),
    retryAfter: Math.floor(nonNegative(options.retryAfter, base.retryAfter)),
    hugeBytes: Math.floor(nonNegative(options.hugeBytes, base.hugeBytes)),
    hugeChunked: options.hugeChunked ?? base.hugeChunked
  }

/** mulberry32: a small, fast, seeded generator of numbers in [0, 1). */
const makeGenerator = (seed: number) => {
  let state = seed >>> 0
  return (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

/** The cumulative thresholds of the rates, in the order of `faults` (capped at 1); empty when every rate is 0. */
const thresholdsOf = (rates: FaultRates | undefined): Array<readonly [Fault, number]> => {
  const out: Array<readonly [Fault, number]> = []
  if (rates === undefined) return out
  let sum = 0
  for (const fault of faults) {
    const rate = rates[fault]
    if (rate === undefined || !Number.isFinite(rate) || rate <= 0) continue
    sum = Math.min(1, sum + rate)
    out.push([fault, sum])
  }
  return out
}

/** A fault that is answered without processing the request. */
const answerOf = (drawn: DrawnFault): SimResponse | undefined => {
  switch (drawn.fault) {
    case "reset-before-body":
      return RESET_BEFORE_BODY
    case "silent":
      return SILENT
    case "html-502":
      return RESPONSES["502-html"]
    case "html-503":
      return RESPONSES["503-html"]
    case "html-504":
      return HTML_504
    case "malformed-json":
      return MALFORMED_JSON
    case "429":
      return RESPONSES["429"]
    case "429-retry-after":
      return responseOf("429", drawn.retryAfter)
    case "WA500":
      return RESPONSES.WA500
    default:
      return undefined
  }
}

const isSuccess = (response: SimResponse): boolean => response.status >= 200 && response.status < 300

/** A fault applied to the answer of a processed request. */
const applyFault = (drawn: DrawnFault, response: SimResponse): SimResponse => {
  switch (drawn.fault) {
    case "reset-after-body":
      return RESET_AFTER_BODY
    case "latency":
      return { ...response, fault: { kind: "latency", millis: drawn.latencyMillis } }
    case "drip":
      return { ...response, fault: { kind: "drip", millis: drawn.dripMillis } }
    case "truncated-json":
      return isSuccess(response)
        ? { status: 202, headers: JSON_HEADERS, body: response.body.slice(0, Math.floor(response.body.length / 2)) }
        : response
    case "empty-body":
      return isSuccess(response) ? RESPONSES["empty-body"] : response
    case "unexpected-2xx":
      return isSuccess(response) ? UNEXPECTED_2XX : response
    case "huge-response":
      return isSuccess(response)
        ? {
          status: 200,
          headers: JSON_HEADERS,
          body: "",
          fault: { kind: "huge", bytes: drawn.hugeBytes, chunked: drawn.hugeChunked }
        }
        : response
    default:
      return response
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Payload validation (hand-written: it is on the hot path)
// ---------------------------------------------------------------------------------------------------------------

type Json = Record<string, unknown>

const isObject = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)

const RECIPIENT = /^\+?[1-9][0-9]{7,14}$/
// eslint-disable-next-line no-control-regex
const WHITESPACE_OR_CONTROL = /[\s\u0000-\u001f\u007f-\u009f]/
const HTTP_LINK = /^https?:\/\/[^/?#]/i
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

const CAPTION_LIMIT = 1024
const REF_LIMIT = 255
const OPAQUE_LIMIT = 512

/** Parses a comma-separated `to` into E.164 numbers (`+` added), or `undefined` when any entry is not E.164. */
const parseRecipients = (to: unknown): Array<string> | undefined => {
  if (typeof to !== "string") return undefined
  const out = to.split(",")
  for (let i = 0; i < out.length; i++) {
    const entry = out[i].trim()
    if (!RECIPIENT.test(entry)) return undefined
    out[i] = entry.charCodeAt(0) === 43 ? entry : "+" + entry
  }
  return out
}

const codePointLength = (s: string): number => {
  let n = s.length
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--
        i++
      }
    }
  }
  return n
}

/** Keeps the first `max` code points. */
const truncate = (s: string, max: number): string => {
  if (s.length <= max) return s
  let count = 0
  let i = 0
  while (i < s.length && count < max) {
    const c = s.charCodeAt(i)
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00 ? 2 : 1
    count++
  }
  return s.slice(0, i)
}

const isText = (u: unknown, max: number): boolean =>
  typeof u === "string" && (u.length <= max || codePointLength(u) <= max) && !LONE_SURROGATE.test(u)

const isToken = (u: unknown): boolean => typeof u === "string" && u.length > 0 && !WHITESPACE_OR_CONTROL.test(u)

const isLink = (u: unknown): boolean => {
  if (typeof u !== "string" || !HTTP_LINK.test(u) || WHITESPACE_OR_CONTROL.test(u)) return false
  try {
    const url = new URL(u)
    return url.hostname !== ""
  } catch {
    return false
  }
}

const isMediaType = (u: unknown): u is MediaMessage.MediaType =>
  u === "image" || u === "document" || u === "video" || u === "audio" || u === "sticker"

const isWaSource = (u: string): u is MediaMessage.WaSource =>
  (MediaMessage.waSources as ReadonlyArray<string>).includes(u)

const validMedia = (type: MediaMessage.MediaType, media: unknown): boolean => {
  if (!isObject(media)) return false
  let sources = 0
  for (const key in media) {
    const value = media[key]
    switch (key) {
      case "id":
        if (!isToken(value)) return false
        sources++
        break
      case "link":
        if (!isLink(value)) return false
        sources++
        break
      case "caption":
        if ((type !== "image" && type !== "video" && type !== "document") || !isText(value, CAPTION_LIMIT)) {
          return false
        }
        break
      case "filename":
        if (type !== "document" || typeof value !== "string" || value.length === 0 || LONE_SURROGATE.test(value)) {
          return false
        }
        break
      default:
        return false
    }
  }
  return sources === 1
}

const validContext = (context: unknown): boolean => {
  if (!isObject(context)) return false
  for (const key in context) {
    if (key !== "message_id" || !isToken(context[key])) return false
  }
  return "message_id" in context
}

interface ValidMessagingObject {
  readonly type: MediaMessage.MessageType
  readonly recipients: Array<string>
}

const validMessagingObject = (mo: unknown): ValidMessagingObject | undefined => {
  if (!isObject(mo)) return undefined
  const type = mo.type
  if ((!isMediaType(type) && type !== "template") || mo.messaging_product !== "whatsapp") return undefined
  for (const key in mo) {
    switch (key) {
      case "messaging_product":
      case "type":
      case "to":
        break
      case "recipient_type":
        if (mo[key] !== "individual") return undefined
        break
      case "context":
        if (!validContext(mo[key])) return undefined
        break
      case "biz_opaque_callback_data":
        if (!isText(mo[key], OPAQUE_LIMIT)) return undefined
        break
      default:
        if (key !== type) return undefined
    }
  }
  if (type === "template" ? !SimulatorTemplates.validTemplate(mo[type], validMedia) : !validMedia(type, mo[type])) {
    return undefined
  }
  const recipients = parseRecipients(mo.to)
  return recipients === undefined ? undefined : { type, recipients }
}

type MutableExtraInfo = { -readonly [K in keyof MediaMessage.ExtraInfo]: MediaMessage.ExtraInfo[K] }

/** `extra_info` as Kaleyra stores it, `undefined` when invalid; `null` when absent. */
const storedExtraInfo = (extra: unknown): MediaMessage.ExtraInfo | undefined => {
  if (!isObject(extra)) return undefined
  const out: MutableExtraInfo = {}
  for (const key in extra) {
    const value = extra[key]
    if (typeof value !== "string") return undefined
    switch (key) {
      case "ref":
      case "ref1":
      case "ref2":
        if (LONE_SURROGATE.test(value)) return undefined
        out[key] = truncate(value, REF_LIMIT)
        break
      case "wa_source":
        out.waSource = isWaSource(value) ? value : "api"
        break
      default:
        return undefined
    }
  }
  return out
}

interface ValidBody extends ValidMessagingObject {
  readonly extraInfo: MediaMessage.ExtraInfo | undefined
}

const validBody = (body: unknown): ValidBody | undefined => {
  if (!isObject(body)) return undefined
  let messagingObject: ValidMessagingObject | undefined
  let extraInfo: MediaMessage.ExtraInfo | undefined
  for (const key in body) {
    if (key === "messaging_object") {
      messagingObject = validMessagingObject(body[key])
      if (messagingObject === undefined) return undefined
    } else if (key === "extra_info") {
      extraInfo = storedExtraInfo(body[key])
      if (extraInfo === undefined) return undefined
    } else {
      return undefined
    }
  }
  return messagingObject === undefined
    ? undefined
    : { type: messagingObject.type, recipients: messagingObject.recipients, extraInfo }
}

/** The recipients named in a body, for scenarios (whether or not the rest of the body is valid). */
const recipientsOf = (body: unknown): Array<string> => {
  if (!isObject(body) || !isObject(body.messaging_object) || typeof body.messaging_object.to !== "string") return []
  const out: Array<string> = []
  for (const entry of body.messaging_object.to.split(",")) {
    const normalized = normalizeNumber(entry)
    if (normalized !== undefined) out.push(normalized)
  }
  return out
}

const isJsonContentType = (contentType: string | undefined): boolean => {
  if (contentType === undefined) return false
  const type = contentType.trim().toLowerCase()
  if (!type.startsWith("application/json")) return false
  const next = type.charCodeAt(16)
  return type.length === 16 || next === 59 /* ; */ || next === 32 /* space */ || next === 9 /* tab */
}

/** `+` and digits from a number written with or without `+`, spaces, dashes, dots or parentheses. */
const normalizeNumber = (input: string): string | undefined => {
  const compact = input.replace(/[\s.()-]/g, "")
  if (!RECIPIENT.test(compact)) return undefined
  return compact.charCodeAt(0) === 43 ? compact : "+" + compact
}

/** Digits of a sender number (path segment or option), `+` and separators removed. */
const senderDigits = (input: string): string => input.replace(/[\s.()+-]/g, "")

const decodeSegment = (segment: string): string | undefined => {
  if (!segment.includes("%")) return segment
  try {
    return decodeURIComponent(segment)
  } catch {
    return undefined
  }
}

// ---------------------------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------------------------

interface Scripted {
  readonly code: FailCode
  readonly retryAfter: number | undefined
  remaining: number
}

// Records keep as few objects as possible (the body as one string, parsed again when read), so that a long history
// costs the garbage collector little.

interface SentRecord {
  readonly messageId: string
  readonly senderNumber: string
  /** The accepted body: validating it again gives the recipients, the type and the stored `extra_info`. */
  readonly text: string
  view: SentMessage | undefined
}

interface RequestRecord {
  readonly method: string
  readonly path: string
  readonly headers: Readonly<Record<string, string>>
  /** The body as text when it was decoded, otherwise the bytes. */
  readonly body: string | Uint8Array
  readonly status: number
  view: RecordedRequest | undefined
}

/** An append-only log that keeps at most `limit` entries (amortised O(1)). */
class History<A> {
  private items: Array<A> = []
  constructor(private readonly limit: number) {}
  push(item: A): void {
    if (this.limit === 0) return
    this.items.push(item)
    if (this.items.length >= this.limit * 2) this.items = this.items.slice(this.items.length - this.limit)
  }
  all(): ReadonlyArray<A> {
    return this.items.length > this.limit ? this.items.slice(this.items.length - this.limit) : this.items
  }
  clear(): void {
    this.items = []
  }
}

const ID_DIGITS = 20
const DAY_MILLIS = 86_400_000

/**
 * The deterministic message id number `n` (1-based): `wamid.SIM` and `n` on 20 digits. A fresh simulator issues the
 * same ids, in the same order, on every run.
 *
 * @since 0.1.0
 * @category constructors
 */
export const messageId = (n: number): string => "wamid.SIM" + String(n).padStart(ID_DIGITS, "0")

/**
 * The deterministic media id number `n` (1-based), numeric like Meta's: `1` and `n` on 15 digits.
 *
 * @since 0.1.0
 * @category constructors
 */
export const mediaId = (n: number): string => "1" + String(n).padStart(15, "0")

class UploadRoute {
  constructor(readonly sender: string) {}
}

type ParsedUpload = Omit<UploadedMedia, "id" | "senderNumber">

/** Reads a multipart upload (`file` and `type`), or `undefined` when Kaleyra would refuse it. */
const parseUpload = async (body: Uint8Array, contentType: string): Promise<ParsedUpload | undefined> => {
  let form: FormData
  try {
    form = await new Response(new Uint8Array(body), { headers: { "content-type": contentType } }).formData()
  } catch {
    return undefined
  }
  const file = form.get("file")
  const type = form.get("type")
  if (typeof file === "string" || file === null || typeof type !== "string") return undefined
  const mimeType = type.trim().toLowerCase()
  const supported = MediaFile.supportedTypes.find((t) => t.mimeType === mimeType)
  if (supported === undefined) return undefined
  const limit = mimeType === "image/webp" ? MediaFile.animatedStickerMaxBytes : supported.maxBytes
  if (file.size === 0 || file.size > limit) return undefined
  return {
    mimeType,
    mediaType: supported.mediaType,
    filename: file.name,
    size: file.size,
    data: new Uint8Array(await file.arrayBuffer())
  }
}

const textDecoder = new TextDecoder("utf-8", { fatal: true })
const lenientDecoder = new TextDecoder("utf-8")

const redactHeaders = (headers: Readonly<Record<string, string>>): Readonly<Record<string, string>> => {
  const out: Record<string, string> = {}
  for (const name in headers) {
    out[name] = name.toLowerCase() === "api-key" ? "<redacted>" : headers[name]
  }
  return out
}

const resolveOptions = (options: SimulatorOptions): ResolvedOptions => ({
  sid: options.sid ?? "HXAP16XXXXXX97IN",
  apiKey: options.apiKey ?? "sim-api-key",
  senderNumbers: (options.senderNumbers ?? ["919999999999"]).map(senderDigits),
  otherVersionNumbers: (options.otherVersionNumbers ?? []).map(senderDigits),
  account: options.account ?? "postpaid",
  balance: options.balance ?? 1_000_000,
  dailyLimit: options.dailyLimit,
  historyLimit: Math.max(0, Math.floor(options.historyLimit ?? 10_000)),
  seed: options.seed ?? 1,
  faults: resolveFaultOptions(options.faults, DEFAULT_FAULT_OPTIONS),
  countRefs: options.countRefs ?? true
})

/**
 * Builds a simulator with its own state. With `callbacks`, prefer {@link makeScoped}: here the scheduled callbacks
 * are not tied to a scope (they run until delivered, or until `reset`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: SimulatorOptions = {}): Effect.Effect<Simulator> => Effect.sync(() => unsafeMake(options))

/**
 * Builds a simulator outside of `Effect` (for servers and benchmarks that construct it at start-up). With
 * `callbacks`, prefer {@link makeScoped}: here the scheduled callbacks are not tied to a scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const unsafeMake = (options: SimulatorOptions = {}): Simulator =>
  build(options, options.callbacks === undefined ? undefined : makeCallbackScheduler(options.callbacks))

/**
 * Builds a simulator whose status callbacks (see {@link SimulatorOptions.callbacks}) belong to the scope: when it
 * closes, the callbacks still pending are cancelled and no new ones are scheduled. Without `callbacks`, the same as
 * {@link make}.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeScoped = (options: SimulatorOptions = {}): Effect.Effect<Simulator, never, Scope.Scope> =>
  Effect.suspend(() => {
    if (options.callbacks === undefined) return make(options)
    const scheduler = makeCallbackScheduler(options.callbacks)
    return Effect.as(Effect.addFinalizer(() => scheduler.close), build(options, scheduler))
  })

const build = (options: SimulatorOptions, callbacks: CallbackScheduler | undefined): Simulator => {
  const resolved = resolveOptions(options)
  const senders = new Set(resolved.senderNumbers)
  const otherVersion = new Set(resolved.otherVersionNumbers)
  const dailyLimit = resolved.dailyLimit

  let balance = resolved.balance
  let counter = 0
  let day = 0
  let sentToday = 0
  const queue: Array<Scripted> = []
  const scenarios = new Map<string, FailCode>()
  const conversations = SimulatorTemplates.makeState(options)
  let uploadCounter = 0
  const sentLog = new History<SentRecord>(resolved.historyLimit)
  const uploadLog = new History<UploadedMedia>(resolved.historyLimit)
  const requestLog = new History<RequestRecord>(resolved.historyLimit)

  // Faults, their generator, and the counts.
  const faultQueue: Array<{ readonly drawn: DrawnFault; remaining: number }> = []
  const ratesOf = (rates: FaultRates | undefined): Array<readonly [DrawnFault, number]> =>
    thresholdsOf(rates).map(([fault, threshold]) => [{ ...resolved.faults, fault }, threshold] as const)
  let thresholds = ratesOf(options.faultRates)
  let random = makeGenerator(resolved.seed)
  let requestCount = 0
  let acceptedCount = 0
  let duplicateRefs = 0
  const zeroFaults = (): Record<Fault, number> => {
    const out = {} as Record<Fault, number>
    for (const fault of faults) out[fault] = 0
    return out
  }
  let faultCounts = zeroFaults()
  const refCounts = new Map<string, number>()

  const drawFault = (): DrawnFault | undefined => {
    const head = faultQueue[0]
    if (head !== undefined) {
      head.remaining--
      if (head.remaining <= 0) faultQueue.shift()
      return head.drawn
    }
    if (thresholds.length === 0) return undefined
    const draw = random()
    for (let i = 0; i < thresholds.length; i++) {
      if (draw < thresholds[i][1]) return thresholds[i][0]
    }
    return undefined
  }

  const countAccepted = (extraInfo: MediaMessage.ExtraInfo | undefined): void => {
    acceptedCount++
    const ref = extraInfo?.ref
    if (ref === undefined || !resolved.countRefs) return
    const seen = refCounts.get(ref)
    if (seen === undefined) {
      refCounts.set(ref, 1)
    } else {
      if (seen === 1) duplicateRefs++
      refCounts.set(ref, seen + 1)
    }
  }

  const takeScripted = (): Scripted | undefined => {
    const head = queue[0]
    if (head === undefined) return undefined
    head.remaining--
    if (head.remaining <= 0) queue.shift()
    return head
  }

  // The body text of the request being handled, kept for `requests` when it was decoded.
  let currentText: string | undefined

  const messages = (request: SimRequest, sender: string, now: number): SimResponse => {
    let body: unknown
    let text = ""
    let parsed = false
    try {
      text = currentText = textDecoder.decode(request.body)
      body = JSON.parse(text)
      parsed = true
    } catch {
      // Not UTF-8 or not JSON: a WA400 below, unless a script answers first.
    }

    let garble: FailCode | undefined
    const scripted = takeScripted()
    if (scripted !== undefined) {
      if (!isGarble(scripted.code)) return responseOf(scripted.code, scripted.retryAfter)
      garble = scripted.code
    } else if (scenarios.size > 0 && parsed) {
      for (const recipient of recipientsOf(body)) {
        const code = scenarios.get(recipient)
        if (code === undefined) continue
        if (!isGarble(code)) return responseOf(code, undefined)
        garble = code
        break
      }
    }

    if (!parsed || !isJsonContentType(request.headers["content-type"])) return RESPONSES.WA400
    const valid = validBody(body)
    if (valid === undefined) return RESPONSES.WA400

    const count = valid.recipients.length
    if (balance < count) return RESPONSES.E110
    if (dailyLimit !== undefined) {
      const today = Math.floor(now / DAY_MILLIS)
      if (today !== day) {
        day = today
        sentToday = 0
      }
      if (sentToday + count > dailyLimit) return RESPONSES.WAV2101
      sentToday += count
    }
    balance -= count
    countAccepted(valid.extraInfo)
    const id = messageId(++counter)
    const sentRecord: SentRecord = {
      messageId: id,
      senderNumber: sender,
      text,
      view: undefined
    }
    sentLog.push(sentRecord)
    if (callbacks !== undefined) {
      // Kaleyra accepted it (even when the answer is garbled): its status callbacks follow, see `run`.
      const messagingObject = (body as { readonly messaging_object: Record<string, unknown> }).messaging_object
      acceptedNow = {
        record: sentRecord,
        failure: valid.type === "template" ? undefined : mediaFailure(body, valid.type, isIssuedMediaId),
        failureOf: (recipient) => conversations.failureFor(messagingObject, recipient, now)
      }
    }
    return garble === undefined ? accepted(id) : RESPONSES[garble as "invalid-json" | "empty-body"]
  }

  const route = (request: SimRequest, now: number): SimResponse | UploadRoute => {
    const query = request.path.indexOf("?")
    const path = query === -1 ? request.path : request.path.slice(0, query)
    const parts = path.split("/")
    if (
      parts.length !== 6 || parts[0] !== "" || parts[1] !== "v2" || parts[3] !== "whatsapp" ||
      (parts[5] !== "messages" && parts[5] !== "media") || parts[2] === "" || parts[4] === ""
    ) {
      return NOT_FOUND
    }
    if (request.method !== "POST") return METHOD_NOT_ALLOWED
    if (request.headers["api-key"] !== resolved.apiKey || decodeSegment(parts[2]) !== resolved.sid) {
      return RESPONSES.RBC001
    }
    if (resolved.account === "unavailable") return RESPONSES["WA-401-account"]
    const segment = decodeSegment(parts[4])
    const sender = segment === undefined
      ? ""
      : senders.has(segment) || otherVersion.has(segment)
      ? segment
      : senderDigits(segment)
    if (otherVersion.has(sender)) return RESPONSES["WA-401-phone_number"]
    if (!senders.has(sender)) return RESPONSES.WA401
    if (parts[5] === "messages") return messages(request, sender, now)
    // Uploads are for postpaid accounts only.
    if (resolved.account === "prepaid") return RESPONSES["WA-401-account"]
    return new UploadRoute(sender)
  }

  const record = (request: SimRequest, text: string | undefined, response: SimResponse): SimResponse => {
    requestLog.push({
      method: request.method,
      path: request.path,
      headers: request.headers,
      body: text ?? request.body,
      status: response.status,
      view: undefined
    })
    return response
  }

  const upload = (request: SimRequest, sender: string): Effect.Effect<SimResponse> => {
    let garble: FailCode | undefined
    const scripted = takeScripted()
    if (scripted !== undefined) {
      if (!isGarble(scripted.code)) return Effect.succeed(responseOf(scripted.code, scripted.retryAfter))
      garble = scripted.code
    }
    const contentType = request.headers["content-type"]
    if (contentType === undefined || !/^\s*multipart\/form-data\s*;/i.test(contentType)) {
      return Effect.succeed(RESPONSES.WA400)
    }
    return Effect.promise(() => parseUpload(request.body, contentType)).pipe(
      Effect.map((file) => {
        if (file === undefined) return RESPONSES.WA400
        const id = mediaId(++uploadCounter)
        uploadLog.push({ id, senderNumber: sender, ...file })
        return garble === undefined
          ? jsonResponse(200, `{"id":"${id}"}`)
          : RESPONSES[garble as "invalid-json" | "empty-body"]
      })
    )
  }

  const run = (request: SimRequest, now: number): Effect.Effect<SimResponse> => {
    requestCount++
    currentText = undefined
    const drawn = request.fault === undefined ? drawFault() : request.fault ?? undefined
    if (drawn !== undefined) {
      faultCounts[drawn.fault]++
      const answer = answerOf(drawn)
      // Answered in front of Kaleyra: nothing is processed.
      if (answer !== undefined) return Effect.succeed(record(request, undefined, answer))
    }
    const routed = route(request, now)
    if (routed instanceof UploadRoute) {
      return Effect.map(
        upload(request, routed.sender),
        (response) => record(request, undefined, drawn === undefined ? response : applyFault(drawn, response))
      )
    }
    const response = record(request, currentText, drawn === undefined ? routed : applyFault(drawn, routed))
    return acceptedNow === undefined ? Effect.succeed(response) : Effect.as(scheduleAccepted(), response)
  }

  // Status callbacks: the message accepted by the request being handled, scheduled once it is answered.
  let acceptedNow:
    | {
      readonly record: SentRecord
      readonly failure: MediaFailure | undefined
      readonly failureOf: FailureOf
    }
    | undefined

  /** A media id this simulator issued (since the last `reset`): exactly `mediaId(n)` for 1 <= n <= uploads. */
  const isIssuedMediaId = (id: string): boolean => {
    if (!MEDIA_ID.test(id)) return false
    const n = Number(id.slice(1))
    return n >= 1 && n <= uploadCounter
  }

  const scheduleAccepted = (): Effect.Effect<void> => {
    const pending = acceptedNow!
    acceptedNow = undefined
    return callbacks!.schedule(() => sentView(pending.record), pending.failure, pending.failureOf)
  }

  const handle: Simulator["handle"] = dailyLimit === undefined && !conversations.window
    ? (request) => Effect.suspend(() => run(request, 0))
    : (request) => Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.suspend(() => run(request, now)))

  const app: HttpApp.Default = Effect.flatMap(
    HttpServerRequest.HttpServerRequest,
    (request) =>
      Effect.matchEffect(request.arrayBuffer, {
        onFailure: () => Effect.succeed(toServerResponse(RESPONSES.WA400)),
        onSuccess: (buffer) =>
          Effect.flatMap(
            handle({
              method: request.method,
              path: request.url,
              headers: request.headers,
              body: new Uint8Array(buffer)
            }),
            performServerResponse
          )
      })
  )

  const sentView = (record: SentRecord): SentMessage => {
    if (record.view !== undefined) return record.view
    const body: unknown = JSON.parse(record.text)
    // It was accepted, so it is valid.
    const valid = validBody(body)!
    const decoded = SendMediaRequest.fromWireBody(body)
    const view: SentMessage = {
      messageId: record.messageId,
      senderNumber: record.senderNumber,
      recipients: valid.recipients,
      type: valid.type,
      body,
      message: Either.isRight(decoded) ? decoded.right : undefined,
      ...(valid.extraInfo !== undefined ? { extraInfo: valid.extraInfo } : {})
    }
    record.view = view
    return view
  }

  const requestView = (record: RequestRecord): RecordedRequest => {
    if (record.view !== undefined) return record.view
    const view: RecordedRequest = {
      method: record.method,
      path: record.path,
      headers: redactHeaders(record.headers),
      body: typeof record.body === "string" ? record.body : lenientDecoder.decode(record.body),
      status: record.status
    }
    record.view = view
    return view
  }

  return {
    handle,
    app,
    options: resolved,
    failNext: (code, failOptions) =>
      Effect.flatMap(canonicalFailCode(code), (canonical) =>
        Effect.sync(() => {
          const times = Math.floor(failOptions?.times ?? 1)
          if (times > 0) queue.push({ code: canonical, retryAfter: failOptions?.retryAfter, remaining: times })
        })),
    setScenario: (recipient, code) =>
      Effect.flatMap(canonicalFailCode(code), (canonical) =>
        Effect.sync(() => {
          const normalized = normalizeNumber(recipient)
          if (normalized !== undefined) scenarios.set(normalized, canonical)
        })),
    clearScenario: (recipient) =>
      Effect.sync(() => {
        const normalized = normalizeNumber(recipient)
        if (normalized !== undefined) scenarios.delete(normalized)
      }),
    setBalance: (value) =>
      Effect.sync(() => {
        balance = value
      }),
    balance: Effect.sync(() => balance),
    sent: Effect.sync(() => sentLog.all().map(sentView)),
    uploads: Effect.sync(() => uploadLog.all().slice()),
    requests: Effect.sync(() => requestLog.all().map(requestView)),
    reset: Effect.zipRight(
      Effect.sync(() => {
        balance = resolved.balance
        counter = 0
        uploadCounter = 0
        day = 0
        sentToday = 0
        queue.length = 0
        scenarios.clear()
        sentLog.clear()
        uploadLog.clear()
        requestLog.clear()
        faultQueue.length = 0
        thresholds = ratesOf(options.faultRates)
        random = makeGenerator(resolved.seed)
        requestCount = 0
        acceptedCount = 0
        duplicateRefs = 0
        faultCounts = zeroFaults()
        refCounts.clear()
        conversations.reset()
      }),
      callbacks?.clear ?? Effect.void
    ),
    conversations: SimulatorTemplates.conversationsOf(conversations),
    callbacksDelivered: Effect.sync(() => callbacks?.delivered() ?? 0),
    callbackFailures: Effect.sync(() => callbacks?.failures() ?? 0),
    awaitCallbacks: callbacks?.await ?? Effect.void,
    injectNext: (fault, injectOptions) =>
      Effect.sync(() => {
        const times = Math.floor(injectOptions?.times ?? 1)
        if (times > 0) {
          faultQueue.push({
            drawn: { ...resolveFaultOptions(injectOptions, resolved.faults), fault },
            remaining: times
          })
        }
      }),
    setFaultRates: (rates) =>
      Effect.sync(() => {
        thresholds = ratesOf(rates)
      }),
    stats: Effect.sync((): SimulatorStats => ({
      requests: requestCount,
      accepted: acceptedCount,
      uploads: uploadCounter,
      faults: { ...faultCounts },
      duplicateRefs
    })),
    acceptedRefs: Effect.sync((): ReadonlyMap<string, number> => new Map(refCounts)),
    unsafeDrawFault: drawFault
  }
}

/**
 * A simulator answer as an `HttpServerResponse` (its `fault`, if any, is ignored: see {@link performServerResponse}).
 *
 * @since 0.1.0
 * @category conversions
 */
export const toServerResponse = (response: SimResponse): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.text(response.body, {
    status: response.status,
    headers: response.headers,
    contentType: response.headers["content-type"] ?? "application/json"
  })

/**
 * A simulator answer as an `HttpServerResponse`, its transport-level fault performed as closely as an `HttpApp` can:
 * `latency` delays the response and `silent` never completes (on the `Clock`); `drip` streams the body a few bytes at
 * a time; `huge` streams its generated body (pulled as the server writes it); a `reset` interrupts the handler, which
 * a platform server turns into an aborted or failed response (an `HttpApp` cannot reset its socket: serve the
 * simulator with the node package's `SimulatorServer` for real resets). An ordinary answer is {@link toServerResponse}.
 *
 * @since 0.1.0
 * @category conversions
 */
export const performServerResponse = (response: SimResponse): Effect.Effect<HttpServerResponse.HttpServerResponse> => {
  const fault = response.fault
  if (fault === undefined) return Effect.succeed(toServerResponse(response))
  const contentType = response.headers["content-type"] ?? "application/json"
  switch (fault.kind) {
    case "reset":
      return Effect.interrupt
    case "silent":
      return Effect.never
    case "latency":
      return Effect.as(Effect.sleep(fault.millis), toServerResponse(response))
    case "drip": {
      const bytes = new TextEncoder().encode(response.body)
      const ticks = Math.max(1, Math.min(bytes.length, Math.floor(fault.millis)))
      const pieces = Array.from(
        { length: ticks },
        (_, i) => bytes.subarray(Math.round(bytes.length * i / ticks), Math.round(bytes.length * (i + 1) / ticks))
      )
      const body = Stream.mapEffect(
        Stream.fromIterable(pieces),
        (piece) => Effect.as(Effect.sleep(fault.millis / ticks), piece)
      )
      return Effect.succeed(HttpServerResponse.stream(body, {
        status: response.status,
        headers: response.headers,
        contentType,
        contentLength: bytes.length
      }))
    }
    case "huge": {
      const body = Stream.suspend(() => {
        const chunks = hugeBodyChunks(fault.bytes)
        return Stream.repeatEffectOption(Effect.suspend(() => {
          const next = chunks.next()
          return next.done === true ? Effect.fail(Option.none()) : Effect.succeed(next.value)
        }))
      })
      return Effect.succeed(HttpServerResponse.stream(body, {
        status: response.status,
        headers: response.headers,
        contentType,
        ...(fault.chunked ? {} : { contentLength: fault.bytes })
      }))
    }
  }
}

/**
 * The bodies the simulator answers with for each {@link FailCode} (statuses and exact bodies), e.g. to serve them
 * from another server or to compare with.
 *
 * @since 0.1.0
 * @category constants
 */
export const responses: Readonly<Record<FailCode, SimResponse>> = RESPONSES

// ---------------------------------------------------------------------------------------------------------------
// Status callbacks
// ---------------------------------------------------------------------------------------------------------------

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
export const statusCallback = (
  sent: SentMessage,
  status: "sent" | "delivered" | "read" | "failed",
  options: StatusCallbackOptions = {}
): Record<string, unknown> => {
  const recipient = (options.recipient ?? sent.recipients[0] ?? "").replace(/^\+/, "")
  const timestamp = String(options.timestamp ?? 1_700_000_000)
  const errors = status === "failed"
    ? (options.errors ?? [{ code: 131053, title: "Media upload error", details: "Unable to download the media" }])
      .map((e) => ({
        code: e.code,
        title: e.title,
        ...(e.message !== undefined ? { message: e.message } : {}),
        ...(e.details !== undefined ? { error_data: { details: e.details } } : {})
      }))
    : undefined
  const billable = status === "sent" || status === "delivered"
  return {
    meta_object: {
      value: {
        messaging_product: "whatsapp",
        metadata: { display_phone_number: sent.senderNumber, phone_number_id: "104000000000060" },
        statuses: [{
          id: sent.messageId,
          status,
          timestamp,
          recipient_id: recipient,
          ...(billable
            ? {
              conversation: { id: `conversation-${sent.messageId}`, origin: { type: "marketing" } },
              pricing: { billable: true, pricing_model: "CBP", category: "marketing" }
            }
            : {}),
          ...(errors !== undefined ? { errors } : {})
        }]
      },
      field: "messages"
    },
    extra_info: {
      trace_id: `trace-${sent.messageId}`,
      message_id: sent.messageId,
      waba_id: "100000000000001",
      ...(sent.extraInfo?.ref !== undefined ? { ref: sent.extraInfo.ref } : {}),
      ...(sent.extraInfo?.ref1 !== undefined ? { ref1: sent.extraInfo.ref1 } : {}),
      ...(sent.extraInfo?.ref2 !== undefined ? { ref2: sent.extraInfo.ref2 } : {})
    },
    status,
    message_id: sent.messageId
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Status callbacks: scheduling and delivery (see `SimulatorOptions.callbacks`)
// ---------------------------------------------------------------------------------------------------------------

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
} = {
  sent: Duration.millis(50),
  delivered: Duration.millis(100),
  read: Duration.millis(150)
}

/**
 * The header that carries the callback secret by default (the same default as the node package's callback
 * receiver).
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultSecretHeader = "x-kaleyra-secret"

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
export const mediaUploadError = (details: string): MediaFailure => ({
  code: 131053,
  title: "Media upload error",
  message: "Media upload error",
  details
})

const MEDIA_ID = /^1[0-9]{15}$/

const LINK_NOT_FOUND = mediaUploadError(
  "Downloading media from weblink failed with http code 404, status message Not Found"
)

const linkIsNotFound = (link: string): boolean => {
  try {
    return new URL(link).pathname.endsWith("/404")
  } catch {
    return false
  }
}

/** Why Meta cannot deliver the media of an accepted body, or `undefined` when it can. */
const mediaFailure = (
  body: unknown,
  type: MediaMessage.MediaType,
  isIssuedMediaId: (id: string) => boolean
): MediaFailure | undefined => {
  if (!isObject(body) || !isObject(body.messaging_object)) return undefined
  const media = body.messaging_object[type]
  if (!isObject(media)) return undefined
  if (typeof media.link === "string") return linkIsNotFound(media.link) ? LINK_NOT_FOUND : undefined
  if (typeof media.id === "string" && !isIssuedMediaId(media.id)) {
    return mediaUploadError(`Media id ${media.id.slice(0, 64)} was not found: it was never uploaded`)
  }
  return undefined
}

/**
 * The default delivery: a POST of the JSON body to the URL with the global `fetch`. An answer other than 2xx, a
 * network error or no answer within `timeout` (default 10 seconds) fails.
 *
 * @since 0.1.0
 * @category callbacks
 */
export const deliverWithFetch = (options: { readonly timeout?: Duration.DurationInput | undefined } = {}) => {
  const timeout = options.timeout ?? Duration.seconds(10)
  const deliver: DeliverCallback = (url, body, headers) =>
    Effect.tryPromise({
      try: async (signal) => {
        const response = await fetch(url, { method: "POST", headers, body: JSON.stringify(body), signal })
        // Read the answer to the end so that the connection is reused.
        await response.arrayBuffer()
        if (response.status < 200 || response.status > 299) {
          throw new Error(`the callback URL answered HTTP ${response.status}`)
        }
      },
      catch: (cause) => cause
    }).pipe(Effect.timeout(timeout))
  return deliver
}

/** What Meta does with one recipient's message, beside a media it cannot fetch (`SimulatorTemplates`). */
type FailureOf = (recipient: string) => SimulatorTemplates.RecipientFailure | undefined

interface CallbackScheduler {
  /** Schedules the callbacks of an accepted message (`view` is read when the first callback is due). */
  readonly schedule: (
    view: () => SentMessage,
    failure: MediaFailure | undefined,
    failureOf: FailureOf
  ) => Effect.Effect<
    void
  >
  readonly delivered: () => number
  readonly failures: () => number
  readonly await: Effect.Effect<void>
  /** Cancels the pending callbacks and zeroes the counters. */
  readonly clear: Effect.Effect<void>
  /** Like `clear`, and schedules nothing more. */
  readonly close: Effect.Effect<void>
}

const resolveDelays = (delays: CallbackDelays | undefined) => {
  const sent = Duration.decode(delays?.sent ?? defaultCallbackDelays.sent)
  const delivered = Duration.max(sent, Duration.decode(delays?.delivered ?? defaultCallbackDelays.delivered))
  const read = Duration.max(delivered, Duration.decode(delays?.read ?? defaultCallbackDelays.read))
  return { sent, delivered, read }
}

/** One fiber per accepted message, daemon (the handler's fiber may end first), tracked to be cancelled. */
const makeCallbackScheduler = (options: CallbackOptions): CallbackScheduler => {
  const delays = resolveDelays(options.delays)
  const deliver = options.deliver ?? deliverWithFetch({ timeout: options.timeout })
  const headers: Readonly<Record<string, string>> = Object.freeze(
    options.secret === undefined ? { "content-type": "application/json" } : {
      "content-type": "application/json",
      [(options.secretHeader ?? defaultSecretHeader).toLowerCase()]: Redacted.isRedacted(options.secret)
        ? Redacted.value(options.secret)
        : options.secret
    }
  )
  const fibers = new Set<Fiber.RuntimeFiber<void>>()
  let delivered = 0
  let failures = 0
  let closed = false

  const deliverOne = (body: Record<string, unknown>): Effect.Effect<void> =>
    Effect.map(Effect.exit(Effect.suspend(() => deliver(options.url, body, headers))), (exit) => {
      if (Exit.isSuccess(exit)) delivered++
      else failures++
    })

  const emit = (
    sent: SentMessage,
    recipients: ReadonlyArray<string>,
    status: "sent" | "delivered" | "read" | "failed",
    failureOf: (recipient: string) => MediaFailure | undefined = () => undefined
  ) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.forEach(
        recipients,
        (recipient) => {
          const failure = failureOf(recipient)
          return deliverOne(statusCallback(sent, status, {
            recipient,
            timestamp: Math.floor(now / 1000),
            ...(failure !== undefined ? { errors: [failure] } : {})
          }))
        },
        { discard: true }
      ))

  // Per recipient: a message Meta never sends (outside the window, a template error) fails instead of `sent`; a
  // media Meta cannot fetch fails after `sent`; the others are delivered, then read.
  const lifecycle = (
    view: () => SentMessage,
    failure: MediaFailure | undefined,
    failureOf: FailureOf
  ): Effect.Effect<void> =>
    Effect.gen(function*() {
      yield* Effect.sleep(delays.sent)
      const sent = view()
      const early = new Map<string, MediaFailure>()
      for (const recipient of sent.recipients) {
        const found = failureOf(recipient)
        if (found !== undefined) early.set(recipient, found.failure)
      }
      const going = sent.recipients.filter((recipient) => !early.has(recipient))
      yield* emit(sent, Array.from(early.keys()), "failed", (recipient) => early.get(recipient))
      yield* emit(sent, going, "sent")
      yield* Effect.sleep(Duration.subtract(delays.delivered, delays.sent))
      if (failure !== undefined) return yield* emit(sent, going, "failed", () => failure)
      yield* emit(sent, going, "delivered")
      yield* Effect.sleep(Duration.subtract(delays.read, delays.delivered))
      yield* emit(sent, going, "read")
    })

  const cancelAll = Effect.suspend(() => Fiber.interruptAll(Array.from(fibers)))

  return {
    schedule: (view, failure, failureOf) =>
      Effect.suspend(() => {
        if (closed) return Effect.void
        return Effect.map(Effect.forkDaemon(lifecycle(view, failure, failureOf)), (fiber) => {
          fibers.add(fiber)
          fiber.addObserver(() => fibers.delete(fiber))
        })
      }),
    delivered: () => delivered,
    failures: () => failures,
    await: Effect.suspend(() => Fiber.awaitAll(Array.from(fibers))).pipe(Effect.asVoid),
    clear: Effect.zipRight(
      cancelAll,
      Effect.sync(() => {
        delivered = 0
        failures = 0
      })
    ),
    close: Effect.zipRight(
      Effect.sync(() => {
        closed = true
      }),
      cancelAll
    )
  }
}
