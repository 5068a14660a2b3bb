/**
 * The Kaleyra client service: `sendMedia` over any `HttpClient`, with typed errors, per-attempt timeouts and retries
 * that never send a message twice.
 *
 * @since 0.1.0
 */
import * as Headers from "@effect/platform/Headers"
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Arr from "effect/Array"
import * as Clock from "effect/Clock"
import type * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { identity } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Random from "effect/Random"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { errorFromResponse, type RawResponse, sendSuccessFromResponse } from "./internal/response.js"
import { fromRequestError, readResponse, transportErrorFromCause } from "./internal/transport.js"
import * as KaleyraConfig from "./KaleyraConfig.js"
import { isRetryable, type SendMediaError, TransportError, UnexpectedResponse } from "./KaleyraError.js"
import * as MediaMessage from "./MediaMessage.js"

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
  readonly type: MediaMessage.MediaType
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
 * A hook that the client calls at each step of a send (used by `KaleyraEvents`). It must not block.
 *
 * @since 0.1.0
 * @category models
 */
export interface SendObserver {
  readonly onAccepted: (message: MediaMessage.MediaMessage, result: SendMediaResult, durationMillis: number) => void
  readonly onFailed: (
    input: MediaMessage.MediaMessage | undefined,
    error: SendMediaError,
    attempts: number,
    durationMillis: number
  ) => void
  readonly onRetry: (
    message: MediaMessage.MediaMessage,
    error: SendMediaError,
    attempt: number,
    delay: Duration.Duration
  ) => void
}

/**
 * An optional service: when present where the client's layer is built, the client reports to it.
 *
 * @since 0.1.0
 * @category tags
 */
export class KaleyraObserver
  extends Context.Tag("@effect-kaleyra/core/KaleyraObserver")<KaleyraObserver, SendObserver>()
{}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** The resolved configuration (the API key stays redacted). */
  readonly config: KaleyraConfig.Resolved
  /** The `HttpClient` requests go through (after `transformClient`). */
  readonly httpClient: HttpClient.HttpClient
  /** Sends one media message to one or more recipients. */
  readonly sendMedia: (input: MediaMessage.SendMediaInput) => Effect.Effect<SendMediaResult, SendMediaError>
  /**
   * Runs one request against the account URL with the client's timeout and retry policy, mapping every outcome to
   * a tagged error. `path` is relative to `{baseUrl}/v2/{sid}/whatsapp/{senderNumber}`.
   */
  readonly execute: (
    request: HttpClientRequest.HttpClientRequest,
    options?: { readonly onRetry?: (error: SendMediaError, attempt: number, delay: Duration.Duration) => void }
  ) => Effect.Effect<{ readonly response: RawResponse; readonly attempts: number }, SendMediaError>
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

/**
 * Removes the API key from the free-text parts of an error (a transport's message or a server's page may quote
 * the request), so that no error, log or span can carry it.
 */
