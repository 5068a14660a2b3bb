/**
 * Hostile input, 10 000 runs per property: whatever `sendMedia`, `uploadMedia` and the callback decoder are given,
 * they never die with a defect, never send an invalid request, and a refusal always names the failing field. Then
 * every hostile shape (throwing getters, thrown values, revoked and throwing Proxies) in every position, enumerated.
 */
import {
  KaleyraCallback,
  KaleyraClient,
  MediaFile,
  MediaMessage,
  MediaUpload,
  sendMedia,
  SendMediaRequest,
  uploadMedia
} from "@effect-kaleyra/core"
import type { InvalidMessage, UploadMediaInput } from "@effect-kaleyra/core"
import { HttpClient, type HttpClientRequest, type HttpClientResponse } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Either, Exit, FastCheck, Layer, ManagedRuntime } from "effect"
import { baseOptions, httpLayer } from "./utils.js"

/** A lean transport that records each request and accepts it (no web Request/Response: 10 000 runs stay fast). */
const recording = () => {
  const seen: Array<HttpClientRequest.HttpClientRequest> = []
  const respond = (request: HttpClientRequest.HttpClientRequest) => {
    seen.push(request)
    const body = request.url.endsWith("/media")
      ? JSON.stringify({ id: "m-1" })
      : JSON.stringify({ code: "WA202", message: "Request Accepted", data: { message_id: "m-1" }, error: {} })
    return {
      request,
      status: 202,
      headers: { "content-type": "application/json", "content-length": String(body.length) },
      text: Effect.succeed(body)
    } as unknown as HttpClientResponse.HttpClientResponse
  }
  const client = HttpClient.makeWith((effect) => Effect.map(effect, respond), Effect.succeed) as HttpClient.HttpClient
  const runtime = ManagedRuntime.make(
    KaleyraClient.layer(baseOptions).pipe(Layer.provide(httpLayer(client)))
  )
  return { seen, runtime }
}
const bodyText = (request: HttpClientRequest.HttpClientRequest) =>
  request.body._tag === "Uint8Array" ? new TextDecoder().decode(request.body.body) : ""

const RUNS = 10_000

const nasty = FastCheck.oneof(
  FastCheck.string({ unit: "binary", maxLength: 300 }),
  FastCheck.string({ unit: FastCheck.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)) }),
  FastCheck.constantFrom("", " ", "\u0000", "\ud800", "../../etc/passwd", "a/b", "C:\\x", "%2e%2e", "javascript:x"),
  FastCheck.constant("x".repeat(70_000)),
  FastCheck.constant("😀".repeat(1100))
)
const anything = FastCheck.anything({ maxDepth: 2, maxKeys: 4, withBigInt: true, withNullPrototype: true })
const anyValue = FastCheck.oneof({ weight: 3, arbitrary: anything }, { weight: 2, arbitrary: nasty })
const field = FastCheck.oneof({ weight: 3, arbitrary: anyValue }, {
  weight: 2,
  arbitrary: FastCheck.constant(undefined)
})

const messageLike = FastCheck.record({
  type: FastCheck.oneof(FastCheck.constantFrom(...MediaMessage.mediaTypes), anyValue),
  to: FastCheck.oneof(nasty, FastCheck.array(FastCheck.oneof(nasty, anyValue), { maxLength: 5 }), anyValue),
  image: FastCheck.record({ id: field, link: field, caption: field, filename: field }, { requiredKeys: [] }),
  audio: FastCheck.record({ id: field, link: field, caption: field }, { requiredKeys: [] }),
  document: FastCheck.record({ id: field, link: field, caption: field, filename: field }, { requiredKeys: [] }),
  sticker: FastCheck.oneof(FastCheck.record({ id: field, link: field }, { requiredKeys: [] }), anyValue),
  video: FastCheck.record({ link: field, caption: field }, { requiredKeys: [] }),
  replyTo: field,
  extraInfo: FastCheck.oneof(
    FastCheck.record({ ref: field, ref1: field, ref2: field, waSource: field }, { requiredKeys: [] }),
    anyValue
  )
}, { requiredKeys: [] })

