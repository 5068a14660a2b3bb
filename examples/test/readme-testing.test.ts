import { MediaMessage, sendMedia } from "@effect-kaleyra/core"
import { KaleyraTest } from "@effect-kaleyra/testing"
import { assert, it } from "@effect/vitest"
import { Effect } from "effect"

it.effect("handles a low balance", () =>
  Effect.gen(function*() {
    yield* KaleyraTest.failNext("E110")
    const error = yield* Effect.flip(sendMedia(MediaMessage.image({ to: "+919876543210", link: "https://a.b/c.png" })))
    assert.strictEqual(error._tag, "LowBalance")
    assert.strictEqual((yield* KaleyraTest.sent).length, 0)
  }).pipe(Effect.provide(KaleyraTest.layer()))) // a fresh simulator per test
