import {
  awaitStatus,
  type FailureReason,
  KaleyraCallback,
  KaleyraEvents,
  MediaMessage,
  type MessageStatusUpdated,
  sendMedia,
  SendMediaRequest
} from "@effect-kaleyra/core"
import { Arbitraries, KaleyraSimulator, KaleyraTest, type SimulatorTemplates } from "@effect-kaleyra/testing"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Either, FastCheck, Fiber, Option, Queue, TestClock } from "effect"

const TO = "+919876543210"
const OTHER = "+14155550123"
const link = "https://example.com/box.png"

const freeForm = (to: MediaMessage.RecipientsInput = TO) => MediaMessage.image({ to, link })
const shipped = (to: MediaMessage.RecipientsInput = TO, overrides: Partial<MediaMessage.TemplateOptions> = {}) =>
  MediaMessage.template({
    to,
    name: "order_shipped",
    language: "en_US",
    header: { image: { link } },
    body: ["Ada", "#4711"],
    ...overrides
  })

const templates: ReadonlyArray<SimulatorTemplates.RegisteredTemplate> = [
  { name: "order_shipped", language: "en_US", header: "image", bodyParameters: 2 },
  { name: "order_shipped", language: "pt_BR", header: "image", bodyParameters: 2 },
  { name: "summer_sale", language: "en_US", bodyParameters: 0, status: "PAUSED" },
  { name: "old_sale", language: "en_US", status: "DISABLED" }
]

/** The final status of a message once every callback is in, with its typed reason. */
const outcome = (messageId: string) =>
  Effect.gen(function*() {
    yield* TestClock.adjust("1 second")
    const status = Option.getOrThrow(yield* Effect.flatMap(KaleyraEvents, (events) => events.status(messageId)))
    const code = status.errors.length > 0 ? status.errors[0].code : undefined
    return { status: status.status, reason: status.failureReason?._tag, code }
  })

describe("the 24-hour window, in memory (KaleyraTest.layer)", () => {
  it.effect("off by default: a free-form message is delivered whether or not the recipient wrote", () =>
    Effect.gen(function*() {
      const { messageId } = yield* sendMedia(freeForm())
      assert.deepStrictEqual(yield* outcome(messageId), { status: "read", reason: undefined, code: undefined })
    }).pipe(Effect.provide(KaleyraTest.layer())))

  it.scoped("on: free-form outside the window is accepted (202), then failed with 131047 and no sent status", () =>
    Effect.gen(function*() {
      const events = yield* KaleyraEvents
      const queue = yield* events.subscribe
      const result = yield* sendMedia(freeForm())
      assert.strictEqual(result.status, 202)
      const failed = yield* Effect.fork(Effect.flip(awaitStatus(result.messageId, "delivered")))
      yield* TestClock.adjust("1 second")
      const error = yield* Fiber.join(failed)
      assert.strictEqual(error._tag, "MessageFailed")
      const statuses = Chunk.toReadonlyArray(yield* Queue.takeAll(queue))
        .filter((e): e is MessageStatusUpdated => e._tag === "MessageStatusUpdated")
      assert.deepStrictEqual(statuses.map((s) => s.status), ["failed"], "Meta never sent it")
      assert.strictEqual(statuses[0].failureReason?._tag, "OutsideWindow")
      assert.strictEqual(statuses[0].errors[0].code, 131047)
    }).pipe(Effect.provide(KaleyraTest.layer({ window: true }))))

  it.effect("on: the same media as a template's header is delivered", () =>
    Effect.gen(function*() {
      const { messageId } = yield* sendMedia(shipped())
      assert.deepStrictEqual(yield* outcome(messageId), { status: "read", reason: undefined, code: undefined })
      const [sent] = yield* KaleyraTest.sent
      assert.strictEqual(sent.type, "template")
      assert.strictEqual(sent.message?.type === "template" && sent.message.template.name, "order_shipped")
    }).pipe(Effect.provide(KaleyraTest.layer({ window: true, templates }))))

  it.effect("on: a recipient who wrote gets free-form for 24 hours, then only templates", () =>
    Effect.gen(function*() {
      const simulator = yield* KaleyraSimulator.KaleyraSimulator
      yield* simulator.conversations.receiveFrom("+91 98765 43210")
      assert.deepStrictEqual(yield* simulator.conversations.lastInbound(TO), Option.some(0))
      const inside = yield* sendMedia(freeForm())
      assert.strictEqual((yield* outcome(inside.messageId)).status, "read")
      yield* TestClock.adjust("23 hours")
      const late = yield* sendMedia(freeForm())
      assert.strictEqual((yield* outcome(late.messageId)).status, "read")
      yield* TestClock.adjust("1 hour")
      const outside = yield* sendMedia(freeForm())
      assert.deepStrictEqual(yield* outcome(outside.messageId), {
        status: "failed",
        reason: "OutsideWindow",
        code: 131047
      })
    }).pipe(Effect.provide(KaleyraTest.layer({ window: true }))))

  it.scoped("on: per recipient, in one message to two (the callbacks as Kaleyra posts them)", () =>
    Effect.gen(function*() {
      const posted: Array<unknown> = []
      const simulator = yield* KaleyraSimulator.makeScoped({
        apiKey: "k",
        window: true,
        callbacks: { url: "http://127.0.0.1:1/cb", deliver: (_url, body) => Effect.sync(() => posted.push(body)) }
      })
      yield* simulator.conversations.receiveFrom(OTHER)
      const wire = SendMediaRequest.toWireJson(Either.getOrThrow(MediaMessage.validate(freeForm([TO, OTHER]))))
      const response = yield* simulator.handle({
        method: "POST",
        path: `/v2/${simulator.options.sid}/whatsapp/919999999999/messages`,
        headers: { "content-type": "application/json", "api-key": "k" },
        body: new TextEncoder().encode(wire)
      })
      assert.strictEqual(response.status, 202)
      yield* TestClock.adjust("1 second")
      const statuses = posted.flatMap((body) =>
        Either.getOrThrow(KaleyraCallback.decodeCallbacks(body)).flatMap((e) =>
          e._tag === "MessageStatusUpdated" ? [`${e.recipient} ${e.status} ${e.failureReason?.code ?? ""}`] : []
        )
      )
      assert.deepStrictEqual(statuses, [
        "+919876543210 failed 131047",
        "+14155550123 sent ",
        "+14155550123 delivered ",
        "+14155550123 read "
      ])
    }))

  it.effect("reset forgets who wrote", () =>
    Effect.gen(function*() {
      const simulator = yield* KaleyraSimulator.KaleyraSimulator
      yield* simulator.conversations.receiveFrom(TO)
      yield* simulator.reset
      assert.deepStrictEqual(yield* simulator.conversations.lastInbound(TO), Option.none())
    }).pipe(Effect.provide(KaleyraTest.layer({ window: true }))))
})