const knownFields =
  /^(input|type|to(\[\d+\])?|(audio|document|image|sticker|video)(\.\w+)?|replyTo|extraInfo(\.\w+)?|\w+)$/

describe("hostile input", () => {
  it("sendMedia", async () => {
    const { runtime, seen } = recording()
    await FastCheck.assert(
      FastCheck.asyncProperty(FastCheck.oneof(anyValue, messageLike), async (input) => {
        seen.length = 0
        const exit = await runtime.runPromiseExit(sendMedia(input as MediaMessage.SendMediaInput))
        if (Exit.isSuccess(exit)) {
          // only a valid request left, and it is exactly the validated message
          assert.strictEqual(seen.length, 1)
          const wire = SendMediaRequest.fromWireBody(JSON.parse(bodyText(seen[0])))
          assert.isTrue(Either.isRight(wire))
          assert.deepStrictEqual(Either.getOrThrow(wire), Either.getOrThrow(MediaMessage.validate(input)))
          return
        }
        assert.isFalse(Cause.isDie(exit.cause), Cause.pretty(exit.cause))
        const error = Cause.squash(exit.cause) as { _tag: string; field: string; reason: string }
        assert.strictEqual(error._tag, "InvalidMessage")
        assert.match(error.field, knownFields)
        assert.isAbove(error.reason.length, 0)
        assert.strictEqual(seen.length, 0)
      }),
      { numRuns: RUNS }
    )
    await runtime.dispose()
  }, 300_000)

  const bytes = FastCheck.oneof(
    FastCheck.uint8Array({ maxLength: 64 }),
    FastCheck.constantFrom(
      new Uint8Array(0),
      new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]),
      new Uint8Array([0xff, 0xd8, 0xff, 0xe0]),
      new TextEncoder().encode("%PDF-1.7 hello"),
      new TextEncoder().encode("plain text")
    )
  )
  const uploadLike = FastCheck.record({
    data: FastCheck.oneof(bytes, bytes.map((b) => new Blob([b as Uint8Array<ArrayBuffer>])), anyValue),
    filename: FastCheck.oneof(nasty, FastCheck.constantFrom("a.png", "a.jpg", "a.pdf", "a.txt", "a.webp"), anyValue),
    mimeType: FastCheck.oneof(
      FastCheck.constant(undefined),
      FastCheck.constantFrom(...MediaFile.supportedTypes.map((t) => t.mimeType), "image/gif", "IMAGE/PNG; q=1"),
      nasty,
      anyValue
    )
  }, { requiredKeys: [] })

  it("uploadMedia", async () => {
    const { runtime, seen } = recording()
    await FastCheck.assert(
      FastCheck.asyncProperty(FastCheck.oneof(anyValue, uploadLike), async (input) => {
        seen.length = 0
        const exit = await runtime.runPromiseExit(uploadMedia(input as Parameters<typeof uploadMedia>[0]))
        if (Exit.isSuccess(exit)) {
          assert.strictEqual(seen.length, 1)
          const body = seen[0].body
          assert.strictEqual(body._tag, "FormData")
          if (body._tag !== "FormData") return
          const file = body.formData.get("file") as File
          assert.isTrue(MediaFile.supportedTypes.some((t) => t.mimeType === body.formData.get("type")))
          assert.isAbove(file.size, 0)
          // eslint-disable-next-line no-control-regex
          assert.notMatch(file.name, /[/\\\u0000-\u001f]/)
          return
        }
        assert.isFalse(Cause.isDie(exit.cause), Cause.pretty(exit.cause))
        const error = Cause.squash(exit.cause) as MediaFile.InvalidMedia
        assert.strictEqual(error._tag, "InvalidMedia")
        assert.include(["input", "data", "filename", "mimeType"], error.field)
        assert.isAbove(error.reason.length, 0)
        assert.strictEqual(seen.length, 0)
      }),
      { numRuns: RUNS }
    )
    await runtime.dispose()
  }, 300_000)

  const callbackLike = FastCheck.oneof(
    anyValue,
    FastCheck.record({ id: field, status: field, mobile: field, error_code: field, from: field, type: field }, {
      requiredKeys: []
    }),
    FastCheck.record({
      meta_object: FastCheck.oneof(
        anyValue,
        FastCheck.record({
          value: FastCheck.oneof(
            anyValue,
            FastCheck.record({
              statuses: FastCheck.oneof(
                anyValue,
                FastCheck.array(FastCheck.record({ id: field, status: field, errors: field }, { requiredKeys: [] }))
              ),
              messages: FastCheck.oneof(anyValue, FastCheck.array(FastCheck.record({ from: field, type: field })))
            }, { requiredKeys: [] })
          )
        }, { requiredKeys: [] })
      ),
      extra_info: field,
      message_id: field,
      status: field
    }, { requiredKeys: [] })
  )

  it.prop("the callback decoder", [callbackLike], ([body]) => {
    const decoded = KaleyraCallback.decodeCallbacks(body)
    if (Either.isLeft(decoded)) {
      assert.strictEqual(decoded.left._tag, "CallbackDecodeError")
      assert.isAbove(decoded.left.reason.length, 0)
    } else {
      assert.isAbove(decoded.right.length, 0)
      for (const event of decoded.right) {
        if (event._tag === "MessageStatusUpdated") {
          assert.include(["sent", "delivered", "read", "failed"], event.status)
          assert.isString(event.messageId)
        } else assert.isString(event.from)
      }
    }
  }, { timeout: 300_000, fastCheck: { numRuns: RUNS } })
})

