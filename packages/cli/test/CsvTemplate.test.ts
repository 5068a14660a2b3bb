import { MediaMessage, SendMediaRequest } from "@effect-kaleyra/core"
import { assert, describe, it } from "@effect/vitest"
import { Either } from "effect"
import * as CsvCampaign from "../src/CsvCampaign.js"

const read = (text: string, defaults: CsvCampaign.Defaults = {}) => Either.getOrThrow(CsvCampaign.read(text, defaults))

describe("campaign files: template columns", () => {
  it("a template row: name, language, media header, body parameters in order", () => {
    const campaign = read(
      "to,type,template,language,header,link,body_2,body_1,ref\n" +
        "+919876543210,template,order_shipped,en_US,image,https://example.com/box.png,#4711,Ada,order-4711\n" +
        "+14155550123,image,,,,https://example.com/a.png,,,\n"
    )
    assert.deepStrictEqual(campaign.problems, [])
    assert.deepStrictEqual(campaign.ignoredColumns, [])
    const [template, image] = campaign.rows
    assert.deepStrictEqual(
      template.message,
      Either.getOrThrow(MediaMessage.validate(MediaMessage.template({
        to: "+919876543210",
        name: "order_shipped",
        language: "en_US",
        header: { image: { link: "https://example.com/box.png" } },
        body: ["Ada", "#4711"],
        extraInfo: { ref: "order-4711" }
      })))
    )
    assert.strictEqual(image.message.type, "image")
    // and it encodes to Meta's template object
    const wire = SendMediaRequest.toWire(template.message).messaging_object as unknown as { template: unknown }
    assert.deepStrictEqual(wire.template, {
      name: "order_shipped",
      language: { code: "en_US" },
      components: [
        { type: "header", parameters: [{ type: "image", image: { link: "https://example.com/box.png" } }] },
        { type: "body", parameters: [{ type: "text", text: "Ada" }, { type: "text", text: "#4711" }] }
      ]
    })
  })

  it("a document header by id from the flags, with its filename; a template without header or body", () => {
    const campaign = read(
      "to,type,template,language,header\n+919876543210,template,invoice_ready,en,document\n" +
        "+14155550123,template,hello_world,en_US,\n",
      { id: "1012345678901291", filename: "invoice.pdf" }
    )
    assert.deepStrictEqual(campaign.problems, [])
    const [document, hello] = campaign.rows
    assert.deepStrictEqual(
      document.message.type === "template" && document.message.template.components,
      [{
        type: "header",
        parameters: [{ type: "document", document: { id: "1012345678901291", filename: "invoice.pdf" } }]
      }]
    )
    assert.deepStrictEqual(hello.message.type === "template" && hello.message.template, {
      name: "hello_world",
      language: { code: "en_US" }
    })
  })

  it("every bad template row is listed with its line and column, before anything is sent", () => {
    const campaign = read(
      "to,type,template,language,header,link,caption,body_1,body_2\n" +
        "+919876543210,template,,en_US,image,https://example.com/a.png,,Ada,\n" + // line 2: no name
        "+919876543210,template,Order,en_US,image,https://example.com/a.png,,Ada,\n" + // 3: bad name
        "+919876543210,template,a,English,image,https://example.com/a.png,,Ada,\n" + // 4: bad language
        "+919876543210,template,a,en,gif,https://example.com/a.png,,Ada,\n" + // 5: bad header type
        "+919876543210,template,a,en,,https://example.com/a.png,,Ada,\n" + // 6: link without header type
        "+919876543210,template,a,en,image,ftp://example.com/a.png,,Ada,\n" + // 7: bad link
        "+919876543210,template,a,en,image,https://example.com/a.png,Hi,Ada,\n" + // 8: caption
        "+919876543210,template,a,en,image,https://example.com/a.png,,\"Ada\nLovelace\",\n" + // 9-10: newline
        "+919876543210,template,a,en,image,https://example.com/a.png,,,x\n" + // 11: gap
        "+919876543210,template,a,en,,,,Ada,B     C\n" // 12: five spaces
    )
    assert.deepStrictEqual(campaign.rows, [])
    const byLine = Object.fromEntries(campaign.problems.map((p) => [p.line, p.message]))
    assert.match(byLine[2], /^template: is empty/)
    assert.match(byLine[3], /^template: may hold only lowercase/)
    assert.match(byLine[4], /^language: must be a language code/)
    assert.match(byLine[5], /^header: must be image, video or document/)
    assert.match(byLine[6], /^header: is empty, but the row has a link/)
    assert.match(byLine[7], /^link: must use http or https/)
    assert.match(byLine[8], /^caption: a template takes no caption/)
    assert.match(byLine[9], /^body_1: must not contain a newline/)
    assert.match(byLine[11], /^body_1: is empty, but a later body parameter is not/)
    assert.match(byLine[12], /^body_2: must not contain more than four consecutive spaces/)
    assert.strictEqual(campaign.problems.length, 10)
  })
})
