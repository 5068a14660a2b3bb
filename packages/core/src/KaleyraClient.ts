/**
 * The Kaleyra client service: `sendMedia` over a `KaleyraTransport`, with typed errors, per-attempt timeouts and retries
 * that never send a message twice.
 *
 * @since 0.1.0
 */
import * as Headers from "@effect/platform/Headers"
import * as Arr from "effect/Array"
import * as Clock from "effect/Clock"
import type * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import type * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { sendSpan } from "./internal/clientSpan.js"
import {
  errorFromResponse,
  findId,
  parseJson,
  sendSuccessFromResponse,
  unexpectedResponse
} from "./internal/errorFromResponse.js"
import { type AttemptError, type Classify, policy, retrying, type Settle } from "./internal/retry.js"
import { errorScrubber } from "./internal/secret.js"
import * as sendEvents from "./internal/sendEvents.js"
import { fromFailure, transportErrorFromCause } from "./internal/transport.js"
import { readUpload } from "./internal/upload.js"
import * as KaleyraConfig from "./KaleyraConfig.js"
import type { KaleyraResponseError, SendMediaError, TransportError, UnexpectedResponse } from "./KaleyraError.js"
import { KaleyraEvents } from "./KaleyraEvents.js"
import * as KaleyraTransport from "./KaleyraTransport.js"
import type * as MediaFile from "./MediaFile.js"
import * as MediaMessage from "./MediaMessage.js"
import { toWireJson } from "./SendMediaRequest.js"

/**
 * What a successful send returns.
 *
 * @since 0.1.0
 * @category models
 */
export interface SendMediaResult {
  /** Kaleyra's message id (`data.message_id`, or Meta's `messages[0].id`). */
  readonly messageId: string
  /** The recipients, normalised to E.164. */
  readonly recipients: ReadonlyArray<string>
  readonly type: MediaMessage.MessageType
  /** The HTTP status (202 from Kaleyra). */
  readonly status: number
  /** Kaleyra's code (`WA202`) and message, when the body had them. */
  readonly code?: string
  readonly message?: string
  /** The `extra_info` sent, to correlate callbacks. */
  readonly extraInfo?: MediaMessage.ExtraInfo
  /** How many HTTP attempts it took (1 without retries). */
  readonly attempts: number
}

/**
 * What `uploadMedia` takes: the bytes (a `Uint8Array`, or a `Blob`, which may be backed by a file and is then
 * streamed), the file name, and the MIME type (inferred from the bytes or the extension when not given).
 *
 * @since 0.1.0
 * @category models
 */
export interface UploadMediaInput {
  readonly data: Uint8Array | Blob
  readonly filename: string
  readonly mimeType?: string
}

/**
 * What a successful upload returns: the media id to send with (`MediaMessage.image({ to, id })`), and the checked
 * facts of the file.
 *
 * @since 0.1.0
 * @category models
 */
export interface UploadMediaResult {
  readonly id: string
  readonly mimeType: string
  readonly mediaType: MediaMessage.MediaType
  readonly filename: string
  readonly size: number
  readonly attempts: number
}

/**
 * The error channel of `uploadMedia`: a file refused before sending, or the same Kaleyra and transport errors as
 * `sendMedia` (a prepaid account's 401 is `ApiNotAvailable`).
 *
 * @since 0.1.0
 * @category errors
 */
export type UploadMediaError = MediaFile.InvalidMedia | KaleyraResponseError | TransportError

/**
 * Hooks around each HTTP attempt of a call (batch sending uses them to rate-limit every attempt and to pause all
 * sends on a 429).
 *
 * @since 0.1.0
 * @category models
 */
