import { MediaMessage, sendMedia, SendMediaRequest } from "@effect-kaleyra/core"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Either, Exit, FastCheck } from "effect"
import { readFileSync } from "node:fs"
import { accepted, clientLayer } from "./utils.js"

interface Example {
  readonly name: string
  readonly withoutRecipientType?: boolean
  readonly messaging_object: Record<string, unknown> & { readonly to: string; readonly template: unknown }
}

// Meta's own template request examples (facebook/openapi, MIT; see the fixture's `source`).
const examples: ReadonlyArray<Example> = JSON.parse(
  readFileSync(new URL("./fixtures/meta-template-examples.json", import.meta.url), "utf8")
).examples

/**
 * The input a program writes for a wire template: every key in camelCase (`fallback_value` -> `fallbackValue`,
 * `amount_1000` -> `amount1000`) and the button index as a number. Written here independently of the library's
 * schemas, so that the two are checked against each other.
 */
const camel = (u: unknown): unknown => {
  if (Array.isArray(u)) return u.map(camel)
  if (typeof u !== "object" || u === null) return u
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(u)) {
    out[key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())] = key === "index" ? Number(value) : camel(value)
  }
  return out
}

const inputOf = (mo: Example["messaging_object"]) => ({ type: "template", to: mo.to, template: camel(mo.template) })

const encode = (input: unknown) => SendMediaRequest.toWire(Either.getOrThrow(MediaMessage.validate(input)))

describe("a template's wire body is Meta's template object, to the letter", () => {
  assert.strictEqual(examples.length, 7)
  for (const example of examples) {
    it(example.name, () => {
      const wire = encode(inputOf(example.messaging_object))
      // Kaleyra's body always says recipient_type (Meta's default); one of Meta's examples leaves it out.
      const expected = example.withoutRecipientType === true
        ? { ...example.messaging_object, recipient_type: "individual" }
        : example.messaging_object
      assert.deepStrictEqual(wire.messaging_object as unknown, expected)
      // the fast JSON writer says the same
      assert.strictEqual(
        SendMediaRequest.toWireJson(Either.getOrThrow(MediaMessage.validate(inputOf(example.messaging_object)))),
        JSON.stringify(wire)
      )
      // and back
      assert.deepStrictEqual(
        Either.getOrThrow(SendMediaRequest.fromWireBody(JSON.parse(JSON.stringify(wire)))),
        Either.getOrThrow(MediaMessage.validate(inputOf(example.messaging_object)))
      )
    })
  }

  it("the builder gives the same bodies as Meta's examples", () => {
    const byName = (name: string) => examples.find((e) => e.name === name)!.messaging_object
    const to = "+919876543210"
    assert.deepStrictEqual(
      encode(MediaMessage.template({
        to,
        name: "invoice_ready",
        language: "en_US",
        header: { document: { id: "1012345678901291", filename: "invoice.pdf" } }
      })).messaging_object as unknown,
      byName("Document header by id, with filename (On-Premises reference's header parameter)")
    )
    assert.deepStrictEqual(
      encode(MediaMessage.template({
        to,
        name: "new_arrivals",
        language: "en_US",
        header: { video: { id: "1012345678901291" } }
      })).messaging_object as unknown,
      byName("Video header by id (On-Premises reference's header parameter)")
    )
    const interactive = byName("Send Message Template Interactive") as {
      readonly template: { readonly components: ReadonlyArray<unknown> }
    }
    const built = encode(MediaMessage.template({
      to,
      name: "order_shipped",
      language: "en_US",
      header: { image: { link: "https://example.com/media/sample.png" } },
      body: ["Ada"],
      buttons: [{ subType: "quick_reply", payload: "aGlzIHRoaXMgaXMgY29v" }, {
        subType: "quick_reply",
        payload: "9rwnB8RbYmPF5t2Mn09x4h"
      }]
    })).messaging_object as unknown as { readonly template: { readonly components: ReadonlyArray<unknown> } }
    assert.deepStrictEqual(built.template.components[0], interactive.template.components[0])
    assert.deepStrictEqual(built.template.components.slice(2), interactive.template.components.slice(2))
  })

  it("the issue's example: a positional body, extra_info, and named parameters", () => {
    const wire = encode({
      to: "+919876543210",
      type: "template",
      template: {
        name: "order_shipped",
        language: { code: "en_US" },
        components: [
          { type: "header", parameters: [{ type: "image", image: { link: "https://example.com/box.png" } }] },
          { type: "body", parameters: [{ type: "text", text: "Ada" }, { type: "text", text: "#4711" }] }
        ]
      },
      extraInfo: { ref: "order-4711" }
    })
    assert.strictEqual(
      JSON.stringify(wire),
      "{\"messaging_object\":{\"messaging_product\":\"whatsapp\",\"recipient_type\":\"individual\"," +
        "\"to\":\"+919876543210\",\"type\":\"template\",\"template\":{\"name\":\"order_shipped\"," +
        "\"language\":{\"code\":\"en_US\"},\"components\":[{\"type\":\"header\",\"parameters\":[{\"type\":\"image\"," +
        "\"image\":{\"link\":\"https://example.com/box.png\"}}]},{\"type\":\"body\",\"parameters\":[{\"type\":" +
        "\"text\",\"text\":\"Ada\"},{\"type\":\"text\",\"text\":\"#4711\"}]}]}},\"extra_info\":{\"ref\":\"order-4711\"}}"
    )
    const named = encode(MediaMessage.template({
      to: "+919876543210",
      name: "order_shipped",
      language: "en_US",
      body: { first_name: "Ada", order_id: "#4711" }
    }))
    assert.deepStrictEqual((named.messaging_object as unknown as { template: unknown }).template, {
      name: "order_shipped",
      language: { code: "en_US" },
      components: [{
        type: "body",
        parameters: [
          { type: "text", parameter_name: "first_name", text: "Ada" },
          { type: "text", parameter_name: "order_id", text: "#4711" }
        ]
      }]
    })
  })
})

