import { Campaign, CampaignSqlite } from "@effect-kaleyra/campaign"
import { MediaMessage } from "@effect-kaleyra/core"
import { KaleyraNode } from "@effect-kaleyra/node"
import { Console, Effect, Layer } from "effect"

const customers = ["+919876543210", "+919876543211", "+919876543212"]

export const program = Effect.gen(function*() {
  // The rows are stored before anything is sent; creating the same campaign again is a no-op.
  yield* Campaign.create({
    name: "diwali-offer",
    rows: customers.map((to) => ({ input: MediaMessage.image({ to, link: "https://example.com/offer.png" }) }))
  })
  // Sends the Pending rows only: run it again after a crash, a Ctrl-C or a pause, nothing is sent twice.
  const summary = yield* Campaign.run({ name: "diwali-offer", rateLimit: { limit: 80 } })
  yield* Console.log(`sent ${summary.sent}, failed ${summary.failed}, ambiguous ${summary.ambiguous}`)
  if (summary.paused !== undefined) yield* Console.log(`paused: ${summary.paused.message}`)
}).pipe(
  Effect.provide(Layer.mergeAll(CampaignSqlite.layer({ filename: "campaigns.db" }), KaleyraNode.layerConfig))
)
