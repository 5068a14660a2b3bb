/**
 * Property-testing your own payload builder with the exported arbitraries: whatever order data your builder is given,
 * what it builds passes Kaleyra's rules and reaches the (simulated) API intact.
 */
import { MediaMessage, sendMedia } from "@effect-kaleyra/core"
import { Arbitraries, KaleyraTest } from "@effect-kaleyra/testing"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, FastCheck } from "effect"

// Your builder: an order confirmation with the product photo.
interface Order {
  readonly phone: string
  readonly photoUrl: string
  readonly title: string
  readonly orderId: string
}
// A first version cut the caption with `.slice(0, 1024)`: these properties found that it can split an emoji in two
// (a lone surrogate, refused by validation). Captions that do not fit fall back to a short one instead.
const confirmation = (order: Order) => {
  const full = `Thanks! ${order.title}`
  return MediaMessage.image({
    to: order.phone,
    link: order.photoUrl,
    caption: MediaMessage.codePointLength(full) <= MediaMessage.limits.captionLength ? full : "Thanks for your order!",
    extraInfo: { ref: order.orderId }
  })
}

const order: FastCheck.Arbitrary<Order> = FastCheck.record({
  phone: Arbitraries.phoneNumberInput,
  photoUrl: Arbitraries.mediaLink,
  title: Arbitraries.caption,
  orderId: Arbitraries.ref
})

describe("confirmation builder", () => {
  it.prop("always builds a valid message", [order], ([o]) => {
    const result = MediaMessage.validate(confirmation(o))
    assert.isTrue(Either.isRight(result), Either.isLeft(result) ? result.left.message : "")
  })

  it.effect.prop("what it builds is accepted and arrives intact", [order], ([o]) =>
    Effect.gen(function*() {
      yield* sendMedia(confirmation(o))
      const [sent] = yield* KaleyraTest.sent
      assert.deepStrictEqual(sent.message, Either.getOrThrow(MediaMessage.validate(confirmation(o))))
    }).pipe(Effect.provide(KaleyraTest.layer())), { fastCheck: { numRuns: 100 } })
})
