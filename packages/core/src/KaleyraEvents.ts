/**
 * One stream of everything: the events of what the client did (send accepted or failed, retry scheduled, media
 * uploaded) and of what Kaleyra reported back (decoded by `KaleyraCallback`), with per-message status tracking
 * (status only moves forward, duplicates are ignored) and `awaitStatus`.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Deferred from "effect/Deferred"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import type * as Queue from "effect/Queue"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as FailureReason from "./FailureReason.js"
import { registerOffer } from "./internal/events.js"
import {
  type CallbackDecodeError,
  type CallbackEvent,
  decodeCallbackEntries,
  type DecodedCallback,
  MessageStatus,
  MessageStatusUpdated,
  type Refs
} from "./KaleyraCallback.js"
import type { SendMediaError } from "./KaleyraError.js"
import type { MediaType, MessageType } from "./MediaMessage.js"

/**
 * Kaleyra accepted a send (HTTP 2xx).
 *
 * @since 0.1.0
 * @category events
 */
export class SendAccepted extends Data.TaggedClass("SendAccepted")<{
  readonly messageId: string
  readonly recipients: ReadonlyArray<string>
  readonly type: MessageType
  readonly refs: Refs
  readonly attempts: number
  readonly durationMillis: number
}> {}

/**
 * A send failed with a tagged error (after any retries).
 *
 * @since 0.1.0
 * @category events
 */
export class SendFailed extends Data.TaggedClass("SendFailed")<{
  readonly error: SendMediaError
  /** Empty when the input was invalid before recipients could be read. */
  readonly recipients: ReadonlyArray<string>
  readonly type: MessageType | undefined
  readonly refs: Refs
  readonly attempts: number
  readonly durationMillis: number
}> {}

/**
 * A retryable failure: the client will try again after `delayMillis`.
 *
 * @since 0.1.0
 * @category events
 */
export class RetryScheduled extends Data.TaggedClass("RetryScheduled")<{
  readonly operation: "send" | "upload"
  readonly error: SendMediaError
  /** The attempt that failed (1 for the first). */
  readonly attempt: number
  readonly delayMillis: number
  readonly recipients: ReadonlyArray<string>
  readonly refs: Refs
}> {}

/**
 * A media file was uploaded.
 *
 * @since 0.1.0
 * @category events
 */
export class MediaUploaded extends Data.TaggedClass("MediaUploaded")<{
  readonly id: string
  readonly mimeType: string
  readonly mediaType: MediaType
  readonly filename: string
  readonly size: number
  readonly attempts: number
  readonly durationMillis: number
}> {}

/**
 * Every event, in one stream: the client's own (above) and what Kaleyra reported back (`KaleyraCallback`'s
 * `MessageStatusUpdated` and `IncomingMessage`).
 *
 * @since 0.1.0
 * @category events
 */
export type KaleyraEvent = SendAccepted | SendFailed | RetryScheduled | MediaUploaded | CallbackEvent

/** A status only ever moves to a higher rank; `failed` ranks highest, so any order of the same callbacks ends alike. */
const statusRank: Readonly<Record<MessageStatus, number>> = { sent: 1, delivered: 2, read: 3, failed: 4 }

/**
 * `awaitStatus` gave up: the status was not reached in time. `lastStatus` is the last one seen, if any.
 *
 * @since 0.1.0
 * @category errors
 */
export class AwaitStatusTimeout extends Schema.TaggedError<AwaitStatusTimeout>(
  "@effect-kaleyra/core/AwaitStatusTimeout"
)("AwaitStatusTimeout", {
  messageId: Schema.String,
  status: MessageStatus,
  lastStatus: Schema.optional(MessageStatus)
}) {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `Message ${this.messageId} did not reach ${this.status} in time (last status: ${this.lastStatus ?? "none"})`
  }
}

/**
 * `awaitStatus` waited for `delivered` or `read`, but the message failed (with Meta's or Kaleyra's errors).
 *
 * @since 0.1.0
 * @category errors
 */