const ok = "+919876543210"
const tpl = (template: unknown, extra: object = {}) => ({ type: "template", to: ok, template, ...extra })
const body = (...parameters: ReadonlyArray<unknown>) => ({ type: "body", parameters })
const header = (...parameters: ReadonlyArray<unknown>) => ({ type: "header", parameters })
const en = { code: "en_US" }
const text = (t: string) => ({ type: "text", text: t })

/** [description, input, the field InvalidMessage must name] */
const rejected: ReadonlyArray<readonly [string, unknown, string]> = [
  ["no template object", { type: "template", to: ok }, "template"],
  ["a name with capitals", tpl({ name: "Order_Shipped", language: en }), "template.name"],
  ["a name with a dash", tpl({ name: "order-shipped", language: en }), "template.name"],
  ["an empty name", tpl({ name: "", language: en }), "template.name"],
  ["a name of 513 characters", tpl({ name: "a".repeat(513), language: en }), "template.name"],
  ["no language", tpl({ name: "a" }), "template.language"],
  ["a language that is not a code", tpl({ name: "a", language: { code: "English" } }), "template.language.code"],
  ["a language as a string", tpl({ name: "a", language: "en_US" }), "template.language"],
  ["an unknown policy", tpl({ name: "a", language: { code: "en", policy: "fallback" } }), "template.language.policy"],
  [
    "two headers",
    tpl({ name: "a", language: en, components: [header(text("x")), header(text("y"))] }),
    "template.components[1]"
  ],
  [
    "two bodies",
    tpl({ name: "a", language: en, components: [body(text("x")), body(text("y"))] }),
    "template.components[1]"
  ],
  [
    "a header with two parameters",
    tpl({ name: "a", language: en, components: [header({ type: "image", image: { id: "1" } }, text("x"))] }),
    "template.components[0].parameters"
  ],
  [
    "a header image with id and link",
    tpl({
      name: "a",
      language: en,
      components: [header({ type: "image", image: { id: "1", link: "https://a.b/c" } })]
    }),
    "template.components[0].parameters[0].image.link"
  ],
  [
    "a header video with neither id nor link",
    tpl({ name: "a", language: en, components: [header({ type: "video", video: {} })] }),
    "template.components[0].parameters[0].video"
  ],
  [
    "a filename on an image header",
    tpl({ name: "a", language: en, components: [header({ type: "image", image: { id: "1", filename: "a.png" } })] }),
    "template.components[0].parameters[0].image.filename"
  ],
  [
    "a caption on a document header",
    tpl({ name: "a", language: en, components: [header({ type: "document", document: { id: "1", caption: "x" } })] }),
    "template.components[0].parameters[0].document.caption"
  ],
  [
    "a header link that is not http(s)",
    tpl({ name: "a", language: en, components: [header({ type: "image", image: { link: "ftp://a.b/c.png" } })] }),
    "template.components[0].parameters[0].image.link"
  ],
  [
    "an unknown header parameter type",
    tpl({ name: "a", language: en, components: [header({ type: "audio", audio: { id: "1" } })] }),
    "template.components[0].parameters[0].type"
  ],
  [
    "an unknown body parameter type",
    tpl({ name: "a", language: en, components: [body({ type: "image", image: { id: "1" } })] }),
    "template.components[0].parameters[0].type"
  ],
  ["an empty body", tpl({ name: "a", language: en, components: [body()] }), "template.components[0].parameters"],
  [
    "an empty text",
    tpl({ name: "a", language: en, components: [body(text(""))] }),
    "template.components[0].parameters[0].text"
  ],
  [
    "a blank text",
    tpl({ name: "a", language: en, components: [body(text("   "))] }),
    "template.components[0].parameters[0].text"
  ],
  [
    "a newline in a text",
    tpl({ name: "a", language: en, components: [body(text("Ada\nLovelace"))] }),
    "template.components[0].parameters[0].text"
  ],
  [
    "a tab in a text",
    tpl({ name: "a", language: en, components: [body(text("Ada\tLovelace"))] }),
    "template.components[0].parameters[0].text"
  ],
  [
    "five consecutive spaces in a text",
    tpl({ name: "a", language: en, components: [body(text("Ada     Lovelace"))] }),
    "template.components[0].parameters[0].text"
  ],
  [
    "a text of 1025 characters",
    tpl({ name: "a", language: en, components: [body(text("a".repeat(1025)))] }),
    "template.components[0].parameters[0].text"
  ],
  [
    "a header text of 61 characters",
    tpl({ name: "a", language: en, components: [header(text("a".repeat(61)))] }),
    "template.components[0].parameters[0].text"
  ],
  [
    "a text that is not a string",
    tpl({ name: "a", language: en, components: [body({ type: "text", text: 5 })] }),
    "template.components[0].parameters[0].text"
  ],
  [
    "named and positional parameters mixed",
    tpl({ name: "a", language: en, components: [body({ type: "text", parameterName: "a", text: "x" }, text("y"))] }),
    "template.components[0].parameters[1]"
  ],
  [
    "a parameter name given twice",
    tpl({
      name: "a",
      language: en,
      components: [
        body({ type: "text", parameterName: "a", text: "x" }, { type: "text", parameterName: "a", text: "y" })
      ]
    }),
    "template.components[0].parameters[1].parameterName"
  ],
  [
    "a parameter name with capitals",
    tpl({ name: "a", language: en, components: [body({ type: "text", parameterName: "First", text: "x" })] }),
    "template.components[0].parameters[0].parameterName"
  ],
  [
    "a snake_case parameter_name",
    tpl({ name: "a", language: en, components: [body({ type: "text", parameter_name: "first", text: "x" })] }),
    "template.components[0].parameters[0].parameter_name"
  ],
  [
    "a currency code in lowercase",
    tpl({
      name: "a",
      language: en,
      components: [body({ type: "currency", currency: { fallbackValue: "$1", code: "usd", amount1000: 1000 } })]
    }),
    "template.components[0].parameters[0].currency.code"
  ],
  [
    "a currency amount that is not an integer",
    tpl({
      name: "a",
      language: en,
      components: [body({ type: "currency", currency: { fallbackValue: "$1", code: "USD", amount1000: 1.5 } })]
    }),
    "template.components[0].parameters[0].currency.amount1000"
  ],
  [
    "a date without its fallback value",
    tpl({ name: "a", language: en, components: [body({ type: "date_time", dateTime: { year: 2024 } })] }),
    "template.components[0].parameters[0].dateTime.fallbackValue"
  ],
  [
    "a button without subType",
    tpl({
      name: "a",
      language: en,
      components: [{ type: "button", index: 0, parameters: [{ type: "payload", payload: "p" }] }]
    }),
    "template.components[0].subType"
  ],
  [
    "a button index of 10",
    tpl({
      name: "a",
      language: en,
      components: [{
        type: "button",
        subType: "quick_reply",
        index: 10,
        parameters: [{ type: "payload", payload: "p" }]
      }]
    }),
    "template.components[0].index"
  ],
  [
    "the same button index twice",
    tpl({
      name: "a",
      language: en,
      components: [0, 0].map((index) => ({
        type: "button",
        subType: "quick_reply",
        index,
        parameters: [{ type: "payload", payload: "p" }]
      }))
    }),
    "template.components[1].index"
  ],
  [
    "an empty payload",
    tpl({
      name: "a",
      language: en,
      components: [{ type: "button", subType: "quick_reply", index: 0, parameters: [{ type: "payload", payload: "" }] }]
    }),
    "template.components[0].parameters[0].payload"
  ],
  [
    "an unknown component type",
    tpl({ name: "a", language: en, components: [{ type: "footer", parameters: [] }] }),
    "template.components[0].type"
  ],
  ["an unknown template field", tpl({ name: "a", language: en, namespace: "x" }), "template.namespace"],
  ["a bad recipient", { type: "template", to: "12", template: { name: "a", language: en } }, "to"],
  [
    "a ref of 256 characters",
    tpl({ name: "a", language: en }, { extraInfo: { ref: "r".repeat(256) } }),
    "extraInfo.ref"
  ]
]

