import { MediaMessage, SendMediaRequest } from "@effect-kaleyra/core"
import { assert, describe, it } from "@effect/vitest"
import { Either } from "effect"
import { readFileSync } from "node:fs"

interface Example {
  readonly name: string
  readonly messaging_object: {
    readonly to: string
    readonly type: MediaMessage.MediaType
    readonly context?: { readonly message_id: string }
    readonly [media: string]: unknown
  }
}

// Meta's own request examples (facebook/openapi, MIT), copied from ../shared/fixtures/meta-media-examples.json.
const examples: ReadonlyArray<Example> = JSON.parse(
  readFileSync(new URL("./fixtures/meta-media-examples.json", import.meta.url), "utf8")
).examples

/** The input a program would write for an example: camelCase, `replyTo` for `context.message_id`. */
const inputOf = (mo: Example["messaging_object"]) => ({
  type: mo.type,
  to: mo.to,
  [mo.type]: mo[mo.type],
  ...(mo.context !== undefined ? { replyTo: mo.context.message_id } : {})
})

const encode = (input: unknown) => SendMediaRequest.toWire(Either.getOrThrow(MediaMessage.validate(input)))

describe("the wire body is Meta's message object, to the letter", () => {
  assert.strictEqual(examples.length, 20)
  for (const example of examples) {
    it(example.name, () => {
      const wire = encode(inputOf(example.messaging_object))
      assert.deepStrictEqual(wire.messaging_object as unknown, example.messaging_object)
      assert.isUndefined(wire.extra_info)
      // and back
      assert.deepStrictEqual(
        Either.getOrThrow(SendMediaRequest.fromWireBody(wire as unknown)),
        Either.getOrThrow(MediaMessage.validate(inputOf(example.messaging_object)))
      )
    })
  }

  it("the builders give the same bodies as Meta's examples", () => {
    const byName = (name: string) => examples.find((e) => e.name === name)!.messaging_object
    const replyTo = "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"
    const to = "+919876543210"
    assert.deepStrictEqual(
      encode(
        MediaMessage.document({ to, id: "1012345678901291", caption: "A document caption", filename: "report.pdf" })
      )
        .messaging_object as unknown,
      byName("Send Document Message by ID")
    )
    assert.deepStrictEqual(
      encode(
        MediaMessage.video({ to, link: "https://example.com/media/sample.mp4", caption: "A video caption", replyTo })
      )
        .messaging_object as unknown,
      byName("Send Reply to Video Message by URL")
    )
    assert.deepStrictEqual(
      encode(MediaMessage.sticker({ to, link: "https://example.com/media/sample.webp" })).messaging_object as unknown,
      byName("Send Sticker Message by URL")
    )
    assert.deepStrictEqual(
      encode(MediaMessage.audio({ to, id: "1012345678901291", replyTo })).messaging_object as unknown,
      byName("Send Reply to Audio Message by ID")
    )
    assert.deepStrictEqual(
      encode(MediaMessage.image({ to, link: "https://example.com/media/sample.png" })).messaging_object as unknown,
      byName("Send Image Message by URL")
    )
  })

  it("the seed's sample request, byte for byte in field names and nesting", () => {
    const wire = encode({
      type: "image",
      to: "+91 98765 43210",
      image: { link: "https://www.kaleyra.com/wp-content/uploads/kaleyra.png" },
      extraInfo: { ref: "customer1", ref1: "marketing", ref2: "dictionary", waSource: "api" }
    })
    assert.strictEqual(
      JSON.stringify(wire),
      "{\"messaging_object\":{\"messaging_product\":\"whatsapp\",\"recipient_type\":\"individual\"," +
        "\"to\":\"+919876543210\",\"type\":\"image\",\"image\":{\"link\":" +
        "\"https://www.kaleyra.com/wp-content/uploads/kaleyra.png\"}}," +
        "\"extra_info\":{\"ref\":\"customer1\",\"ref1\":\"marketing\",\"ref2\":\"dictionary\",\"wa_source\":\"api\"}}"
    )
  })

  it("several recipients are joined with commas", () => {
    const wire = encode({ type: "audio", to: ["+919876543210", "+14155550100"], audio: { id: "42" } })
    assert.strictEqual(wire.messaging_object.to, "+919876543210,+14155550100")
  })

  it("a wire body with no recipient_type decodes with Kaleyra's default", () => {
    const decoded = SendMediaRequest.fromWireBody({
      messaging_object: { messaging_product: "whatsapp", to: "+919876543210", type: "audio", audio: { id: "1" } }
    })
    assert.isTrue(Either.isRight(decoded))
  })
})
