/**
 * A campaign: 1 000 recipients, 16 sends at a time, at most 80 per second for the sender number, one result per
 * recipient, against a simulator that fails some of them.
 *
 *   pnpm --filter @effect-kaleyra/examples campaign
 */
import { Batch, MediaMessage, sendMediaBatch } from "@effect-kaleyra/core"
import { KaleyraNode } from "@effect-kaleyra/node"
import * as SimulatorServer from "@effect-kaleyra/testing/SimulatorServer"
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Redacted, Stream } from "effect"

const recipients = Array.from({ length: 1000 }, (_, i) => `+9198765${String(i).padStart(5, "0")}`)

const program = Effect.gen(function*() {
  const { simulator, url } = yield* SimulatorServer.serve()
  yield* simulator.setScenario("+919876500007", "E110") // one recipient fails with LowBalance
  const summary = yield* sendMediaBatch(
    recipients.map((to) => MediaMessage.image({ to, link: "https://example.com/promo.png", extraInfo: { ref: to } })),
    { concurrency: 16, rateLimit: { limit: 500, interval: "1 second" }, key: (message) => message.extraInfo?.ref }
  ).pipe(
    Stream.tap((result) => result._tag === "Failed" ? Console.log(`${result.key}: ${result.error._tag}`) : Effect.void),
    Stream.runFold(Batch.emptySummary, Batch.summarize),
    Effect.provide(
      KaleyraNode.layer({
        sid: simulator.options.sid,
        apiKey: Redacted.make(simulator.options.apiKey),
        senderNumber: simulator.options.senderNumbers[0],
        baseUrl: url
      })
    )
  )
  yield* Console.log(`sent ${summary.sent}, failed ${summary.failed}`, summary.failures)
})

program.pipe(Effect.scoped, NodeRuntime.runMain)