describe("registered templates: each mismatch fails by callback with Meta's code", () => {
  const cases: ReadonlyArray<readonly [string, MediaMessage.SendMediaInput, number, FailureReason.FailureReasonTag]> = [
    ["an unknown name", shipped(TO, { name: "order_lost" }), 132001, "TemplateNotFound"],
    ["a language it was not approved in", shipped(TO, { language: "de" }), 132001, "TemplateNotFound"],
    ["one body parameter too few", shipped(TO, { body: ["Ada"] }), 132000, "TemplateParameterCountMismatch"],
    ["no body", shipped(TO, { body: undefined }), 132000, "TemplateParameterCountMismatch"],
    [
      "a video for an image header",
      shipped(TO, { header: { video: { link } } }),
      132012,
      "TemplateParameterFormatMismatch"
    ],
    ["no header for an image header", shipped(TO, { header: undefined }), 132012, "TemplateParameterFormatMismatch"],
    [
      "a paused template",
      MediaMessage.template({ to: TO, name: "summer_sale", language: "en_US" }),
      132015,
      "TemplatePaused"
    ],
    [
      "a disabled template",
      MediaMessage.template({ to: TO, name: "old_sale", language: "en_US" }),
      132016,
      "TemplateDisabled"
    ]
  ]
  for (const [name, input, code, tag] of cases) {
    it.effect(`${name}: ${code}`, () =>
      Effect.gen(function*() {
        const result = yield* sendMedia(input)
        assert.strictEqual(result.status, 202, "accepted first, as any valid body")
        assert.deepStrictEqual(yield* outcome(result.messageId), { status: "failed", reason: tag, code })
      }).pipe(Effect.provide(KaleyraTest.layer({ window: true, templates }))))
  }

  it.effect("a header on a template without one: 132000; registerTemplate adds one", () =>
    Effect.gen(function*() {
      const simulator = yield* KaleyraSimulator.KaleyraSimulator
      yield* simulator.conversations.registerTemplate({ name: "plain", language: "en", bodyParameters: 1 })
      const extra = yield* sendMedia(
        MediaMessage.template({ to: TO, name: "plain", language: "en", header: { image: { link } }, body: ["x"] })
      )
      assert.strictEqual((yield* outcome(extra.messageId)).code, 132000)
      const fine = yield* sendMedia(MediaMessage.template({ to: TO, name: "plain", language: "en", body: ["x"] }))
      assert.strictEqual((yield* outcome(fine.messageId)).status, "read")
    }).pipe(Effect.provide(KaleyraTest.layer({ templates }))))

  it.effect("without the templates option, every valid template is delivered", () =>
    Effect.gen(function*() {
      const { messageId } = yield* sendMedia(shipped(TO, { name: "anything_at_all", body: ["x"] }))
      assert.strictEqual((yield* outcome(messageId)).status, "read")
    }).pipe(Effect.provide(KaleyraTest.layer())))
})

