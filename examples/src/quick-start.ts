import { MediaMessage, sendMedia, uploadMedia } from "@effect-kaleyra/core"
import { KaleyraNode } from "@effect-kaleyra/node"
import { Config, Console, Effect, Layer } from "effect"
import { readFile } from "node:fs/promises"

const program = Effect.gen(function*() {
  // by public link, to one recipient, with Kaleyra's extra_info
  const { messageId } = yield* sendMedia({
    to: "+919876543210",
    type: "image",
    image: { link: "https://example.com/a.png", caption: "Hello" },
    extraInfo: { ref: "customer1", ref1: "marketing", ref2: "dictionary", waSource: "api" }
  })
  yield* Console.log(`sent ${messageId}`)

  // upload a file (checked first: type, size, name), then send it by id to several recipients
  const pdf = yield* Effect.promise(() => readFile("invoice.pdf"))
  const { id } = yield* uploadMedia({ data: pdf, mimeType: "application/pdf", filename: "invoice.pdf" })
  yield* sendMedia(MediaMessage.document({ to: ["+919876543210", "+14155550123"], id, filename: "invoice.pdf" }))
}).pipe(
  Effect.catchTags({
    LowBalance: (e) => Console.error(`top up: ${e.message}`),
    InvalidMessage: (e) => Console.error(`${e.field}: ${e.reason}`),
    InvalidMedia: (e) => Console.error(`refused before upload (${e.rule}): ${e.reason}`)
  })
)

// Options in code (region IN | SG | EU | NA, or baseUrl: "http://127.0.0.1:4010") ...
const Kaleyra = Layer.unwrapEffect(
  Effect.map(
    Config.redacted("KALEYRA_API_KEY"),
    (apiKey) => KaleyraNode.layer({ sid: "HXAP16XXXXXX97IN", apiKey, senderNumber: "919999999999", region: "IN" })
  )
)
// ... or all from KALEYRA_SID, KALEYRA_API_KEY, KALEYRA_SENDER_NUMBER, KALEYRA_REGION / KALEYRA_BASE_URL:
export const KaleyraFromEnv = KaleyraNode.layerConfig

export const main = program.pipe(Effect.provide(Kaleyra))