export class MessageFailed extends Schema.TaggedError<MessageFailed>("@effect-kaleyra/core/MessageFailed")(
  "MessageFailed",
  {
    messageId: Schema.String,
    errors: Schema.Array(Schema.Struct({
      code: Schema.Union(Schema.Number, Schema.String),
      title: Schema.optional(Schema.String),
      message: Schema.optional(Schema.String),
      details: Schema.optional(Schema.String)
    }))
  }
) {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    const first = this.errors[0]
    return `Message ${this.messageId} failed` +
      (first !== undefined ? `: ${first.code}${first.title !== undefined ? ` ${first.title}` : ""}` : "")
  }

  /**
   * Why it failed, typed from Meta's code (e.g. `OutsideWindow` for 131047: send a template instead).
   *
   * @since 0.2.0
   */
  get failureReason(): FailureReason.FailureReason | undefined {
    return FailureReason.fromCallbackErrors(this.errors)
  }
}

/**
 * What the `KaleyraEvents` service offers: the stream of events, subscriptions, publishing.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Every event from now on (each run of the stream is its own subscription). */
  readonly events: Stream.Stream<KaleyraEvent>
  /** A subscription as a queue, for as long as the scope lives. */
  readonly subscribe: Effect.Effect<Queue.Dequeue<KaleyraEvent>, never, Scope.Scope>
  /** Publishes an event; never blocks (a subscriber that falls behind the capacity loses the oldest events). */
  readonly publish: (event: KaleyraEvent) => Effect.Effect<void>
  /**
   * Whether anybody subscribes now (`events` running, or a `subscribe` scope open). An event published while nobody
   * does reaches nobody: a publisher may skip building it.
   */
  readonly unsafeHasSubscribers: () => boolean
  /**
   * Records a callback event: a status that moves the message forward is tracked and published; a duplicate or a
   * status that would move it backwards is ignored. Incoming messages are always published. Returns whether the
   * event was published.
   *
   * Order is checked against the statuses of the `trackedMessages` most recently updated messages. A status of a
   * message the tracker does not remember is published with `orderUnchecked: true` when it may follow a forgotten
   * one: the tracker has forgotten a message, the status is not `failed`, and its timestamp is missing or not later
   * than every forgotten status (by Meta's timestamp, or the time it arrived when it had none or one more than 5
   * minutes after it arrived).
   */
  readonly ingest: (event: CallbackEvent) => Effect.Effect<boolean>
  /**
   * Decodes a callback payload and ingests each of its events; an entry that cannot be decoded (an unknown status
   * word, a malformed entry) is left out and logged at Warning, and its siblings are ingested.
   */
  readonly ingestPayload: (body: unknown) => Effect.Effect<ReadonlyArray<CallbackEvent>, CallbackDecodeError>
  /** {@link Service.ingestPayload}, returning the entries left out as well (each with why). */
  readonly ingestCallback: (body: unknown) => Effect.Effect<DecodedCallback, CallbackDecodeError>
  /** The furthest status seen for a message (among the most recent `trackedMessages`). */
  readonly status: (messageId: string) => Effect.Effect<Option.Option<MessageStatusUpdated>>
  /**
   * Waits until a message reaches `status` (or a later one: `read` satisfies `delivered`). Fails with
   * `MessageFailed` if it fails first (unless `failed` is awaited), or `AwaitStatusTimeout` after `timeout`
   * (default 1 minute).
   */
  readonly awaitStatus: (
    messageId: string,
    status: MessageStatus,
    options?: { readonly timeout?: Duration.DurationInput }
  ) => Effect.Effect<MessageStatusUpdated, AwaitStatusTimeout | MessageFailed>
}

/**
 * One stream of typed events: what the client did and what Kaleyra reported back (provided by `KaleyraNode.layer` and `KaleyraTest.layer`).
 *
 * @since 0.1.0
 * @category tags
 */