describe("template validation: a rejected template names the field and sends nothing", () => {
  for (const [name, input, field] of rejected) {
    it.effect(name, () =>
      Effect.gen(function*() {
        const { layer, seen } = clientLayer([accepted()])
        const error = yield* Effect.flip(sendMedia(input as MediaMessage.SendMediaInput).pipe(Effect.provide(layer)))
        assert.strictEqual(error._tag, "InvalidMessage")
        if (error._tag !== "InvalidMessage") return
        assert.strictEqual(error.field, field, error.message)
        assert.isAbove(error.reason.length, 0)
        assert.strictEqual(seen.length, 0, "no request leaves the process")
      }))
  }

  it("four consecutive spaces, a named body and every parameter type are accepted", () => {
    const result = MediaMessage.validate(tpl({
      name: "order_shipped_2",
      language: { code: "pt_BR", policy: "deterministic" },
      components: [
        header({ type: "document", document: { link: "https://example.com/a.pdf", filename: "a.pdf" } }),
        body(
          { type: "text", parameterName: "name", text: "Ada    Lovelace" },
          {
            type: "currency",
            parameterName: "total",
            currency: { fallbackValue: "$1", code: "USD", amount1000: 1000 }
          },
          { type: "date_time", parameterName: "when", dateTime: { fallbackValue: "Monday" } }
        ),
        { type: "button", subType: "url", index: 0, parameters: [{ type: "text", text: "4711" }] }
      ]
    }))
    assert.isTrue(Either.isRight(result), Either.isLeft(result) ? result.left.message : "")
  })

  it("a builder given a key it does not take (from untyped code) is refused, not silently dropped", () => {
    const input = MediaMessage.template({ to: ok, name: "a", language: "en", namespace: "x" } as never)
    const result = MediaMessage.validate(input)
    assert.isTrue(Either.isLeft(result))
    if (Either.isLeft(result)) assert.strictEqual(result.left.field, "template.namespace")
  })

  it("a wrong type names the template among the types", () => {
    const result = MediaMessage.validate({ type: "text", to: ok })
    assert.isTrue(Either.isLeft(result) && result.left.reason.includes("template"))
  })
})