export interface AttemptHooks {
  /** Runs before every HTTP attempt, retries included (e.g. wait for a rate limiter). */
  readonly beforeAttempt?: Effect.Effect<void>
  /** Runs when a retryable failure is about to be retried after `delay`. */
  readonly onRetry?: (
    error: KaleyraResponseError | TransportError,
    attempt: number,
    delay: Duration.Duration
  ) => Effect.Effect<void>
  /**
   * Once this is done, no retry starts: a call waiting to retry (its delay, or `beforeAttempt` before a retry) gives
   * up at once and fails with the error of its last attempt (a `SendFailed` event for a send, and no
   * `RetryScheduled`). An attempt in progress is not cut short. Batch sending completes it when it stops.
   */
  readonly cancelRetries?: Deferred.Deferred<void>
}

/**
 * What the `KaleyraClient` service offers: its resolved configuration, sending and uploading.
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** The resolved configuration (the API key stays redacted). */
  readonly config: KaleyraConfig.Resolved
  /**
   * The transport requests go through: the one in context, or with a `transformClient`, the generic transport over
   * its `httpClient` so transformed.
   */
  readonly transport: KaleyraTransport.Service
  /** Sends one media message to one or more recipients (`options`: hooks around each HTTP attempt). */
  readonly sendMedia: (
    input: MediaMessage.SendMediaInput,
    options?: AttemptHooks
  ) => Effect.Effect<SendMediaResult, SendMediaError>
  /**
   * Sends a message that `MediaMessage.validate` returned, without validating it again (batch sending validates
   * each input once, up front).
   */
  readonly sendMessage: (
    message: MediaMessage.MediaMessage,
    options?: AttemptHooks
  ) => Effect.Effect<SendMediaResult, SendMediaError>
  /**
   * The `KaleyraEvents` the client publishes to (the one in context when it was built), if any. Batch sending
   * reports there the outcome of a send it had to abandon.
   */
  readonly events?: KaleyraEvents["Type"] | undefined
  /** Uploads a media file (checked first: type, size, name) and returns its media id. */
  readonly uploadMedia: (input: UploadMediaInput) => Effect.Effect<UploadMediaResult, UploadMediaError>
}

/**
 * The Kaleyra client.
 *
 * ```ts
 * import { KaleyraClient } from "@effect-kaleyra/core"
 * const layer = KaleyraClient.layer({ sid, apiKey, senderNumber, region: "IN" }) // needs a KaleyraTransport
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class KaleyraClient extends Context.Tag("@effect-kaleyra/core/KaleyraClient")<KaleyraClient, Service>() {
  /**
   * @since 0.1.0
   */
  static readonly make = (options: KaleyraConfig.Options) => make(options)
  /**
   * @since 0.1.0
   */
  static readonly layer = (options: KaleyraConfig.Options) => layer(options)
  /**
   * @since 0.1.0
   */
  static readonly layerConfig = (
    config?: Config.Config<KaleyraConfig.Options>,
    overrides?: Partial<KaleyraConfig.Options>
  ) => layerConfig(config, overrides)
}

// -----------------------------------------------------------------------------
// Encoding: the requests, built once per client
// -----------------------------------------------------------------------------

/** The headers of every request: the key, and no cached answer. */
const baseHeaders = (config: KaleyraConfig.Resolved) => ({
  "api-key": Redacted.value(config.apiKey),
  "cache-control": "no-cache",
  accept: "application/json"
})

/** A send of `message`: `POST .../messages` with its wire JSON. */
const sendRequest = (config: KaleyraConfig.Resolved) => {
  const url = `${config.accountUrl}/messages`
  const headers = { ...baseHeaders(config), "content-type": "application/json" }
  const timeoutMillis = Duration.toMillis(config.timeout)
  return (message: MediaMessage.MediaMessage): KaleyraTransport.Request => ({
    method: "POST",
    url,
    headers,
    body: toWireJson(message),
    timeoutMillis
  })
}

// -----------------------------------------------------------------------------
// Classification: an answer or a failure as a success or a tagged error
// -----------------------------------------------------------------------------

/** The API key scrubbed out of an error (see `internal/secret.ts`). */
type Scrub = <E extends SendMediaError>(error: E) => E

/**
 * How an attempt's outcome becomes an error, the key scrubbed from it (a server or transport may echo it back): a
 * 2xx is a success; any other answer is its Kaleyra error (a 429's `Retry-After` date is read on the `Clock`).
 */