export class KaleyraEvents extends Context.Tag("@effect-kaleyra/core/KaleyraEvents")<KaleyraEvents, Service>() {
  /**
   * @since 0.1.0
   */
  static readonly make = (options?: Options) => make(options)
  /**
   * @since 0.1.0
   */
  static readonly layer = (options?: Options) => layer(options)
  /**
   * @since 0.1.0
   */
  static readonly shared = (options?: Options) => shared(options)
  /**
   * @since 0.1.0
   */
  static readonly layerShared = (options?: Options) => layerShared(options)
  /**
   * Every event from now on (the service's `events`, as a stream that needs the service).
   *
   * @since 0.1.0
   */
  static get events(): Stream.Stream<KaleyraEvent, never, KaleyraEvents> {
    return events
  }
  /**
   * @since 0.1.0
   */
  static readonly awaitStatus = (
    messageId: string,
    status: MessageStatus,
    options?: { readonly timeout?: Duration.DurationInput }
  ) => awaitStatus(messageId, status, options)
}

/**
 * Options of the `KaleyraEvents` service: how many events a subscriber that falls behind keeps, how many messages' statuses are remembered.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * Events kept per subscriber that falls behind (default 16,384; at least 2, a smaller number counts as 2: effect's
   * sliding PubSub of capacity 1 hands a slid event to one subscriber twice and loses it for another,
   * Effect-TS/effect#7601); `"unbounded"` never drops.
   */
  readonly capacity?: number | "unbounded"
  /**
   * How many messages' statuses are remembered (default 100,000; the least recently updated are forgotten first). A
   * status never goes backwards for a remembered message; see `Service.ingest` for a forgotten one.
   */
  readonly trackedMessages?: number
}

type Waiter = {
  readonly status: MessageStatus
  readonly deferred: Deferred.Deferred<MessageStatusUpdated, MessageFailed>
}

const settles = (
  target: MessageStatus,
  current: MessageStatusUpdated
): Either.Either<MessageStatusUpdated, MessageFailed> | undefined => {
  if (current.status === target) return Either.right(current)
  if (current.status === "failed") {
    return Either.left(new MessageFailed({ messageId: current.messageId, errors: current.errors }))
  }
  if (target !== "failed" && statusRank[current.status] >= statusRank[target]) return Either.right(current)
  return undefined
}

