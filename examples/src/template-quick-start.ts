import { awaitStatus, MediaMessage, sendMedia } from "@effect-kaleyra/core"
import { Console, Effect } from "effect"

const to = "+919876543210"
const box = "https://example.com/box.png"

// Meta's template object, in camelCase: an approved template, its image header and its body's two parameters
const shipped = {
  to,
  type: "template",
  template: {
    name: "order_shipped",
    language: { code: "en_US" },
    components: [
      { type: "header", parameters: [{ type: "image", image: { link: box } }] },
      { type: "body", parameters: [{ type: "text", text: "Ada" }, { type: "text", text: "#4711" }] }
    ]
  },
  extraInfo: { ref: "order-4711" }
} satisfies MediaMessage.SendMediaInput

// the same message, from the builder
export const built = MediaMessage.template({
  to,
  name: "order_shipped",
  language: "en_US",
  header: { image: { link: box } },
  body: ["Ada", "#4711"],
  extraInfo: { ref: "order-4711" }
})

// Free-form first (the customer may have written today); Kaleyra accepts it either way, and Meta's verdict comes
// back as a status callback: outside the window, send the same image as the template's header.
export const program = Effect.gen(function*() {
  const { messageId } = yield* sendMedia(MediaMessage.image({ to, link: box, caption: "Your order has shipped" }))
  yield* awaitStatus(messageId, "delivered", { timeout: "1 minute" }).pipe(
    Effect.catchTag("MessageFailed", (failed) =>
      failed.failureReason?._tag === "OutsideWindow"
        ? Effect.andThen(sendMedia(shipped), Console.log("outside the window: sent as a template"))
        : Console.error(`not delivered: ${failed.failureReason?.action ?? failed.message}`))
  )
})