const classification = (
  scrub: Scrub
): Classify<KaleyraTransport.Response, KaleyraTransport.Failure> => ({
  toError: (failure) => scrub(fromFailure(failure)),
  defect: (defect) => scrub(transportErrorFromCause(defect)),
  classify: (response) =>
    response.status >= 200 && response.status < 300
      ? undefined
      : response.status === 429
      ? (now) => scrub(errorFromResponse(response, now))
      : scrub(errorFromResponse(response, 0))
})

// -----------------------------------------------------------------------------
// Result
// -----------------------------------------------------------------------------

/** A send's result from its 2xx answer, or the `UnexpectedResponse` the answer is when it holds no message id. */
const toResult = (
  message: MediaMessage.MediaMessage,
  response: KaleyraTransport.Response,
  attempts: number
): Either.Either<SendMediaResult, UnexpectedResponse> => {
  const success = sendSuccessFromResponse(response)
  if (Either.isLeft(success)) return Either.left(success.left)
  const { code, message: text, messageId } = success.right
  // Assigned in the order of `SendMediaResult`'s fields (spreads would allocate an object per optional field).
  const result: { -readonly [K in keyof SendMediaResult]?: SendMediaResult[K] } = {
    messageId,
    recipients: message.to,
    type: message.type,
    status: response.status
  }
  if (code !== undefined) result.code = code
  if (text !== undefined) result.message = text
  if (message.extraInfo !== undefined) result.extraInfo = message.extraInfo
  result.attempts = attempts
  return Either.right(result as SendMediaResult)
}

/** Where an upload's media id may be: Meta's `id`, then Kaleyra's variants. */
const MEDIA_ID_PATHS = [["id"], ["media_id"], ["data", "media_id"], ["data", "id"]] as const

/** An upload's media id from its 2xx answer, or the `UnexpectedResponse` the answer is. */
const mediaIdOf = (response: KaleyraTransport.Response): Either.Either<string, UnexpectedResponse> => {
  const body = parseJson(response)
  if (Either.isLeft(body)) return Either.left(body.left)
  const id = findId(body.right, MEDIA_ID_PATHS)
  return id === undefined ? Either.left(unexpectedResponse(response, "MissingId", body.right)) : Either.right(id)
}

// -----------------------------------------------------------------------------
// Settling a send: the result, with or without events
// -----------------------------------------------------------------------------

/** The outcome of a send without events. */
const settledQuietly = (
  scrub: Scrub
): Settle<Pick<sendEvents.Sending, "message">, KaleyraTransport.Response, SendMediaResult, SendMediaError> => ({
  onSuccess: ({ message }, response, attempts) => {
    const result = toResult(message, response, attempts)
    return Either.isRight(result) ? Effect.succeed(result.right) : Effect.fail(scrub(result.left))
  },
  onFailure: (_, error) => Effect.fail(error)
})

/**
 * The outcome of a send, published as a `SendAccepted` or `SendFailed` event; each retry is announced as a
 * `RetryScheduled` event, before the caller's own `onRetry` runs.
 */
const settledWithEvents = (
  events: KaleyraEvents["Type"],
  scrub: Scrub
): Settle<sendEvents.Sending, KaleyraTransport.Response, SendMediaResult, SendMediaError> => ({
  onSuccess: (sending, response, attempts) => {
    const result = toResult(sending.message, response, attempts)
    return Either.isLeft(result)
      ? sendEvents.sendFailed(events, sending, scrub(result.left), attempts)
      : sendEvents.sendAccepted(events, sending, result.right)
  },
  onFailure: (sending, error, attempts) => sendEvents.sendFailed(events, sending, error, attempts),
  onRetry: ({ message }, error, attempt, delay) =>
    sendEvents.retryScheduled(events, "send", message, error, attempt, delay)
})

/** The outcome of an upload's attempts: the last answer and how many attempts it took. */
const settledRaw: Settle<
  void,
  KaleyraTransport.Response,
  { readonly response: KaleyraTransport.Response; readonly attempts: number },
  AttemptError