describe("scripted delivery failures give the other typed reasons", () => {
  const codes: ReadonlyArray<readonly [SimulatorTemplates.DeliveryFailureCode, FailureReason.FailureReasonTag]> = [
    [131026, "Undeliverable"],
    [131049, "EngagementLimited"],
    [131050, "MarketingOptOut"],
    [131056, "PairRateLimited"],
    [131047, "OutsideWindow"]
  ]
  for (const [code, tag] of codes) {
    it.effect(`${code}: ${tag}`, () =>
      Effect.gen(function*() {
        const simulator = yield* KaleyraSimulator.KaleyraSimulator
        yield* simulator.conversations.failDelivery(TO, code)
        const failed = yield* sendMedia(shipped())
        assert.deepStrictEqual(yield* outcome(failed.messageId), { status: "failed", reason: tag, code })
        yield* simulator.conversations.clearDeliveryFailure(TO)
        const delivered = yield* sendMedia(shipped())
        assert.strictEqual((yield* outcome(delivered.messageId)).status, "read")
      }).pipe(Effect.provide(KaleyraTest.layer())))
  }
})

describe("the simulator checks a template body as Meta would", () => {
  const post = (template: unknown) =>
    Effect.gen(function*() {
      const simulator = yield* KaleyraSimulator.makeScoped({ apiKey: "k" })
      const body = { messaging_object: { messaging_product: "whatsapp", to: TO, type: "template", template } }
      const response = yield* simulator.handle({
        method: "POST",
        path: `/v2/${simulator.options.sid}/whatsapp/919999999999/messages`,
        headers: { "content-type": "application/json", "api-key": "k" },
        body: new TextEncoder().encode(JSON.stringify(body))
      })
      return response.status
    }).pipe(Effect.scoped)
  const body = (text: string) => [{ type: "body", parameters: [{ type: "text", text }] }]
  it.effect("a valid template: 202; a newline, five spaces, a bad name or an unknown key: WA400", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* post({ name: "a", language: { code: "en" }, components: body("Ada") }), 202)
      assert.strictEqual(yield* post({ name: "a", language: { code: "en" }, components: body("A\nB") }), 400)
      assert.strictEqual(yield* post({ name: "a", language: { code: "en" }, components: body("A     B") }), 400)
      assert.strictEqual(yield* post({ name: "A-b", language: { code: "en" } }), 400)
      assert.strictEqual(yield* post({ name: "a", language: { code: "en" }, extra: 1 }), 400)
      assert.strictEqual(
        yield* post({ name: "a", language: { code: "en" }, components: [{ type: "header", parameters: [] }] }),
        400
      )
    }))
})

describe("properties: every valid arbitrary template", () => {
  it.prop("is valid, and toWireJson writes JSON.stringify(toWire(m))", [Arbitraries.validTemplate], ([input]) => {
    const message = Either.getOrThrow(MediaMessage.validate(input))
    assert.strictEqual(SendMediaRequest.toWireJson(message), JSON.stringify(SendMediaRequest.toWire(message)))
  }, { fastCheck: { numRuns: 300 } })

  it.effect.prop(
    "encodes to a body the simulator accepts, and decodes back to the same input",
    [Arbitraries.validTemplate],
    ([input]) =>
      Effect.gen(function*() {
        const result = yield* sendMedia(input)
        assert.strictEqual(result.status, 202)
        const [sent] = yield* KaleyraTest.sent
        const validated = Either.getOrThrow(MediaMessage.validate(input))
        assert.deepStrictEqual(sent.message, validated, "the simulator's decoding of what it received")
        assert.deepStrictEqual(Either.getOrThrow(SendMediaRequest.fromWireBody(sent.body)), validated)
        // and the input itself, as written, once normalised (recipients to E.164, an array)
        assert.deepStrictEqual(validated.type === "template" && validated.template, input.template)
      }).pipe(Effect.provide(KaleyraTest.layer({ callbacks: false }))),
    { fastCheck: { numRuns: 200 } }
  )

  it("covers every header, parameter and button type, named and positional", () => {
    const inputs = FastCheck.sample(Arbitraries.validTemplate, { numRuns: 500, seed: 7 })
    const seen = new Set<string>()
    for (const input of inputs) {
      for (const component of input.template.components ?? []) {
        if (component.type === "button") seen.add(`button ${component.subType}`)
        for (const parameter of component.parameters) {
          seen.add(`${component.type} ${parameter.type}`)
          if ("parameterName" in parameter && parameter.parameterName !== undefined) seen.add("named")
        }
      }
    }
    for (
      const expected of [
        "header image",
        "header video",
        "header document",
        "header text",
        "body text",
        "body currency",
        "body date_time",
        "button quick_reply",
        "button url",
        "named"
      ]
    ) assert.isTrue(seen.has(expected), expected)
  })
})
