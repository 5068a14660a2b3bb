import { MediaMessage, sendMedia } from "@effect-kaleyra/core"
import { KaleyraNode, NodeMedia } from "@effect-kaleyra/node"
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect } from "effect"

// Options from KALEYRA_SID, KALEYRA_API_KEY, KALEYRA_SENDER_NUMBER and KALEYRA_REGION (or KALEYRA_BASE_URL).
const program = Effect.gen(function*() {
  const { messageId } = yield* sendMedia(MediaMessage.image({ to: "+919876543210", link: "https://example.com/a.png" }))
  yield* Console.log(`accepted as ${messageId}`)
  // a file from disk: streamed, checked (type, size, name), uploaded, then sent by its media id
  const { send } = yield* NodeMedia.sendFile("invoice.pdf", { to: "+919876543210", caption: "Your invoice" })
  yield* Console.log(`invoice sent as ${send.messageId}`)
}).pipe(Effect.provide(KaleyraNode.layerConfig))

NodeRuntime.runMain(program)
