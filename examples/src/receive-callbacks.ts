/**
 * Receive Kaleyra's status callbacks and follow each message's story in one stream of typed events.
 *
 *   KALEYRA_CALLBACK_SECRET=... pnpm --filter @effect-kaleyra/examples receive-callbacks
 *
 * Serves the callback receiver on 127.0.0.1:8080 (POST /kaleyra/callbacks, secret in the `x-kaleyra-secret` header or
 * as the Basic-auth password, as Kaleyra's callback profiles allow). Put it behind your HTTPS reverse proxy and
 * register its public URL in a callback profile attached to your number. Without KALEYRA_*, a local simulator sends
 * the messages and calls the receiver back, so the whole story plays locally.
 */
import { awaitStatus, KaleyraEvents, MediaMessage, sendMedia } from "@effect-kaleyra/core"
import { KaleyraNode } from "@effect-kaleyra/node"
import * as CallbackReceiver from "@effect-kaleyra/node/CallbackReceiver"
import * as SimulatorServer from "@effect-kaleyra/testing/SimulatorServer"
import { NodeRuntime } from "@effect/platform-node"
import { Config, Console, Effect, Layer, Redacted, Stream } from "effect"

const program = Effect.gen(function*() {
  const secret = yield* Config.redacted("KALEYRA_CALLBACK_SECRET").pipe(
    Config.withDefault(Redacted.make("local-example-secret"))
  )
  const receiver = yield* CallbackReceiver.serve({ secret, port: process.env.KALEYRA_SID ? 8080 : 0 })
  yield* Console.log(`receiving callbacks on ${receiver.url}`)

  // One stream: what the client did, and what Kaleyra reported back.
  yield* KaleyraEvents.pipe(
    Effect.flatMap((events) =>
      events.events.pipe(
        Stream.runForEach((event) => {
          switch (event._tag) {
            case "SendAccepted":
              return Console.log(`accepted ${event.messageId} for ${event.recipients.join(", ")}`)
            case "SendFailed":
              return Console.log(`send failed: ${event.error._tag}`)
            case "MessageStatusUpdated":
              return Console.log(`${event.messageId} is ${event.status}`, event.errors)
            case "IncomingMessage":
              return Console.log(`incoming ${event.type} from ${event.from}`)
            default:
              return Effect.void
          }
        })
      )
    ),
    Effect.forkScoped
  )

  const client = process.env.KALEYRA_SID !== undefined
    ? KaleyraNode.layerConfig
    : yield* localKaleyra(receiver.url, secret)
  const { messageId } = yield* sendMedia(
    MediaMessage.image({ to: "+919876543210", link: "https://example.com/a.png", extraInfo: { ref: "order-7" } })
  ).pipe(Effect.provide(client))
  const read = yield* awaitStatus(messageId, "read", { timeout: "2 minutes" })
  yield* Console.log(`${read.messageId} was read (refs ${JSON.stringify(read.refs)})`)
})

/** A simulator that calls the receiver back with the receiver's own secret, and the client pointed at it. */
const localKaleyra = (callbackUrl: string, secret: Redacted.Redacted) =>
  Effect.map(
    SimulatorServer.serve({ simulator: { callbacks: { url: callbackUrl, secret: Redacted.value(secret) } } }),
    ({ simulator, url }) =>
      KaleyraNode.layer({
        sid: simulator.options.sid,
        apiKey: Redacted.make(simulator.options.apiKey),
        senderNumber: simulator.options.senderNumbers[0],
        baseUrl: url
      })
  )

program.pipe(
  Effect.scoped,
  Effect.provide(Layer.fresh(KaleyraEvents.layer())),
  Effect.catchAll((error) => Console.error(`${error._tag}: ${error.message}`)),
  NodeRuntime.runMain
)
