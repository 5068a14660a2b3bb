/**
 * Publishing an event without an Effect step, for the client's send events: not part of the public `KaleyraEvents`
 * service, so that a wrapper of the service (one that sees every event) has only `publish` to override.
 *
 * @internal
 */
import type { KaleyraEvent } from "../KaleyraEvents.js"

const offers = new WeakMap<object, (event: KaleyraEvent) => boolean>()

/** Records how a service made by `KaleyraEvents.make` publishes at once. */
export const registerOffer = (service: object, offer: (event: KaleyraEvent) => boolean): void => {
  offers.set(service, offer)
}

/**
 * Publishes `event` at once when it can: `true` when nobody subscribes or every subscriber has room. `false` when it
 * could not (a subscriber's buffer is full: only `publish` makes room, by dropping that subscriber's oldest event; or
 * the service has closed), and for a service `KaleyraEvents.make` did not make (a wrapper): run `publish` then.
 */
export const unsafeOffer = (service: object, event: KaleyraEvent): boolean => {
  const offer = offers.get(service)
  return offer !== undefined && offer(event)
}
