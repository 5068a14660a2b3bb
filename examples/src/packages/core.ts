import { KaleyraClient, KaleyraTransport, MediaMessage, sendMedia } from "@effect-kaleyra/core"
import { FetchHttpClient } from "@effect/platform"
import { Console, Effect, Layer } from "effect"

// The client over any HttpClient (here the platform's fetch, through the generic transport), its options from
// KALEYRA_SID, KALEYRA_API_KEY, KALEYRA_SENDER_NUMBER and KALEYRA_REGION (or KALEYRA_BASE_URL).
const Kaleyra = KaleyraClient.layerConfig().pipe(
  Layer.provide(KaleyraTransport.layer),
  Layer.provide(FetchHttpClient.layer)
)

export const program = sendMedia(
  MediaMessage.image({ to: "+919876543210", link: "https://example.com/offer.png", caption: "Hello" })
).pipe(
  Effect.flatMap(({ messageId }) => Console.log(`accepted as ${messageId}`)),
  Effect.catchTags({
    InvalidMessage: (e) => Console.error(`nothing was sent: ${e.field}: ${e.reason}`),
    LowBalance: () => Console.error("top up the Kaleyra account"),
    TransportError: (e) =>
      Console.error(e.mayHaveReachedKaleyra ? "may have been sent: do not resend blindly" : e.detail)
  }),
  Effect.provide(Kaleyra)
)