> = {
  onSuccess: (_, response, attempts) => Effect.succeed({ response, attempts }),
  onFailure: (_, error) => Effect.fail(error)
}

// -----------------------------------------------------------------------------
// The client
// -----------------------------------------------------------------------------

/**
 * The transport the client sends through: the one in context, or with a `transformClient`, the generic transport
 * over that transport's `HttpClient`, transformed (a hook on an `HttpClient` applies to the generic path only).
 */
const transportOf = (options: KaleyraConfig.Options) =>
  Effect.map(
    KaleyraTransport.KaleyraTransport,
    (transport) =>
      options.transformClient === undefined
        ? transport
        : KaleyraTransport.fromHttpClient(options.transformClient(transport.httpClient))
  )

/**
 * Builds the client over the `KaleyraTransport` in context. Adds `api-key` to the redacted header names for every
 * effect the layer is provided to, so the key never appears in logs or spans.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: KaleyraConfig.Options
): Effect.Effect<Service, ConfigError.ConfigError, KaleyraTransport.KaleyraTransport | Scope.Scope> =>
  Effect.gen(function*() {
    const config = yield* KaleyraConfig.resolve(options)
    yield* Effect.locallyScopedWith(Headers.currentRedactedNames, Arr.append("api-key"))
    const events = Option.getOrUndefined(yield* Effect.serviceOption(KaleyraEvents))
    const transport = yield* transportOf(options)
    const schedule = policy(config)
    const scrub: Scrub = errorScrubber(Redacted.value(config.apiKey))
    const classify = classification(scrub)
    const encode = sendRequest(config)
    const quietly = settledQuietly(scrub)
    const settled = events === undefined ? undefined : settledWithEvents(events, scrub)

    // The pipeline of a send: encode, send under the retry policy (each answer classified), settle (result and
    // events), in its span. The fiber's default services (clock and tracer) are read once per send, in one step.
    const sendMessage = (message: MediaMessage.MediaMessage, hooks?: AttemptHooks) =>
      Effect.withFiberRuntime<SendMediaResult, SendMediaError>((fiber) => {
        const services = fiber.getFiberRef(DefaultServices.currentServices)
        const once = transport.send(encode(message))
        let sending: Effect.Effect<SendMediaResult, SendMediaError>
        if (settled === undefined) {
          sending = retrying(schedule, once, classify, hooks, quietly, { message })
        } else {
          const clock = Context.get(services, Clock.Clock)
          const context = { message, clock, startedAt: clock.unsafeCurrentTimeMillis() }
          sending = retrying(schedule, once, classify, hooks, settled, context)
        }
        return sendSpan(sending, message, transport.tracesRequests, services)
      })

    const sendMedia = (input: MediaMessage.SendMediaInput, hooks?: AttemptHooks) => {
      const validated = MediaMessage.validate(input)
      if (Either.isRight(validated)) return sendMessage(validated.right, hooks)
      const failed = Effect.fail(validated.left)
      return events === undefined ? failed : Effect.zipRight(sendEvents.invalidMessage(events, validated.left), failed)
    }

    const uploadUrl = `${config.accountUrl}/media`
    const uploadHeaders = { "api-key": Redacted.value(config.apiKey), accept: "application/json" }
    const uploadHooks: AttemptHooks | undefined = events === undefined ? undefined : {
      onRetry: (error, attempt, delay) => sendEvents.retryScheduled(events, "upload", undefined, error, attempt, delay)
    }

    const uploadMedia = Effect.fn("Kaleyra.uploadMedia")(
      function*(input: UploadMediaInput) {
        const startedAt = yield* Clock.currentTimeMillis
        const file = yield* readUpload(input)
        yield* Effect.annotateCurrentSpan({
          "kaleyra.mime_type": file.checked.mimeType,
          "kaleyra.size": file.checked.size
        })
        const form = new FormData()
        form.append("file", file.blob, file.checked.filename)
        form.append("type", file.checked.mimeType)
        // Uploads may be large: allow at least 100 kB/s on top of the per-attempt timeout.
        const timeoutMillis = Duration.toMillis(config.timeout) + Math.ceil(file.checked.size / 100)
        const once = transport.upload({ url: uploadUrl, headers: uploadHeaders, form, timeoutMillis })
        const { attempts, response } = yield* retrying(schedule, once, classify, uploadHooks, settledRaw, undefined)
        const id = mediaIdOf(response)
        // The one error of an upload not already scrubbed by the classification.
        if (Either.isLeft(id)) return yield* scrub(id.left)
        const result: UploadMediaResult = {
          id: id.right,
          mimeType: file.checked.mimeType,
          mediaType: file.checked.mediaType,
          filename: file.checked.filename,
          size: file.checked.size,
          attempts
        }
        if (events !== undefined) yield* sendEvents.mediaUploaded(events, result, startedAt)
        return result
      }
    )

    return KaleyraClient.of({ config, transport, sendMedia, sendMessage, events, uploadMedia })
  })

/**
 * The client as a layer, over the `KaleyraTransport` it is given (`KaleyraTransport.layer` makes one from any
 * `HttpClient`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: KaleyraConfig.Options
): Layer.Layer<KaleyraClient, ConfigError.ConfigError, KaleyraTransport.KaleyraTransport> =>
  Layer.scoped(KaleyraClient, make(options))

/**
 * The client as a layer, its options read from configuration (by default `KALEYRA_*`, see
 * `KaleyraConfig.config`). `overrides` adds what configuration cannot hold, such as `transformClient`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config<KaleyraConfig.Options> = KaleyraConfig.config,
  overrides?: Partial<KaleyraConfig.Options>
): Layer.Layer<KaleyraClient, ConfigError.ConfigError, KaleyraTransport.KaleyraTransport> =>
  Layer.scoped(
    KaleyraClient,
    Effect.flatMap(config, (options) => make({ ...options, ...overrides }))
  )

/**
 * Sends one media message (image, audio, document, sticker or video, by uploaded `id` or public `link`) to one or
 * more recipients. Fails with exactly one tagged error per outcome.
 *
 * @example
 * ```ts
 * import { MediaMessage, sendMedia } from "@effect-kaleyra/core"
 * import { Console, Effect } from "effect"
 *
 * const program = sendMedia(
 *   MediaMessage.image({ to: "+919876543210", link: "https://example.com/a.png", caption: "Hello" })
 * ).pipe(
 *   Effect.flatMap(({ messageId }) => Console.log(`sent ${messageId}`)),
 *   Effect.catchTag("LowBalance", (e) => Console.error(e.message))
 * )
 * ```
 *
 * @since 0.1.0
 * @category sending
 */