// ---------------------------------------------------------------------------------------------------------------
// Every hostile shape, in every position: enumerated, not sampled
// ---------------------------------------------------------------------------------------------------------------

const revoked = (): object => {
  const { proxy, revoke } = Proxy.revocable({}, {})
  revoke()
  return proxy
}
const TRAPS = [
  "get",
  "has",
  "ownKeys",
  "getOwnPropertyDescriptor",
  "getPrototypeOf",
  "isExtensible",
  "set",
  "defineProperty",
  "deleteProperty",
  "preventExtensions",
  "setPrototypeOf"
] as const
/** A Proxy of `target` whose `traps` throw what `thrown` makes. */
const throwingTraps = (target: object, thrown: () => unknown, traps: ReadonlyArray<string> = TRAPS): object =>
  new Proxy(
    target,
    Object.fromEntries(traps.map((trap) => [trap, () => {
      throw thrown()
    }]))
  )
const withMessage = (descriptor: PropertyDescriptor) => Object.defineProperty(new Error(), "message", descriptor)

/** What a getter or trap may throw: values as hostile to the error handling as the input is to validation. */
const thrownValues: ReadonlyArray<readonly [string, () => unknown]> = [
  ["an Error", () => new Error("boom")],
  ["an Error whose message is a Symbol", () => withMessage({ value: Symbol("message") })],
  ["an Error whose message getter throws", () =>
    withMessage({
      get() {
        throw new Error("again")
      }
    })],
  ["an Error whose message getter throws a revoked Proxy", () =>
    withMessage({
      get() {
        throw revoked()
      }
    })],
  ["an Error whose message is an object", () => withMessage({ value: { toString: () => 1 } })],
  ["an Error of a 4 MB message", () => new Error("x".repeat(4_000_000))],
  ["a Symbol", () => Symbol("thrown")],
  ["a string", () => "thrown"],
  ["undefined", () => undefined],
  ["null", () => null],
  ["a bigint", () => 10n ** 400n],
  ["a function", () => () => 0],
  ["a revoked Proxy", revoked],
  ["a Proxy whose traps throw", () => throwingTraps({}, () => new Error("trap"))],
  [
    "a Proxy whose traps throw Errors with a Symbol message",
    () => throwingTraps(new Error("x"), () => withMessage({ value: Symbol("m") }))
  ],
  ["an object whose conversions throw", () => ({
    toString() {
      throw new Error("toString")
    },
    [Symbol.toPrimitive]() {
      throw Symbol("toPrimitive")
    }
  })]
]