const secretScrubber = (secret: string) => <E extends SendMediaError>(error: E): E => {
  if (error._tag === "TransportError" && error.detail.includes(secret)) {
    return new TransportError({ ...error, detail: error.detail.split(secret).join("<redacted>") }, {
      disableValidation: true
    }) as E
  }
  if (error._tag === "UnexpectedResponse") {
    const leaks = error.excerpt.includes(secret) ||
      (error.body !== undefined && JSON.stringify(error.body).includes(secret))
    if (!leaks) return error
    return new UnexpectedResponse({
      status: error.status,
      reason: error.reason,
      ...(error.contentType !== undefined ? { contentType: error.contentType } : {}),
      excerpt: error.excerpt.split(secret).join("<redacted>")
    }, { disableValidation: true }) as E
  }
  return error
}

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
    const observer = yield* Effect.serviceOption(KaleyraObserver)
    const observe = observer._tag === "Some" ? observer.value : undefined
    const transform = options.transformClient ?? identity
    const httpClient = transform(HttpClient.withTracerPropagation(yield* HttpClient.HttpClient, false))
    const baseHeaders = {
      "api-key": Redacted.value(config.apiKey),
      "cache-control": "no-cache",
      accept: "application/json"
    }
    const messagesRequest = HttpClientRequest.post(`${config.accountUrl}/messages`).pipe(
      HttpClientRequest.setHeaders(baseHeaders)
    )

    const scrub = secretScrubber(Redacted.value(config.apiKey))
    const attemptOnce = (request: HttpClientRequest.HttpClientRequest): Effect.Effect<RawResponse, SendMediaError> =>
      httpClient.execute(request).pipe(
        Effect.catchAllDefect((defect) => Effect.fail(transportErrorFromCause(defect))),
        Effect.mapError((error) => scrub(error instanceof TransportError ? error : fromRequestError(error))),
        Effect.flatMap(readResponse),
        Effect.timeoutFail({
          duration: config.timeout,
          onTimeout: () =>
            new TransportError({
              reason: "Timeout",
              mayHaveReachedKaleyra: true,
              detail: `no complete response within ${Duration.format(config.timeout)}`
            }, { disableValidation: true })
        }),
        Effect.flatMap((raw) =>
          raw.status >= 200 && raw.status < 300
            ? Effect.succeed(raw)
            : Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.fail(scrub(errorFromResponse(raw, now))))
        ),
        Effect.mapError(scrub)
      )

    const execute: Service["execute"] = (request, executeOptions) => {
      const loop = (attempt: number): Effect.Effect<{ response: RawResponse; attempts: number }, SendMediaError> =>
        attemptOnce(request).pipe(
          Effect.map((response) => ({ response, attempts: attempt })),
          Effect.catchAll((error) => {
            if (attempt > config.maxRetries || !isRetryable(error)) return Effect.fail(error)
            return Effect.flatMap(retryDelay(config, error, attempt), (delay) => {
              if (delay === undefined) return Effect.fail(error)
              executeOptions?.onRetry?.(error, attempt, delay)
              return Effect.zipRight(
                Effect.logDebug("Kaleyra: retrying").pipe(
                  Effect.annotateLogs({ error: error._tag, attempt, delay: Duration.format(delay) })
                ),
                Effect.delay(Effect.suspend(() => loop(attempt + 1)), delay)
              )
            })
          })
        )
      return loop(1)
    }

    const send = (message: MediaMessage.MediaMessage, startedAt: number) => {
      const wire = MediaMessage.toWire(message)
      const request = HttpClientRequest.setBody(
        messagesRequest,
        HttpBody.text(JSON.stringify(wire), "application/json")
      )
      return execute(
        request,
        observe && { onRetry: (error, attempt, delay) => observe.onRetry(message, error, attempt, delay) }
      ).pipe(
        Effect.flatMap(({ attempts, response }) => {
          const success = sendSuccessFromResponse(response)
          if (Either.isLeft(success)) return Effect.fail(success.left)
          const result: SendMediaResult = {
            messageId: success.right.messageId,
            recipients: message.to,
            type: message.type,
            status: response.status,
            ...(success.right.code !== undefined ? { code: success.right.code } : {}),
            ...(success.right.message !== undefined ? { message: success.right.message } : {}),
            ...(message.extraInfo !== undefined ? { extraInfo: message.extraInfo } : {}),
            attempts
          }
          return Effect.succeed(result)
        }),
        observe === undefined ? identity : Effect.tapBoth({
          onFailure: (error) =>
            Effect.flatMap(Clock.currentTimeMillis, (now) =>
              Effect.sync(() => observe.onFailed(message, error, 0, now - startedAt))),
          onSuccess: (result) =>
            Effect.flatMap(Clock.currentTimeMillis, (now) =>
              Effect.sync(() =>
                observe.onAccepted(message, result, now - startedAt)
              ))
        })
      )
    }

    const sendMedia = Effect.fn("Kaleyra.sendMedia")(
      function*(input: MediaMessage.SendMediaInput) {
        const startedAt = yield* Clock.currentTimeMillis
        const validated = MediaMessage.validate(input)
        if (Either.isLeft(validated)) {
          if (observe !== undefined) {
            observe.onFailed(undefined, validated.left, 0, 0)
          }
          return yield* validated.left
        }
        const message = validated.right
        yield* Effect.annotateCurrentSpan({
          "kaleyra.type": message.type,
          "kaleyra.recipients": message.to.length
        })
        const result = yield* send(message, startedAt)
        yield* Effect.annotateCurrentSpan({
          "kaleyra.message_id": result.messageId,
          "kaleyra.attempts": result.attempts
        })
        return result
      }
    )

    return KaleyraClient.of({ config, httpClient, sendMedia, execute })
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
 * @since 0.1.0
 * @category sending
 */
export const sendMedia = (
  input: MediaMessage.SendMediaInput
): Effect.Effect<SendMediaResult, SendMediaError, KaleyraClient> =>
  Effect.flatMap(KaleyraClient, (client) => client.sendMedia(input))
