import { KaleyraClient, type KaleyraConfig } from "@effect-kaleyra/core"
import { HttpClient, type HttpClientRequest, HttpClientResponse } from "@effect/platform"
import { Clock, Effect, Layer, Redacted } from "effect"

export const API_KEY = "sk-LIVE-9f8e7d6c5b4a-secret"

export const baseOptions: KaleyraConfig.Options = {
  sid: "HXAP16XXXXXX97IN",
  apiKey: Redacted.make(API_KEY),
  senderNumber: "919999999999",
  baseUrl: "http://kaleyra.test"
}

export interface Seen {
  readonly url: string
  readonly method: string
  readonly headers: Record<string, string>
  readonly body: string
  readonly form: FormData | undefined
  /** When it arrived (TestClock time under it.effect). */
  readonly at: number
}

export type Reply =
  | { readonly status: number; readonly body?: string; readonly headers?: Record<string, string> }
  | { readonly fail: unknown }
  | { readonly hang: true }

const bodyText = (request: HttpClientRequest.HttpClientRequest): string =>
  request.body._tag === "Uint8Array" ? new TextDecoder().decode(request.body.body) : ""

/**
 * A scripted HttpClient built with the stock `HttpClient.make` (so spans and header redaction run as in
 * production). `replies` are used in order; the last one repeats.
 */
export const scripted = (replies: ReadonlyArray<Reply | ((seen: Seen) => Reply)>) => {
  const seen: Array<Seen> = []
  const client = HttpClient.make((request, url) =>
    Effect.flatMap(Clock.currentTimeMillis, (at) => {
      const entry: Seen = {
        url: url.toString(),
        method: request.method,
        headers: { ...request.headers },
        body: bodyText(request),
        form: request.body._tag === "FormData" ? request.body.formData : undefined,
        at
      }
      seen.push(entry)
      const next = replies[Math.min(seen.length - 1, replies.length - 1)]
      const reply = typeof next === "function" ? next(entry) : next
      if ("hang" in reply) return Effect.never
      if ("fail" in reply) return Effect.fail(reply.fail as never)
      return Effect.succeed(
        HttpClientResponse.fromWeb(
          request,
          new Response(reply.body ?? "", {
            status: reply.status,
            headers: { "content-type": "application/json", ...reply.headers }
          })
        )
      )
    })
  )
  return { seen, client, layer: Layer.succeed(HttpClient.HttpClient, client) }
}

export const clientLayer = (
  replies: ReadonlyArray<Reply | ((seen: Seen) => Reply)>,
  options: Partial<KaleyraConfig.Options> = {}
) => {
  const s = scripted(replies)
  return { seen: s.seen, layer: KaleyraClient.layer({ ...baseOptions, ...options }).pipe(Layer.provide(s.layer)) }
}

export const accepted = (id = "AXXXXXXXXXXXXXXXXXXX") => ({
  status: 202,
  body: JSON.stringify({ code: "WA202", message: "Request Accepted", data: { message_id: id }, error: {} })
})

/** The seed's failure responses, verbatim. */
export const seedFailures = {
  RBC001: {
    status: 401,
    body: {
      code: "RBC001",
      message: "Incorrect SID or API key.",
      data: [],
      error: { error: "Incorrect SID or API key." }
    },
    tag: "IncorrectCredentials"
  },
  WA401: {
    status: 401,
    body: {
      code: "WA401",
      message: "Phone number is not present or does not belong to the account.",
      data: {},
      error: { phone_number: "Phone number is not present or does not belong to the account." }
    },
    tag: "PhoneNumberNotFound"
  },
  WA400: {
    status: 400,
    body: {
      code: "WA400",
      message: "Refer to correct payload format",
      data: {},
      error: { payload: "Incorrect payload format" }
    },
    tag: "IncorrectPayload"
  },
  WA500: {
    status: 500,
    body: { code: "WA500", message: "Please try again later", data: {}, error: { error: "Internal server error" } },
    tag: "KaleyraServerError"
  },
  E110: {
    status: 400,
    body: {
      code: "E110",
      message: "Please check your balance, You have a low balance!",
      data: {},
      error: { balance: "Please check your balance, You have a low balance!" }
    },
    tag: "LowBalance"
  },
  "WA-401 account": {
    status: 401,
    body: {
      code: "WA-401",
      message: "API is not available for given customer.Please contact support for more info",
      data: {},
      error: { account: "API is not available for given customer.Please contact support for more info" }
    },
    tag: "ApiNotAvailable"
  },
  "WA-401 phone_number": {
    status: 401,
    body: {
      code: "WA-401",
      message:
        "The phone number you're using is associated with different Version of our WA API. Please use the appropriate endpoint.",
      data: {},
      error: {
        phone_number:
          "The phone number you're using is associated with different Version of our WA API. Please use the appropriate endpoint."
      }
    },
    tag: "PhoneNumberVersionMismatch"
  }
} as const

export const imageByLink = {
  type: "image",
  to: "+919876543210",
  image: { link: "https://example.com/a.png", caption: "Hello" },
  extraInfo: { ref: "customer1", ref1: "marketing", ref2: "dictionary", waSource: "api" }
} as const