/**
 * Builds the service. Sends publish nothing that is kept when nobody listens: memory does not grow with the number
 * of sends, only with the number of tracked callback statuses (bounded by `trackedMessages`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<Service, never, Scope.Scope> =>
  Effect.gen(function*() {
    const capacity = options.capacity === "unbounded"
      ? "unbounded"
      : Math.max(2, Math.floor(options.capacity ?? 16_384) || 2)
    // The PubSub is made at the first subscription: events published before any subscription reach nobody either
    // way, and a sliding PubSub allocates its capacity at once (two arrays of 16 384 slots by default, which was most
    // of the cost of building a client, as a property test does at every run).
    let pubsub: PubSub.PubSub<KaleyraEvent> | undefined
    let closed = false
    const hub: Effect.Effect<PubSub.PubSub<KaleyraEvent>> = Effect.suspend(() =>
      pubsub !== undefined ? Effect.succeed(pubsub) : Effect.flatMap(
        capacity === "unbounded" ? PubSub.unbounded<KaleyraEvent>() : PubSub.sliding<KaleyraEvent>(capacity),
        (made) => {
          // Two first subscriptions at once: the first PubSub made is the one. Made after the service's scope closed
          // (or while it closed), it is shut down as the finalizer would have: its subscribers' queues end at once.
          const first = pubsub ??= made
          return closed ? Effect.as(PubSub.shutdown(first), first) : Effect.succeed(first)
        }
      )
    )
    yield* Effect.addFinalizer(() =>
      Effect.suspend(() => {
        closed = true
        return pubsub === undefined ? Effect.void : PubSub.shutdown(pubsub)
      })
    )
    const maxTracked = Math.max(1, options.trackedMessages ?? 100_000)
    // Insertion-ordered: re-inserting on update keeps the most recently updated last; the first is evicted.
    const statuses = new Map<string, Tracked>()
    const waiters = new Map<string, Set<Waiter>>()

    // The PubSub is sliding or unbounded, so publishing never waits: usually one synchronous `unsafeOffer`. It refuses
    // an event in two cases. When a subscriber's buffer is full: only `PubSub.publish` slides (drops the oldest to make
    // room), so the event goes through it. After the service's scope closed: there is nobody to tell, so publishing is
    // a no-op, never an interruption of the sender (or of a callback receiver still answering Kaleyra).
    const publish = (event: KaleyraEvent): Effect.Effect<boolean> =>
      Effect.suspend(() =>
        pubsub === undefined
          ? Effect.succeed(!closed)
          : pubsub.unsafeOffer(event)
          ? Effect.succeed(true)
          : pubsub.isActive()
          ? PubSub.publish(pubsub, event)
          : Effect.succeed(false)
      )

    const clockSkewSeconds = 300
    type Tracked = {
      readonly event: MessageStatusUpdated
      /** The latest time (seconds) of the message's statuses: Meta's timestamp, or when it arrived. */
      readonly latest: number
    }
    // The latest time of any status the tracker forgot: a status later than it cannot follow a forgotten one.
    let horizon = Number.NEGATIVE_INFINITY

    /** The event to publish and track, or `undefined` when it would not move its message forward. */
    const track = (event: MessageStatusUpdated, nowSeconds: number): MessageStatusUpdated | undefined => {
      const current = statuses.get(event.messageId)
      if (current !== undefined && statusRank[event.status] <= statusRank[current.event.status]) return undefined
      const unchecked = current === undefined && horizon !== Number.NEGATIVE_INFINITY && event.status !== "failed" &&
        !(event.timestamp !== undefined && event.timestamp > horizon)
      const tracked = unchecked ? new MessageStatusUpdated({ ...event, orderUnchecked: true }) : event
      // A status cannot be made after it arrives: a timestamp past that (plus clock skew) is not believed, so that one
      // bogus timestamp (milliseconds given as seconds) cannot push the horizon, and flag every later status, for ever.
      const at = Math.min(event.timestamp ?? nowSeconds, nowSeconds + clockSkewSeconds)
      statuses.delete(event.messageId)
      statuses.set(event.messageId, { event: tracked, latest: Math.max(at, current?.latest ?? at) })
      if (statuses.size > maxTracked) {
        const [oldest, forgotten] = statuses.entries().next().value!
        statuses.delete(oldest)
        horizon = Math.max(horizon, forgotten.latest)
      }
      return tracked
    }

    const wake = (event: MessageStatusUpdated) =>
      Effect.suspend(() => {
        const set = waiters.get(event.messageId)
        if (set === undefined) return Effect.void
        const done: Array<Effect.Effect<boolean>> = []
        for (const waiter of set) {
          const outcome = settles(waiter.status, event)
          if (outcome === undefined) continue
          set.delete(waiter)
          done.push(Deferred.complete(waiter.deferred, outcome))
        }
        if (set.size === 0) waiters.delete(event.messageId)
        return Effect.all(done, { discard: true })
      })

    const ingest = (event: CallbackEvent): Effect.Effect<boolean> =>
      event._tag === "IncomingMessage" ? Effect.as(publish(event), true) : Effect.flatMap(
        Clock.currentTimeMillis,
        (now) => {
          const tracked = track(event, Math.floor(now / 1000))
          if (tracked === undefined) return Effect.succeed(false)
          // Published first, so that whoever awaitStatus wakes finds the event on the stream too.
          return Effect.zipRight(publish(tracked), Effect.as(wake(tracked), true))
        }
      )

    const ingestCallback = (body: unknown): Effect.Effect<DecodedCallback, CallbackDecodeError> =>
      Effect.flatMap(decodeCallbackEntries(body), (decoded) =>
        Effect.zipRight(
          Effect.forEach(decoded.rejected, (rejected) =>
            Effect.logWarning("Kaleyra callback: an entry was left out").pipe(
              Effect.annotateLogs({ reason: rejected.reason })
            ), { discard: true }),
          Effect.as(Effect.forEach(decoded.events, ingest, { discard: true }), decoded)
        ))

    const awaitStatus: Service["awaitStatus"] = (messageId, status, awaitOptions) =>
      Effect.suspend(() => {
        const current = statuses.get(messageId)?.event
        const settled = current === undefined ? undefined : settles(status, current)
        if (settled !== undefined) return settled
        return Effect.flatMap(Deferred.make<MessageStatusUpdated, MessageFailed>(), (deferred) => {
          const waiter: Waiter = { status, deferred }
          const set = waiters.get(messageId) ?? new Set()
          set.add(waiter)
          waiters.set(messageId, set)
          // A status may have arrived between the first check and the registration.
          const now = statuses.get(messageId)?.event
          const late = now === undefined ? undefined : settles(status, now)
          if (late !== undefined) {
            Deferred.unsafeDone(deferred, Either.isRight(late) ? Exit.succeed(late.right) : Exit.fail(late.left))
          }
          return Deferred.await(deferred).pipe(
            Effect.timeoutFail({
              duration: awaitOptions?.timeout ?? "1 minute",
              onTimeout: () => {
                const last = statuses.get(messageId)?.event.status
                return new AwaitStatusTimeout({
                  messageId,
                  status,
                  ...(last !== undefined ? { lastStatus: last } : {})
                })
              }
            }),
            Effect.ensuring(Effect.sync(() => {
              const live = waiters.get(messageId)
              live?.delete(waiter)
              if (live !== undefined && live.size === 0) waiters.delete(messageId)
            }))
          )
        })
      })

    // Counted from before a subscription opens until after it closes, so that the count is never below the
    // number of subscriptions: a publisher that skips an event when it is zero skips only events nobody receives.
    let subscribers = 0
    const subscribe = Effect.zipRight(
      Effect.acquireRelease(Effect.sync(() => subscribers++), () => Effect.sync(() => subscribers--)),
      Effect.flatMap(hub, PubSub.subscribe)
    )

    const service = KaleyraEvents.of({
      events: Stream.flatMap(Stream.scoped(subscribe), (queue) => Stream.fromQueue(queue)),
      subscribe,
      publish: (event) => Effect.asVoid(publish(event)),
      unsafeHasSubscribers: () => subscribers > 0,
      ingest,
      ingestPayload: (body) => Effect.map(ingestCallback(body), (decoded) => decoded.events),
      ingestCallback,
      status: (messageId) => Effect.sync(() => Option.fromNullable(statuses.get(messageId)?.event)),
      awaitStatus
    })
    registerOffer(service, (event) => pubsub === undefined ? !closed : pubsub.unsafeOffer(event))
    return service
  })

