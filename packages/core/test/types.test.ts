import {
  type ApiNotAvailable,
  type DailyLimitReached,
  type IncorrectCredentials,
  type IncorrectPayload,
  type InvalidMessage,
  type KaleyraClient,
  type KaleyraServerError,
  type LowBalance,
  MediaMessage,
  type PhoneNumberNotFound,
  type PhoneNumberVersionMismatch,
  type RateLimited,
  sendMedia,
  type SendMediaError,
  type SendMediaResult,
  type TransportError,
  type UnexpectedResponse,
  type UnknownKaleyraError
} from "@effect-kaleyra/core"
import { describe, expectTypeOf, it } from "@effect/vitest"
import type { Effect } from "effect"

type Documented =
  | InvalidMessage
  | IncorrectCredentials
  | PhoneNumberNotFound
  | IncorrectPayload
  | LowBalance
  | ApiNotAvailable
  | PhoneNumberVersionMismatch
  | DailyLimitReached
  | KaleyraServerError
  | RateLimited
  | UnknownKaleyraError
  | UnexpectedResponse
  | TransportError

describe("types", () => {
  it("sendMedia's error channel is exactly the documented union", () => {
    const effect = sendMedia(MediaMessage.image({ to: "+919876543210", link: "https://a.b/c.png" }))
    expectTypeOf(effect).toEqualTypeOf<Effect.Effect<SendMediaResult, SendMediaError, KaleyraClient>>()
    expectTypeOf<Effect.Effect.Error<typeof effect>>().toEqualTypeOf<Documented>()
    expectTypeOf<SendMediaError["_tag"]>().toEqualTypeOf<
      | "InvalidMessage"
      | "IncorrectCredentials"
      | "PhoneNumberNotFound"
      | "IncorrectPayload"
      | "LowBalance"
      | "ApiNotAvailable"
      | "PhoneNumberVersionMismatch"
      | "DailyLimitReached"
      | "KaleyraServerError"
      | "RateLimited"
      | "UnknownKaleyraError"
      | "UnexpectedResponse"
      | "TransportError"
    >()
  })

  it("the builders allow only the fields each media type takes", () => {
    // @ts-expect-error audio takes no caption
    MediaMessage.audio({ to: "+919876543210", link: "https://a.b/c.mp3", caption: "x" })
    // @ts-expect-error image takes no filename
    MediaMessage.image({ to: "+919876543210", id: "1", filename: "a.png" })
    // @ts-expect-error id and link together
    MediaMessage.video({ to: "+919876543210", id: "1", link: "https://a.b/c.mp4" })
    // @ts-expect-error neither id nor link
    MediaMessage.sticker({ to: "+919876543210" })
    expectTypeOf(MediaMessage.document({ to: ["+919876543210"], id: "1", filename: "a.pdf", caption: "c" }))
      .toEqualTypeOf<MediaMessage.DocumentInput>()
  })
})
