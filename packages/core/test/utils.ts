import { KaleyraClient, type KaleyraConfig, KaleyraTransport } from "@effect-kaleyra/core"
import { HttpClient, type HttpClientRequest, HttpClientResponse } from "@effect/platform"
import { Clock, Effect, Layer, Redacted } from "effect"
import { readFileSync } from "node:fs"

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
  return { seen, client, layer: httpLayer(client) }
}

/** The generic transport over `client`, and `client` itself. */
export const httpLayer = (client: HttpClient.HttpClient) =>
  KaleyraTransport.layer.pipe(Layer.provideMerge(Layer.succeed(HttpClient.HttpClient, client)))

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

/** The seed's failure responses, verbatim (shared with the testing package's tests). */
export const seedFailures: Readonly<Record<SeedCode, SeedFailure>> = JSON.parse(
  readFileSync(new URL("./fixtures/seed-failures.json", import.meta.url), "utf8")
).failures

export type SeedCode =
  | "RBC001"
  | "WA401"
  | "WA400"
  | "WA500"
  | "E110"
  | "WA-401-account"
  | "WA-401-phone_number"

export interface SeedFailure {
  readonly status: number
  readonly body: {
    readonly code: string
    readonly message: string
    readonly data: unknown
    readonly error: Readonly<Record<string, string>>
  }
  /** The error tag the library must give it. */
  readonly tag: string
}

export const imageByLink = {
  type: "image",
  to: "+919876543210",
  image: { link: "https://example.com/a.png", caption: "Hello" },
  extraInfo: { ref: "customer1", ref1: "marketing", ref2: "dictionary", waSource: "api" }
} as const

/** An answer of a scripted transport: a response read, or a failure. */
export type Answer = KaleyraTransport.Response | KaleyraTransport.Failure

/**
 * A transport (the contract itself, as the lean ones implement it) that answers `answers` in order, the last one
 * repeating, and records what it was asked to send or upload.
 */
export const scriptedTransport = (answers: ReadonlyArray<Answer>) => {
  const sent: Array<KaleyraTransport.Request | KaleyraTransport.Upload> = []
  const answer = (request: KaleyraTransport.Request | KaleyraTransport.Upload) =>
    Effect.suspend(() => {
      sent.push(request)
      const next = answers[Math.min(sent.length - 1, answers.length - 1)]
      return "cause" in next ? Effect.fail(next) : Effect.succeed(next)
    })
  const service: KaleyraTransport.Service = {
    send: answer,
    upload: answer,
    httpClient: scripted([]).client,
    tracesRequests: false
  }
  return { sent, service, layer: Layer.succeed(KaleyraTransport.KaleyraTransport, service) }
}