export const sendMedia = (
  input: MediaMessage.SendMediaInput
): Effect.Effect<SendMediaResult, SendMediaError, KaleyraClient> =>
  Effect.flatMap(KaleyraClient, (client) => client.sendMedia(input))

/**
 * Uploads a media file to Kaleyra (`POST /v2/{sid}/whatsapp/{senderNumber}/media`, multipart `file` + `type`) after
 * checking its type, size and name, and returns its media id. Then send it with `MediaMessage.<type>({ to, id })`.
 *
 * @example
 * ```ts
 * import { MediaMessage, sendMedia, uploadMedia } from "@effect-kaleyra/core"
 * import { Effect } from "effect"
 *
 * declare const bytes: Uint8Array
 *
 * const program = Effect.gen(function*() {
 *   const { id } = yield* uploadMedia({ data: bytes, mimeType: "application/pdf", filename: "invoice.pdf" })
 *   return yield* sendMedia(MediaMessage.document({ to: "+919876543210", id, filename: "invoice.pdf" }))
 * })
 * ```
 *
 * @since 0.1.0
 * @category uploading
 */
export const uploadMedia = (
  input: UploadMediaInput
): Effect.Effect<UploadMediaResult, UploadMediaError, KaleyraClient> =>
  Effect.flatMap(KaleyraClient, (client) => client.uploadMedia(input))
