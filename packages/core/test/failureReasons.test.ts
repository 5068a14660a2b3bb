import { FailureReason, KaleyraCallback, MediaMessage, MessageStatusUpdated, sendMedia } from "@effect-kaleyra/core"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import { readFileSync } from "node:fs"
import { clientLayer } from "./utils.js"

const v2Failed = JSON.parse(
  readFileSync(new URL("./fixtures/callbacks/v2-failed.json", import.meta.url), "utf8")
) as { meta_object: { value: { statuses: Array<{ errors: Array<{ code: number; title: string }> }> } } }

/** Kaleyra's v2 `failed` callback with Meta's error `code` instead of the fixture's 131053. */
const failedWith = (code: number | string) => {
  const body = structuredClone(v2Failed)
  body.meta_object.value.statuses[0].errors[0] = { code: code as number, title: "from Meta" }
  return body
}

const expected: ReadonlyArray<readonly [number, FailureReason.FailureReasonTag]> = [
  [131047, "OutsideWindow"],
  [132000, "TemplateParameterCountMismatch"],
  [132001, "TemplateNotFound"],
  [132012, "TemplateParameterFormatMismatch"],
  [132015, "TemplatePaused"],
  [132016, "TemplateDisabled"],
  [131026, "Undeliverable"],
  [131049, "EngagementLimited"],
  [131050, "MarketingOptOut"],
  [131056, "PairRateLimited"]
]

describe("Meta's failure codes are typed reasons on status events, with the code kept", () => {
  assert.deepStrictEqual([...FailureReason.codes].sort(), expected.map(([code]) => code).sort())
  for (const [code, tag] of expected) {
    it(`${code} in a v2 failed callback is ${tag}`, () => {
      const [event] = Either.getOrThrow(KaleyraCallback.decodeCallbacks(failedWith(code)))
      assert.instanceOf(event, MessageStatusUpdated)
      const status = event as MessageStatusUpdated
      assert.strictEqual(status.status, "failed")
      assert.strictEqual(status.failureReason?._tag, tag)
      assert.strictEqual(status.failureReason?.code, code)
      assert.strictEqual(status.errors[0].code, code, "Meta's error is kept as it came")
    })
  }

  it("a flat callback's error_code (a string) gives the same reason", () => {
    const [event] = Either.getOrThrow(KaleyraCallback.decodeCallbacks({
      id: "ad97e1c2-0000-4b7b-9e8b-3c0c2f0e7f11:0",
      status: "FAILED",
      mobile: "919407000000",
      error: "Re-engagement message",
      error_code: "131047"
    }))
    assert.strictEqual((event as MessageStatusUpdated).failureReason?._tag, "OutsideWindow")
  })

  it("another code, or no error, has no reason", () => {
    const [media] = Either.getOrThrow(KaleyraCallback.decodeCallbacks(v2Failed))
    assert.isUndefined((media as MessageStatusUpdated).failureReason)
    assert.isUndefined(FailureReason.fromCode("13104"))
    assert.isUndefined(FailureReason.fromCode("131047x"))
  })
})

describe("the same codes answered synchronously map to the same reasons", () => {
  const input: MediaMessage.SendMediaInput = MediaMessage.template({ to: "+919876543210", name: "a", language: "en" })
  for (const [code, tag] of expected) {
    it.effect(`Kaleyra's code ${code} is ${tag}`, () =>
      Effect.gen(function*() {
        const { layer } = clientLayer([{
          status: 400,
          body: JSON.stringify({ code: String(code), message: "from Meta", data: {}, error: {} })
        }])
        const error = yield* Effect.flip(sendMedia(input).pipe(Effect.provide(layer)))
        assert.strictEqual(error._tag, "UnknownKaleyraError")
        if (error._tag !== "UnknownKaleyraError") return
        assert.strictEqual(error.failureReason?._tag, tag)
        assert.strictEqual(error.code, String(code), "Kaleyra's code is kept")
        assert.strictEqual(FailureReason.fromError(error)?._tag, tag)
      }))
  }

  it.effect("Meta's code inside Kaleyra's error object", () =>
    Effect.gen(function*() {
      const { layer } = clientLayer([{
        status: 400,
        body: JSON.stringify({ code: "WA999", message: "Template error", data: {}, error: { code: 132001 } })
      }])
      const error = yield* Effect.flip(sendMedia(input).pipe(Effect.provide(layer)))
      assert.strictEqual(error._tag === "UnknownKaleyraError" && error.failureReason?._tag, "TemplateNotFound")
    }))
})