type Path = ReadonlyArray<string | number>
type Fields = Record<string | number, unknown>

const getPath = (root: unknown, path: Path): unknown => path.reduce((u: unknown, key) => (u as Fields)[key], root)
/** A fresh `base()` with the value at `path` replaced by what `make` returns from the original value. */
const replaced = (base: () => object, path: Path, make: (original: unknown) => unknown): unknown => {
  const root = base()
  if (path.length === 0) return make(root)
  const parent = getPath(root, path.slice(0, -1)) as Fields
  parent[path[path.length - 1]] = make(parent[path[path.length - 1]])
  return root
}
/** A fresh `base()` whose value at `path` is read through a getter that throws. */
const throwingGetter = (base: () => object, path: Path, thrown: () => unknown): unknown => {
  const root = base()
  Object.defineProperty(getPath(root, path.slice(0, -1)), path[path.length - 1], {
    get() {
      throw thrown()
    },
    enumerable: true,
    configurable: true
  })
  return root
}

/** Every hostile shape at every position of `base`: [name, input]. Containers get a Proxy per trap as well. */
const hostileShapes = (base: () => object): ReadonlyArray<readonly [string, () => unknown]> => {
  const paths: Array<Path> = []
  const visit = (u: unknown, path: Path) => {
    paths.push(path)
    if (typeof u === "object" && u !== null && !(u instanceof Uint8Array) && !(u instanceof Blob)) {
      for (const key of Object.keys(u)) visit((u as Fields)[key], [...path, Array.isArray(u) ? Number(key) : key])
    }
  }
  visit(base(), [])
  const shapes: Array<readonly [string, () => unknown]> = []
  for (const path of paths) {
    const at = path.length === 0 ? "the input" : path.join(".")
    const isContainer = typeof getPath(base(), path) === "object"
    shapes.push([`${at}: a revoked Proxy`, () => replaced(base, path, revoked)])
    for (const [what, thrown] of thrownValues) {
      if (path.length > 0) {
        shapes.push([`${at}: a getter that throws ${what}`, () => throwingGetter(base, path, thrown)])
      }
      shapes.push([
        `${at}: a Proxy whose traps all throw ${what}`,
        () => replaced(base, path, (original) => throwingTraps(isContainer ? original as object : {}, thrown))
      ])
    }
    if (isContainer) {
      for (const trap of TRAPS) {
        for (const [what, thrown] of thrownValues.slice(1, 4)) {
          shapes.push([
            `${at}: a Proxy whose ${trap} trap throws ${what}`,
            () => replaced(base, path, (original) => throwingTraps(original as object, thrown, [trap]))
          ])
        }
      }
    }
  }
  return shapes
}

const messageBases: ReadonlyArray<() => object> = [
  () => ({
    type: "document",
    to: ["+919876543210", "+14155550123"],
    document: { link: "https://example.com/a.pdf", caption: "c", filename: "a.pdf" },
    replyTo: "wamid.HBgL",
    extraInfo: { ref: "r", ref1: "r1", ref2: "r2", waSource: "api" }
  }),
  () => ({ type: "image", to: "+919876543210", image: { id: "1012345678901291", caption: "c" } })
]
const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3])
const uploadBases: ReadonlyArray<() => object> = [
  () => ({ data: PNG.slice(), filename: "a.png", mimeType: "image/png" }),
  () => ({ data: new Blob([PNG]), filename: "a.png" })
]
/** Blobs that fail as they are read, each way, throwing each hostile value. */
const hostileBlobs: ReadonlyArray<readonly [string, () => unknown]> = thrownValues.flatMap(([what, thrown]) =>
  [
    [`a Blob whose slice throws ${what}`, () =>
      new (class extends Blob {
        override slice(): Blob {
          throw thrown()
        }
      })([PNG])],
    [`a Blob whose arrayBuffer rejects with ${what}`, () =>
      new (class extends Blob {
        override slice(): Blob {
          return { arrayBuffer: () => Promise.reject(thrown()) } as unknown as Blob
        }
      })([PNG])],
    [`a Blob whose size throws ${what}`, () =>
      new (class extends Blob {
        override get size(): number {
          throw thrown()
        }
      })([PNG])]
  ] as const
)

