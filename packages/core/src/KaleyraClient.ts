/**
 * The Kaleyra client service: `sendMedia` over any `HttpClient`, with typed errors, per-attempt timeouts and retries
 * that never send a message twice.
 *
 * @since 0.1.0
 */
import * as Headers from "@effect/platform/Headers"
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Arr from "effect/Array"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import type * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Tracer from "effect/Tracer"
import * as HttpTransport from "./HttpTransport.js"
import { traced } from "./internal/clientSpan.js"
import { unsafeOffer } from "./internal/events.js"
import { refsOf } from "./internal/refs.js"
import {
  errorFromResponse,
  findId,
  parseJson,
  type RawResponse,
  sendSuccessFromResponse,
  unexpectedResponse
} from "./internal/response.js"
import { errorScrubber, textScrubber } from "./internal/secret.js"
import { fromExchangeFailure, fromRequestError, readResponse, transportErrorFromCause } from "./internal/transport.js"
import { readUpload } from "./internal/upload.js"
import * as KaleyraConfig from "./KaleyraConfig.js"
import {
  isRetryable,
  type KaleyraResponseError,
  type SendMediaError,
  TransportError,
  type UnexpectedResponse
} from "./KaleyraError.js"
import {
  type KaleyraEvent,
  KaleyraEvents,
  MediaUploaded,
  RetryScheduled,
  SendAccepted,
  SendFailed
} from "./KaleyraEvents.js"
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
   * The `HttpClient` requests go through (after `transformClient`). When it offers an `HttpTransport.Exchange` (and
   * there is no `transformClient`), sends go through that exchange instead of `execute`.
   */
  readonly httpClient: HttpClient.HttpClient
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
  /**
   * Runs one request against the account URL with the client's timeout and retry policy, mapping every outcome to
   * a tagged error. `path` is relative to `{baseUrl}/v2/{sid}/whatsapp/{senderNumber}`.
   */
  readonly execute: (
    request: HttpClientRequest.HttpClientRequest,
    options?: AttemptHooks & { readonly timeout?: Duration.Duration }
  ) => Effect.Effect<
    { readonly response: RawResponse; readonly attempts: number },
    KaleyraResponseError | TransportError
  >
}

/**
 * The Kaleyra client.
 *
 * ```ts
 * import { KaleyraClient } from "@effect-kaleyra/core"
 * const layer = KaleyraClient.layer({ sid, apiKey, senderNumber, region: "IN" }) // needs an HttpClient
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

const MAX_BACKOFF_MILLIS = 30_000

/** Effect's default tracer: its spans go nowhere unless they are made current. */
const defaultTracer = Context.get(DefaultServices.liveServices, Tracer.Tracer)

/**
 * The delay before retry number `retry` (1-based): the `Retry-After` of a 429 when it came, otherwise exponential
 * backoff with ±50% jitter. `undefined` means "do not retry" (a `Retry-After` longer than `maxRetryAfter`).
 */
const retryDelay = (config: KaleyraConfig.Resolved, error: SendMediaError, retry: number) =>
  Effect.map(Random.next, (r): Duration.Duration | undefined => {
    if (error._tag === "RateLimited" && error.retryAfter !== undefined) {
      return Duration.greaterThan(error.retryAfter, config.maxRetryAfter) ? undefined : error.retryAfter
    }
    const base = Duration.toMillis(config.retryBaseDelay) * 2 ** (retry - 1)
    return Duration.millis(Math.round(Math.min(base, MAX_BACKOFF_MILLIS) * (0.5 + r)))
  })

