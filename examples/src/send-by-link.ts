/**
 * Send an image by public link, handling each Kaleyra outcome by its tag.
 *
 *   KALEYRA_SID=... KALEYRA_API_KEY=... KALEYRA_SENDER_NUMBER=... pnpm --filter @effect-kaleyra/examples send-by-link +919876543210
 *
 * Without KALEYRA_* it runs against a simulator served on 127.0.0.1.
 */
import { MediaMessage, sendMedia } from "@effect-kaleyra/core"
import { KaleyraNode } from "@effect-kaleyra/node"
import * as SimulatorServer from "@effect-kaleyra/testing/SimulatorServer"
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect } from "effect"

const to = process.argv[2] ?? "+919876543210"

const program = Effect.gen(function*() {
  const { messageId, recipients } = yield* sendMedia(
    MediaMessage.image({
      to,
      link: "https://www.kaleyra.com/wp-content/uploads/kaleyra.png",
      caption: "Hello from effect-kaleyra",
      extraInfo: { ref: "order-1234", waSource: "api" }
    })
  )
  yield* Console.log(`accepted: ${messageId} for ${recipients.join(", ")}`)
}).pipe(
  Effect.catchTags({
    InvalidMessage: (e) => Console.error(`fix the message: ${e.field}: ${e.reason}`),
    LowBalance: (e) => Console.error(`top up the account: ${e.message}`),
    IncorrectCredentials: () => Console.error("check KALEYRA_SID and KALEYRA_API_KEY"),
    TransportError: (e) =>
      Console.error(
        e.mayHaveReachedKaleyra
          ? "unknown outcome: the message may have been sent, do not resend blindly"
          : `Kaleyra unreachable: ${e.detail}`
      )
  })
)

// Against real Kaleyra when configured, else against a local simulator.
const KaleyraLive = process.env.KALEYRA_SID !== undefined
  ? KaleyraNode.layerConfig
  : SimulatorServer.layerClient(KaleyraNode.layer)

program.pipe(Effect.provide(KaleyraLive), NodeRuntime.runMain)