/**
 * Runs each shape through `run` and checks that it is refused with an error of one of `tags` (never a defect), small
 * and printable, and that nothing is sent. Only a Proxy whose one throwing trap is never used (`set`, `has`, ... on
 * an input that is only read) may be accepted, and is then sent as any valid input. Returns the errors.
 */
const refuseEach = async (
  shapes: ReadonlyArray<readonly [string, () => unknown]>,
  run: (input: unknown) => Effect.Effect<unknown, unknown, KaleyraClient>,
  tags: ReadonlyArray<string>,
  requestsPerSuccess: number
): Promise<ReadonlyArray<{ readonly _tag: string }>> => {
  const { runtime, seen } = recording()
  const errors: Array<{ readonly _tag: string }> = []
  let accepted = 0
  for (const [name, make] of shapes) {
    const exit = await runtime.runPromiseExit(run(make()))
    try {
      if (Exit.isSuccess(exit)) {
        assert.match(name, / trap throws /, "a hostile input was accepted")
        accepted++
        continue
      }
      assert.isFalse(Cause.isDie(exit.cause), Cause.pretty(exit.cause))
      const error = Cause.squash(exit.cause) as { readonly _tag: string; readonly message: string }
      assert.include(tags, error._tag)
      assert.isString(error.message)
      assert.isBelow(error.message.length, 2_000)
      assert.isBelow(Cause.pretty(exit.cause).length, 10_000)
      errors.push(error)
    } catch (e) {
      throw new Error(`${name}: ${e instanceof Error ? e.message : "?"}`)
    }
    assert.strictEqual(seen.length, accepted * requestsPerSuccess, `${name}: a refused input sent a request`)
  }
  await runtime.dispose()
  return errors
}

describe("hostile values in every position (enumerated)", () => {
  it("sendMedia refuses each with an InvalidMessage, never a defect", async () => {
    const shapes = messageBases.flatMap(hostileShapes)
    assert.isAbove(shapes.length, 800)
    const errors = await refuseEach(shapes, (input) => sendMedia(input as MediaMessage.SendMediaInput), [
      "InvalidMessage"
    ], 1)
    assert.isAbove(errors.length, 700)
    for (const error of errors as ReadonlyArray<InvalidMessage>) {
      assert.match(error.field, knownFields)
      assert.isAbove(error.reason.length, 0)
    }
  }, 120_000)

  const uploadShapes: ReadonlyArray<readonly [string, () => unknown]> = [
    ...uploadBases.flatMap(hostileShapes),
    ...hostileBlobs.map(([name, blob]) => [name, () => ({ data: blob(), filename: "a.png" })] as const)
  ]

  it("uploadMedia refuses each with an InvalidMedia, never a defect", async () => {
    assert.isAbove(uploadShapes.length, 300)
    const errors = await refuseEach(uploadShapes, (input) => uploadMedia(input as UploadMediaInput), [
      "InvalidMedia"
    ], 1)
    assert.isAbove(errors.length, 250)
  }, 120_000)

  it("sendMediaFile refuses each (the file's fields and the message's) with a SendMediaFileError", async () => {
    const fileBase = () => ({ ...uploadBases[0](), to: ["+919876543210"], caption: "c", extraInfo: { ref: "r" } })
    const shapes = [...hostileShapes(fileBase), ...uploadShapes]
    const errors = await refuseEach(
      shapes,
      (input) => MediaUpload.sendMediaFile(input as MediaUpload.SendMediaFileInput),
      ["SendMediaFileError"],
      2
    )
    assert.isAbove(errors.length, 600)
    for (const error of errors as ReadonlyArray<MediaUpload.SendMediaFileError>) {
      assert.include(["InvalidMedia", "InvalidMessage"], error.error._tag)
    }
  }, 120_000)
})