const anything = FastCheck.oneof(FastCheck.anything(), FastCheck.string(), FastCheck.constant(undefined))
/** Objects shaped like a template message, with anything anywhere. */
const templateLike = FastCheck.record({
  type: FastCheck.constant("template"),
  to: FastCheck.oneof(FastCheck.constant(ok), anything),
  template: FastCheck.oneof(
    anything,
    FastCheck.record({
      name: FastCheck.oneof(FastCheck.constant("order_shipped"), anything),
      language: FastCheck.oneof(FastCheck.constant(en), FastCheck.record({ code: anything, policy: anything })),
      components: FastCheck.oneof(
        anything,
        FastCheck.array(FastCheck.oneof(
          anything,
          FastCheck.record({
            type: FastCheck.oneof(FastCheck.constantFrom("header", "body", "button"), anything),
            subType: anything,
            index: anything,
            parameters: FastCheck.oneof(
              anything,
              FastCheck.array(FastCheck.oneof(
                anything,
                FastCheck.record({
                  type: FastCheck.oneof(
                    FastCheck.constantFrom("text", "image", "currency", "date_time", "payload"),
                    anything
                  ),
                  text: anything,
                  image: anything,
                  currency: anything,
                  dateTime: anything,
                  payload: anything,
                  parameterName: anything
                }, { requiredKeys: [] })
              ))
            )
          }, { requiredKeys: [] })
        ))
      )
    }, { requiredKeys: [] })
  )
}, { requiredKeys: ["type"] })

