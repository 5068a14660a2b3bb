/**
 * Testing your own program with `KaleyraTest.layer()`: the real client over an in-memory Kaleyra simulator, with the
 * same ids on every run, scripted failures, and a record of what was sent.
 */
import { MediaMessage, sendMedia } from "@effect-kaleyra/core"
import { KaleyraTest } from "@effect-kaleyra/testing"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"

// The program under test: send an invoice, fall back to a link to the portal when the balance is low.
const sendInvoice = (to: string, invoiceId: string) =>
  sendMedia(MediaMessage.document({ to, id: invoiceId, filename: `${invoiceId}.pdf`, extraInfo: { ref: invoiceId } }))
    .pipe(
      Effect.map(({ messageId }) => ({ status: "sent" as const, messageId })),
      Effect.catchTag("LowBalance", () => Effect.succeed({ status: "postponed" as const }))
    )

describe("sendInvoice", () => {
  it.effect("sends the invoice as a document with its ref", () =>
    Effect.gen(function*() {
      const outcome = yield* sendInvoice("+919876543210", "1012345678901291")
      assert.deepStrictEqual(outcome, { status: "sent", messageId: "wamid.SIM00000000000000000001" })
      const [sent] = yield* KaleyraTest.sent
      assert.deepStrictEqual(sent.body, {
        messaging_object: {
          messaging_product: "whatsapp",
          recipient_type: "individual",
          to: "+919876543210",
          type: "document",
          document: { id: "1012345678901291", filename: "1012345678901291.pdf" }
        },
        extra_info: { ref: "1012345678901291" }
      })
    }).pipe(Effect.provide(KaleyraTest.layer())))

  it.effect("postpones when Kaleyra reports a low balance", () =>
    Effect.gen(function*() {
      yield* KaleyraTest.failNext("E110")
      const outcome = yield* sendInvoice("+919876543210", "1012345678901291")
      assert.deepStrictEqual(outcome, { status: "postponed" })
      assert.strictEqual((yield* KaleyraTest.sent).length, 0)
    }).pipe(Effect.provide(KaleyraTest.layer())))
})
