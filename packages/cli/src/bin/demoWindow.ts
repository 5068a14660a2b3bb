/**
 * The 24-hour window part of the demo: a simulator that enforces the window and knows one approved template, its
 * status callbacks going to a callback receiver. A free-form image to a customer who has not written in 24 hours is
 * accepted (202), then fails with Meta's 131047; the same image as the header of the template is delivered.
 *
 * ```ts
 * const ok = yield* demoWindow
 * ```
 *
 * @since 0.2.0
 */
import { sendMedia } from "@effect-kaleyra/core/KaleyraClient"
import { KaleyraEvents } from "@effect-kaleyra/core/KaleyraEvents"
import * as MediaMessage from "@effect-kaleyra/core/MediaMessage"
import * as CallbackReceiver from "@effect-kaleyra/node/CallbackReceiver"
import * as KaleyraNode from "@effect-kaleyra/node/KaleyraNode"
import * as SimulatorServer from "@effect-kaleyra/testing/SimulatorServer"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"

const SID = "HXAP16XXXXXX97IN"
const API_KEY = "demo-api-key-not-a-secret"
const SENDER = "919999999999"
const CUSTOMER = "+919876543210"
const SECRET = "demo-callback-secret-not-a-secret"
const IMAGE = "https://example.com/order-4711.png"

/**
 * Runs the window demo against its own simulator and receiver; `true` when both outcomes are the expected ones.
 *
 * @since 0.2.0
 * @category demo
 */
export const demoWindow: Effect.Effect<boolean> = Effect.gen(function*() {
  yield* Console.log(
    "\nThe 24-hour window (the simulator enforces it; order_shipped is an approved template with an image header):"
  )
  const events = yield* Layer.build(KaleyraEvents.layer())
  const receiver = yield* CallbackReceiver.serve({ secret: Redacted.make(SECRET) }).pipe(Effect.provide(events))
  const { url } = yield* SimulatorServer.serve({
    simulator: {
      sid: SID,
      apiKey: API_KEY,
      senderNumbers: [SENDER],
      window: true,
      templates: [{ name: "order_shipped", language: "en_US", header: "image", bodyParameters: 2 }],
      callbacks: { url: receiver.url, secret: SECRET }
    }
  })
  const client = yield* Layer.build(
    KaleyraNode.layer({ sid: SID, apiKey: Redacted.make(API_KEY), senderNumber: SENDER, baseUrl: url })
  ).pipe(Effect.provide(events))
  const service = yield* Effect.provide(KaleyraEvents, events)

  const freeForm = yield* sendMedia(MediaMessage.image({ to: CUSTOMER, link: IMAGE })).pipe(Effect.provide(client))
  yield* Console.log(`  free-form image: HTTP ${freeForm.status}, message id ${freeForm.messageId}`)
  const failure = yield* service.awaitStatus(freeForm.messageId, "delivered", { timeout: "10 seconds" }).pipe(
    Effect.as(undefined),
    Effect.catchTag(
      "MessageFailed",
      () => Effect.map(service.status(freeForm.messageId), (status) => Option.getOrUndefined(status)?.failureReason)
    ),
    Effect.orElseSucceed(() => undefined)
  )
  yield* Console.log(
    failure === undefined
      ? "  ✗ the free-form image was not refused (unexpected)"
      : `  ✗ failed by callback: ${failure.code} ${failure._tag}: ${failure.action}`
  )

  const template = yield* sendMedia(MediaMessage.template({
    to: CUSTOMER,
    name: "order_shipped",
    language: "en_US",
    header: { image: { link: IMAGE } },
    body: ["Ada", "#4711"]
  })).pipe(Effect.provide(client))
  yield* Console.log(
    `  the same image as the header of order_shipped: HTTP ${template.status}, message id ${template.messageId}`
  )
  const delivered = yield* service.awaitStatus(template.messageId, "delivered", { timeout: "10 seconds" }).pipe(
    Effect.as(true),
    Effect.orElseSucceed(() => false)
  )
  yield* Console.log(delivered ? "  ✓ delivered" : "  ✗ not delivered (unexpected)")
  return failure?.code === 131047 && delivered
}).pipe(Effect.scoped, Effect.orElseSucceed(() => false))