/**
 * The events service as a layer. The clients of the node and testing packages include it; give it to
 * `KaleyraClient.layer` yourself (`Layer.provideMerge`) when you build the client from core.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<KaleyraEvents> => Layer.scoped(KaleyraEvents, make(options))

/**
 * The `KaleyraEvents` already in context, otherwise a new one: the client layers of the node and testing packages
 * use it, so that a callback receiver and the client given the same service publish into one stream.
 *
 * @since 0.1.0
 * @category constructors
 */
export const shared = (options?: Options): Effect.Effect<Service, never, Scope.Scope> =>
  Effect.flatMap(
    Effect.serviceOption(KaleyraEvents),
    Option.match({ onNone: () => make(options), onSome: Effect.succeed })
  )

/**
 * {@link shared} as a layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerShared = (options?: Options): Layer.Layer<KaleyraEvents> =>
  Layer.scoped(KaleyraEvents, shared(options))

/**
 * Every event from now on.
 *
 * @since 0.1.0
 * @category accessors
 */
export const events: Stream.Stream<KaleyraEvent, never, KaleyraEvents> = Stream.unwrap(
  Effect.map(KaleyraEvents, (service) => service.events)
)

/**
 * Waits until a message reaches a status (see `Service.awaitStatus`).
 *
 * @since 0.1.0
 * @category accessors
 */
export const awaitStatus = (
  messageId: string,
  status: MessageStatus,
  options?: { readonly timeout?: Duration.DurationInput }
): Effect.Effect<MessageStatusUpdated, AwaitStatusTimeout | MessageFailed, KaleyraEvents> =>
  Effect.flatMap(KaleyraEvents, (service) => service.awaitStatus(messageId, status, options))
