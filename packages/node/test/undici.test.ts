import { assert, describe, it } from "@effect/vitest"
import * as Undici from "undici"
import { Agent, FormData, toUndiciFormData } from "../src/internal/undici.js"

// The lean client loads undici's Agent and FormData from their own files (not undici's index, which loads fetch,
// WebSocket and more). They must stay the very classes of the index: a dispatcher or a FormData a user built from
// the same `undici` is then recognised as undici's own (from another copy of undici, a FormData is copied and a
// dispatcher is treated as a composed one). If an undici release moves these files, this fails first.
describe("undici, loaded by file", () => {
  it("Agent and FormData are the classes of undici's index", () => {
    assert.strictEqual(Agent, Undici.Agent)
    assert.strictEqual(FormData, Undici.FormData)
  })

  it("a FormData built from undici's index is passed on as it is; a global one is copied into undici's class", () => {
    const own = new Undici.FormData()
    own.append("type", "image/png")
    assert.strictEqual(toUndiciFormData(own as unknown as globalThis.FormData), own)

    const global = new globalThis.FormData()
    global.append("type", "image/png")
    global.append("file", new Blob([new Uint8Array([1, 2, 3])], { type: "image/png" }), "a.png")
    const copy = toUndiciFormData(global)
    assert.instanceOf(copy, Undici.FormData)
    assert.strictEqual(copy.get("type"), "image/png")
    const file = copy.get("file")
    assert.instanceOf(file, Blob)
    assert.strictEqual((file as unknown as { readonly name: string }).name, "a.png")
  })
})
