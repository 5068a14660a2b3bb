/**
 * The events the client publishes about its sends and uploads (`SendAccepted`, `SendFailed`, `RetryScheduled`,
 * `MediaUploaded`), timed on the clock of the call.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type { SendMediaResult, UploadMediaResult } from "../KaleyraClient.js"
import type { InvalidMessage, SendMediaError } from "../KaleyraError.js"
import {
  type KaleyraEvent,
  type KaleyraEvents,
  MediaUploaded,
  RetryScheduled,
  SendAccepted,
  SendFailed
} from "../KaleyraEvents.js"
import type * as MediaMessage from "../MediaMessage.js"
import { unsafeOffer } from "./events.js"
import { refsOf } from "./refs.js"
import type { AttemptError } from "./retry.js"

type Events = KaleyraEvents["Type"]

/**
 * A send in progress: its message, and when it started, on the clock its events are timed on.
 *
 * @internal
 */
export interface Sending {
  readonly message: MediaMessage.MediaMessage
  readonly clock: Clock.Clock
  readonly startedAt: number
}

/**
 * `then`, once `event` is published: called while the send runs (in a continuation), it publishes at once. An
 * Effect step only when a subscriber's buffer is full.
 */
const announced = <A, E>(events: Events, event: KaleyraEvent, then: Effect.Effect<A, E>) =>
  unsafeOffer(events, event) ? then : Effect.zipRight(events.publish(event), then)

/**
 * Fails with `error`, once a `SendFailed` event is published (none is built when nobody subscribes).
 *
 * @internal
 */
export const sendFailed = (
  events: Events,
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

/**
 * Succeeds with `sent`, once a `SendAccepted` event is published (none is built when nobody subscribes).
 *
 * @internal
 */
export const sendAccepted = (
  events: Events,
  sending: Sending,
  sent: SendMediaResult
): Effect.Effect<SendMediaResult> =>
  events.unsafeHasSubscribers()
    ? announced(
      events,
      new SendAccepted({
        messageId: sent.messageId,
        recipients: sent.recipients,
        type: sent.type,
        refs: refsOf(sending.message),
        attempts: sent.attempts,
        durationMillis: sending.clock.unsafeCurrentTimeMillis() - sending.startedAt
      }),
      Effect.succeed(sent)
    )
    : Effect.succeed(sent)

/**
 * Publishes that a message was refused before sending.
 *
 * @internal
 */
export const invalidMessage = (events: Events, error: InvalidMessage): Effect.Effect<void> =>
  events.publish(
    new SendFailed({ error, recipients: [], type: undefined, refs: {}, attempts: 0, durationMillis: 0 })
  )

/**
 * Publishes that a send or an upload is retried after `delay`.
 *
 * @internal
 */
export const retryScheduled = (
  events: Events,
  operation: "send" | "upload",
  message: MediaMessage.MediaMessage | undefined,
  error: AttemptError,
  attempt: number,
  delay: Duration.Duration
): Effect.Effect<void> =>
  events.publish(
    new RetryScheduled({
      operation,
      error,
      attempt,
      delayMillis: Duration.toMillis(delay),
      recipients: message?.to ?? [],
      refs: message === undefined ? {} : refsOf(message)
    })
  )

/**
 * Publishes that a file was uploaded, timed from `startedAt`.
 *
 * @internal
 */
export const mediaUploaded = (events: Events, result: UploadMediaResult, startedAt: number): Effect.Effect<void> =>
  Effect.flatMap(
    Clock.currentTimeMillis,
    (now) => events.publish(new MediaUploaded({ ...result, durationMillis: now - startedAt }))
  )