describe("no template-shaped input makes sendMedia die", () => {
  it.effect.prop("anything anywhere: InvalidMessage and nothing sent, or a body that decodes to the same message", [
    templateLike
  ], ([input]) =>
    Effect.gen(function*() {
      const { layer, seen } = clientLayer([accepted()])
      const exit = yield* sendMedia(input as MediaMessage.SendMediaInput).pipe(Effect.exit, Effect.provide(layer))
      if (Exit.isFailure(exit)) {
        assert.isFalse(Cause.isDie(exit.cause), Cause.pretty(exit.cause))
        assert.strictEqual((Cause.squash(exit.cause) as { _tag: string })._tag, "InvalidMessage")
        assert.strictEqual(seen.length, 0)
      } else {
        const decoded = SendMediaRequest.fromWireBody(JSON.parse(seen[0].body))
        // An optional field given as undefined stays in the validated message as undefined (as for the media
        // messages) and is absent from the wire: compared as JSON, where the two are the same.
        const asJson = (u: unknown) => JSON.parse(JSON.stringify(u))
        assert.deepStrictEqual(
          asJson(Either.getOrThrow(decoded)),
          asJson(Either.getOrThrow(MediaMessage.validate(input)))
        )
      }
    }), { fastCheck: { numRuns: 300 } })

  it("a throwing getter in a template is refused, not thrown", () => {
    const hostile = { name: "a", language: en }
    Object.defineProperty(hostile, "components", {
      enumerable: true,
      get: () => {
        throw new Error("boom")
      }
    })
    const result = MediaMessage.validate({ type: "template", to: ok, template: hostile })
    assert.isTrue(Either.isLeft(result))
  })
})
