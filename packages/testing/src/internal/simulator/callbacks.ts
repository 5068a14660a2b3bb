/**
 * Kaleyra's status callbacks as the simulator makes them: the v2 payload of one status, whether Meta can fetch the
 * media of an accepted message (a link ending in `/404`, an id this simulator never issued), and the default
 * delivery by `fetch`.
 *
 * @internal
 */
import type * as MediaMessage from "@effect-kaleyra/core/MediaMessage"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as KaleyraSimulator from "../../KaleyraSimulator.js"
import { isObject } from "./oracle.js"

type DeliverCallback = KaleyraSimulator.DeliverCallback
type MediaFailure = KaleyraSimulator.MediaFailure
type SentMessage = KaleyraSimulator.SentMessage
type StatusCallbackOptions = KaleyraSimulator.StatusCallbackOptions

export const statusCallback = (
  sent: SentMessage,
  status: "sent" | "delivered" | "read" | "failed",
  options: StatusCallbackOptions = {}
): Record<string, unknown> => {
  const recipient = (options.recipient ?? sent.recipients[0] ?? "").replace(/^\+/, "")
  const timestamp = String(options.timestamp ?? 1_700_000_000)
  const errors = status === "failed"
    ? (options.errors ?? [{ code: 131053, title: "Media upload error", details: "Unable to download the media" }])
      .map((e) => ({
        code: e.code,
        title: e.title,
        ...(e.message !== undefined ? { message: e.message } : {}),
        ...(e.details !== undefined ? { error_data: { details: e.details } } : {})
      }))
    : undefined
  const billable = status === "sent" || status === "delivered"
  return {
    meta_object: {
      value: {
        messaging_product: "whatsapp",
        metadata: { display_phone_number: sent.senderNumber, phone_number_id: "104000000000060" },
        statuses: [{
          id: sent.messageId,
          status,
          timestamp,
          recipient_id: recipient,
          ...(billable
            ? {
              conversation: { id: `conversation-${sent.messageId}`, origin: { type: "marketing" } },
              pricing: { billable: true, pricing_model: "CBP", category: "marketing" }
            }
            : {}),
          ...(errors !== undefined ? { errors } : {})
        }]
      },
      field: "messages"
    },
    extra_info: {
      trace_id: `trace-${sent.messageId}`,
      message_id: sent.messageId,
      waba_id: "100000000000001",
      ...(sent.extraInfo?.ref !== undefined ? { ref: sent.extraInfo.ref } : {}),
      ...(sent.extraInfo?.ref1 !== undefined ? { ref1: sent.extraInfo.ref1 } : {}),
      ...(sent.extraInfo?.ref2 !== undefined ? { ref2: sent.extraInfo.ref2 } : {})
    },
    status,
    message_id: sent.messageId
  }
}

export const defaultCallbackDelays: {
  readonly sent: Duration.Duration
  readonly delivered: Duration.Duration
  readonly read: Duration.Duration
} = {
  sent: Duration.millis(50),
  delivered: Duration.millis(100),
  read: Duration.millis(150)
}

export const defaultSecretHeader = "x-kaleyra-secret"

export const mediaUploadError = (details: string): MediaFailure => ({
  code: 131053,
  title: "Media upload error",
  message: "Media upload error",
  details
})

const LINK_NOT_FOUND = mediaUploadError(
  "Downloading media from weblink failed with http code 404, status message Not Found"
)

const linkIsNotFound = (link: string): boolean => {
  try {
    return new URL(link).pathname.endsWith("/404")
  } catch {
    return false
  }
}

/** Why Meta cannot deliver the media of an accepted body, or `undefined` when it can. */
export const mediaFailure = (
  body: unknown,
  type: MediaMessage.MediaType,
  isIssuedMediaId: (id: string) => boolean
): MediaFailure | undefined => {
  if (!isObject(body) || !isObject(body.messaging_object)) return undefined
  const media = body.messaging_object[type]
  if (!isObject(media)) return undefined
  if (typeof media.link === "string") return linkIsNotFound(media.link) ? LINK_NOT_FOUND : undefined
  if (typeof media.id === "string" && !isIssuedMediaId(media.id)) {
    return mediaUploadError(`Media id ${media.id.slice(0, 64)} was not found: it was never uploaded`)
  }
  return undefined
}

export const deliverWithFetch = (options: { readonly timeout?: Duration.DurationInput | undefined } = {}) => {
  const timeout = options.timeout ?? Duration.seconds(10)
  const deliver: DeliverCallback = (url, body, headers) =>
    Effect.tryPromise({
      try: async (signal) => {
        const response = await fetch(url, { method: "POST", headers, body: JSON.stringify(body), signal })
        // Read the answer to the end so that the connection is reused.
        await response.arrayBuffer()
        if (response.status < 200 || response.status > 299) {
          throw new Error(`the callback URL answered HTTP ${response.status}`)
        }
      },
      catch: (cause) => cause
    }).pipe(Effect.timeout(timeout))
  return deliver
}