const toResult = (
  message: MediaMessage.MediaMessage,
  response: RawResponse,
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

/** Fails with `onTimeout` when `effect` has not completed within `duration` (on the `Clock`). */
const withTimeout = <A, E, E2>(
  effect: Effect.Effect<A, E>,
  duration: Duration.Duration,
  onTimeout: (duration: Duration.Duration) => E2
): Effect.Effect<A, E | E2> => Effect.timeoutFail(effect, { duration, onTimeout: () => onTimeout(duration) })

/**
 * Builds the client over the `HttpClient` in context. Adds `api-key` to the redacted header names for every effect
 * the layer is provided to, so the key never appears in logs or spans.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: KaleyraConfig.Options
): Effect.Effect<Service, ConfigError.ConfigError, HttpClient.HttpClient | Scope.Scope> =>
  Effect.gen(function*() {
    const config = yield* KaleyraConfig.resolve(options)
    yield* Effect.locallyScopedWith(Headers.currentRedactedNames, Arr.append("api-key"))
    const eventsService = yield* Effect.serviceOption(KaleyraEvents)
    const events = Option.getOrUndefined(eventsService)
    const baseClient = yield* HttpClient.HttpClient
    const nativeTimeout = options.transformClient === undefined && HttpTransport.hasNativeTimeout(baseClient)
    const exchange = options.transformClient === undefined ? HttpTransport.exchangeOf(baseClient) : undefined
    // The transport reads the attempt timeout from this FiberRef. Set once for every effect the layer is provided
    // to; only calls with another timeout (uploads) change it locally.
    if (nativeTimeout) yield* Effect.locallyScoped(HttpTransport.currentTimeout, config.timeout)
    // No trace headers to a third party. The lean transports send none, so they need no wrapper (one FiberRef
    // change less per request).
    const httpClient = options.transformClient !== undefined
      ? options.transformClient(HttpClient.withTracerPropagation(baseClient, false))
      : nativeTimeout
      ? baseClient
      : HttpClient.withTracerPropagation(baseClient, false)
    const baseHeaders = {
      "api-key": Redacted.value(config.apiKey),
      "cache-control": "no-cache",
      accept: "application/json"
    }
    const messagesUrl = `${config.accountUrl}/messages`
    const messagesRequest = HttpClientRequest.post(messagesUrl).pipe(HttpClientRequest.setHeaders(baseHeaders))
    const messagesHeaders = { ...baseHeaders, "content-type": "application/json" }
    const timeoutMillis = Duration.toMillis(config.timeout)

    // Errors only: a server or transport may echo the key back (internal/secret.ts).
    const scrub = errorScrubber(Redacted.value(config.apiKey))
    const scrubText = textScrubber(Redacted.value(config.apiKey))
    const timeoutError = (timeout: Duration.Duration) =>
      new TransportError({
        reason: "Timeout",
        mayHaveReachedKaleyra: true,
        detail: `no complete response within ${Duration.format(timeout)}`
      }, { disableValidation: true })
    /** A response that is not a success, as its tagged error (a 429's `Retry-After` date is read on the `Clock`). */
    const responseError = (raw: RawResponse): Effect.Effect<KaleyraResponseError> =>
      raw.status === 429
        ? Effect.map(Clock.currentTimeMillis, (now) => scrub(errorFromResponse(raw, now)))
        : Effect.succeed(scrub(errorFromResponse(raw, 0)))
    const isSuccess = (raw: RawResponse) => raw.status >= 200 && raw.status < 300

    /**
     * What the caller does with the outcome of the last attempt, and before a retry (ahead of the hooks'), given the
     * call's context `C` (for a send, its message): made once per client, not once per call.
     */
    interface Settle<C, A, E> {
      readonly onSuccess: (context: C, response: RawResponse, attempts: number) => Effect.Effect<A, E>
      readonly onFailure: (
        context: C,
        error: KaleyraResponseError | TransportError,
        attempts: number
      ) => Effect.Effect<A, E>
      readonly onRetry?: (
        context: C,
        error: KaleyraResponseError | TransportError,
        attempt: number,
        delay: Duration.Duration
      ) => Effect.Effect<void>
    }

    /**
     * Runs `once` (one HTTP attempt, failing with the transport's own error, mapped by `toError`) with the retry policy
     * and the hooks around each attempt, and settles on the last attempt's outcome. A defect of the transport becomes
     * an ambiguous `TransportError`; one of a hook (`beforeAttempt`, `onRetry`) stays a defect.
     */
    const retrying = <E, C, A, E2>(
      once: Effect.Effect<RawResponse, E>,
      toError: (error: E) => TransportError | UnexpectedResponse,
      hooks: AttemptHooks | undefined,
      settled: Settle<C, A, E2>,
      context: C
    ): Effect.Effect<A, E2> => {
      const cancel = hooks?.cancelRetries
      const retryOrFail = (error: KaleyraResponseError | TransportError, attempt: number): Effect.Effect<A, E2> => {
        if (attempt > config.maxRetries || !isRetryable(error)) return settled.onFailure(context, error, attempt)
        const retry = Effect.flatMap(retryDelay(config, error, attempt), (delay) => {
          if (delay === undefined) return settled.onFailure(context, error, attempt)
          const announce = Effect.logDebug("Kaleyra: retrying").pipe(
            Effect.annotateLogs({ error: error._tag, attempt, delay: Duration.format(delay) })
          )
          return announce.pipe(
            Effect.zipRight(settled.onRetry?.(context, error, attempt, delay) ?? Effect.void),
            Effect.zipRight(hooks?.onRetry?.(error, attempt, delay) ?? Effect.void),
            Effect.zipRight(
              cancel === undefined
                ? Effect.delay(Effect.suspend(() => loop(attempt + 1)), delay)
                : Effect.raceFirst(Effect.sleep(delay), Deferred.await(cancel)).pipe(
                  Effect.zipRight(hooks?.beforeAttempt ?? Effect.void),
                  Effect.zipRight(Deferred.isDone(cancel)),
                  Effect.flatMap((cancelled) =>
                    cancelled ? settled.onFailure(context, error, attempt) : attemptOnce(attempt + 1)
                  )
                )
            )
          )
        })
        return cancel === undefined ? retry : Effect.flatMap(
          Deferred.isDone(cancel),
          (cancelled) => cancelled ? settled.onFailure(context, error, attempt) : retry
        )
      }
      const loop = (attempt: number): Effect.Effect<A, E2> =>
        hooks?.beforeAttempt === undefined
          ? attemptOnce(attempt)
          : Effect.zipRight(hooks.beforeAttempt, attemptOnce(attempt))
      const attemptOnce = (attempt: number): Effect.Effect<A, E2> =>
        Effect.matchCauseEffect(once, {
          onFailure: (cause): Effect.Effect<A, E2> => {
            const failure = Cause.failureOption(cause)
            if (failure._tag === "Some") return retryOrFail(scrub(toError(failure.value)), attempt)
            // A defect in the transport is not the caller's fault: report it as an ambiguous transport failure.
            return Cause.isInterruptedOnly(cause)
              ? Effect.failCause(cause as Cause.Cause<never>)
              : retryOrFail(scrub(transportErrorFromCause(Cause.squash(cause))), attempt)
          },
          onSuccess: (raw) =>
            isSuccess(raw)
              ? settled.onSuccess(context, raw, attempt)
              : Effect.flatMap(responseError(raw), (error) => retryOrFail(error, attempt))
        })
      return loop(1)
    }

    /** One attempt through `execute`, with the timeout (native, or the generic wrapper), reading the response. */
    const executeOnce = (request: HttpClientRequest.HttpClientRequest, timeout: Duration.Duration) => {
      if (nativeTimeout) {
        const exchanged = Effect.flatMap(httpClient.execute(request), readResponse)
        return timeout === config.timeout ? exchanged : Effect.locally(exchanged, HttpTransport.currentTimeout, timeout)
      }
      const executed = traced(request, httpClient.execute(request), scrubText, (e) => scrub(fromExecuteError(e)))
      return withTimeout(Effect.flatMap(executed, readResponse), timeout, timeoutError)
    }
    const fromExecuteError = (error: HttpClientError.HttpClientError | TransportError | UnexpectedResponse) =>
      error._tag === "TransportError" || error._tag === "UnexpectedResponse" ? error : fromRequestError(error)
    const settledRaw: Settle<
      void,
      { response: RawResponse; attempts: number },
      KaleyraResponseError | TransportError
    > = {
      onSuccess: (_, response, attempts) => Effect.succeed({ response, attempts }),
      onFailure: (_, error) => Effect.fail(error)
    }

    const execute: Service["execute"] = (request, executeOptions) =>
      retrying(
        executeOnce(request, executeOptions?.timeout ?? config.timeout),
        fromExecuteError,
        executeOptions,
        settledRaw,
        undefined
      )

    /**
     * Sends a validated message: through the transport's exchange when it offers one (one step per attempt),
     * otherwise through `execute` (the same request, headers and body).
     */
    const send = <C extends { readonly message: MediaMessage.MediaMessage }, A, E>(
      hooks: AttemptHooks | undefined,
      settled: Settle<C, A, E>,
      context: C
    ): Effect.Effect<A, E> => {
      const body = toWireJson(context.message)
      return exchange !== undefined
        ? retrying(
          exchange({ method: "POST", url: messagesUrl, headers: messagesHeaders, body, timeoutMillis }),
          fromExchangeFailure,
          hooks,
          settled,
          context
        )
        : retrying(
          executeOnce(
            HttpClientRequest.setBody(messagesRequest, HttpBody.text(body, "application/json")),
            config.timeout
          ),
          fromExecuteError,
          hooks,
          settled,
          context
        )
    }

    /** A send in progress: its message, and (with events) when it started, on the clock its events are timed on. */
    interface Sending {
      readonly message: MediaMessage.MediaMessage
      readonly clock: Clock.Clock
      readonly startedAt: number
    }

    /** The outcome of a send without events. */
    const settledQuietly: Settle<Pick<Sending, "message">, SendMediaResult, SendMediaError> = {
      onSuccess: ({ message }, response, attempts) => {
        const result = toResult(message, response, attempts)
        return Either.isRight(result) ? Effect.succeed(result.right) : Effect.fail(scrub(result.left))
      },
      onFailure: (_, error) => Effect.fail(error)
    }

    /**
     * `then`, once `event` is published: called while the send runs (in a continuation), it publishes at once. An
     * Effect step only when a subscriber's buffer is full.
     */
    const announced = <A, E>(
      events: KaleyraEvents["Type"],
      event: KaleyraEvent,
      then: Effect.Effect<A, E>
    ): Effect.Effect<A, E> => unsafeOffer(events, event) ? then : Effect.zipRight(events.publish(event), then)

    /**
     * The outcome of a send, published as a `SendAccepted` or `SendFailed` event timed on the send's clock (no event
     * is built when nobody subscribes); each retry is announced as a `RetryScheduled` event, before the caller's own
     * `onRetry` runs.
     */
    const settledWithEvents = (events: KaleyraEvents["Type"]): Settle<Sending, SendMediaResult, SendMediaError> => {
      const failed = (
        sending: Sending,
        error: SendMediaError,
        attempts: number
      ): Effect.Effect<never, SendMediaError> =>
        events.unsafeHasSubscribers()
          ? announced(
            events,
            new SendFailed({
              error,
              recipients: sending.message.to,
              type: sending.message.type,
              refs: refsOf(sending.message),
              attempts,
              durationMillis: sending.clock.unsafeCurrentTimeMillis() - sending.startedAt
            }),
            Effect.fail(error)
          )
          : Effect.fail(error)
      return {
        onSuccess: (sending, response, attempts) => {
          const result = toResult(sending.message, response, attempts)
          if (Either.isLeft(result)) return failed(sending, scrub(result.left), attempts)
          const sent = result.right
          return events.unsafeHasSubscribers()
            ? announced(
              events,
              new SendAccepted({
                messageId: sent.messageId,
                recipients: sent.recipients,
                type: sent.type,
                refs: refsOf(sending.message),
                attempts,
                durationMillis: sending.clock.unsafeCurrentTimeMillis() - sending.startedAt
              }),
              Effect.succeed(sent)
            )
            : Effect.succeed(sent)
        },
        onFailure: failed,
        onRetry: ({ message }, error, attempt, delay) =>
          events.publish(
            new RetryScheduled({
              operation: "send",
              error,
              attempt,
              delayMillis: Duration.toMillis(delay),
              recipients: message.to,
              refs: refsOf(message)
            })
          )
      }
    }
    const settled = events === undefined ? undefined : settledWithEvents(events)

    const sendMedia = (input: MediaMessage.SendMediaInput, hooks?: AttemptHooks) => {
      const validated = MediaMessage.validate(input)
      if (Either.isLeft(validated)) {
        const failed = Effect.fail(validated.left)
        return events === undefined ? failed : Effect.zipRight(
          events.publish(
            new SendFailed({
              error: validated.left,
              recipients: [],
              type: undefined,
              refs: {},
              attempts: 0,
              durationMillis: 0
            })
          ),
          failed
        )
      }
      return sendMessage(validated.right, hooks)
    }

    const spanOptions = (message: MediaMessage.MediaMessage) => ({
      kind: "client" as const,
      captureStackTrace: false,
      attributes: { "kaleyra.type": message.type, "kaleyra.recipients": message.to.length }
    })
    const annotate = (span: { attribute(key: string, value: unknown): void }, result: SendMediaResult) => {
      span.attribute("kaleyra.message_id", result.messageId)
      span.attribute("kaleyra.attempts", result.attempts)
    }
    // One span per send. With the lean transports nothing nests under it, so it is created and ended directly;
    // making it the current span (Effect.withSpan) copies the fiber's context, which costs a third of the send path.
    // Under Effect's default tracer, which records nothing, such a span could never be seen: it is not made at all
    // (a native span draws 48 random hex digits for its ids). Over a generic HttpClient, the client's own http.client
    // span (in place of the platform's, scrubbed: clientSpan.ts) is nested under the send span.
    const spanned = (effect: Effect.Effect<SendMediaResult, SendMediaError>, message: MediaMessage.MediaMessage) =>
      Effect.flatMap(Effect.makeSpan("Kaleyra.sendMedia", spanOptions(message)), (span) =>
        Effect.onExit(effect, (exit) =>
          Effect.flatMap(Clock.currentTimeNanos, (now) =>
            Effect.sync(() => {
              if (exit._tag === "Success") {
                annotate(span, exit.value)
              }
              span.end(now, exit)
            }))))
    const withSpan = (effect: Effect.Effect<SendMediaResult, SendMediaError>, message: MediaMessage.MediaMessage) =>
      effect.pipe(
        Effect.tap((result) =>
          Effect.annotateCurrentSpan({ "kaleyra.message_id": result.messageId, "kaleyra.attempts": result.attempts })
        ),
        Effect.withSpan("Kaleyra.sendMedia", spanOptions(message))
      )
    // The fiber's default services (clock and tracer) are read once per send, in one step.
    const sendMessage = (message: MediaMessage.MediaMessage, hooks?: AttemptHooks) =>
      Effect.withFiberRuntime<SendMediaResult, SendMediaError>((fiber) => {
        const services = fiber.getFiberRef(DefaultServices.currentServices)
        let sending: Effect.Effect<SendMediaResult, SendMediaError>
        if (settled === undefined) {
          sending = send(hooks, settledQuietly, { message })
        } else {
          const clock = Context.get(services, Clock.Clock)
          sending = send(hooks, settled, { message, clock, startedAt: clock.unsafeCurrentTimeMillis() })
        }
        if (!nativeTimeout) {
          return withSpan(sending, message)
        }
        return Context.get(services, Tracer.Tracer) === defaultTracer ? sending : spanned(sending, message)
      })

    const mediaRequest = HttpClientRequest.post(`${config.accountUrl}/media`).pipe(
      HttpClientRequest.setHeaders({ "api-key": Redacted.value(config.apiKey), accept: "application/json" })
    )

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
        const request = HttpClientRequest.setBody(mediaRequest, HttpBody.formData(form))
        // Uploads may be large: allow at least 100 kB/s on top of the per-attempt timeout.
        const timeout = Duration.sum(config.timeout, Duration.millis(Math.ceil(file.checked.size / 100)))
        const { attempts, response } = yield* execute(request, {
          timeout,
          ...(events !== undefined
            ? {
              onRetry: (error, attempt, delay) =>
                events.publish(
                  new RetryScheduled({
                    operation: "upload",
                    error,
                    attempt,
                    delayMillis: Duration.toMillis(delay),
                    recipients: [],
                    refs: {}
                  })
                )
            }
            : {})
        })
        const body = parseJson(response)
        const id = Either.isRight(body) ? findId(body.right, MEDIA_ID_PATHS) : undefined
        if (id === undefined) {
          return yield* Either.isLeft(body) ? body.left : unexpectedResponse(response, "MissingId", body.right)
        }
        const result: UploadMediaResult = {
          id,
          mimeType: file.checked.mimeType,
          mediaType: file.checked.mediaType,
          filename: file.checked.filename,
          size: file.checked.size,
          attempts
        }
        if (events !== undefined) {
          const now = yield* Clock.currentTimeMillis
          yield* events.publish(new MediaUploaded({ ...result, durationMillis: now - startedAt }))
        }
        return result
      },
      Effect.mapError((error) =>
        error._tag === "InvalidMedia" ? error : scrub(error)
      )
    )

    return KaleyraClient.of({ config, httpClient, sendMedia, sendMessage, events, uploadMedia, execute })
  })

/**
 * The client as a layer, over the `HttpClient` it is given.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: KaleyraConfig.Options
): Layer.Layer<KaleyraClient, ConfigError.ConfigError, HttpClient.HttpClient> =>
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
): Layer.Layer<KaleyraClient, ConfigError.ConfigError, HttpClient.HttpClient> =>
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
