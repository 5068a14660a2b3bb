/**
 * The demo (`pnpm demo`).
 *
 * - Without Kaleyra credentials: serves the Kaleyra simulator on a loopback port, points `KaleyraNode.layer` at it,
 *   sends each media type, one message to several recipients, and shows typed failures handled with
 *   `Effect.catchTag`; then serves a callback receiver, points the simulator's status callbacks at it and prints
 *   each send's lifecycle as its events arrive (SendAccepted, sent, delivered, read; one failed by a `/404` link);
 *   then, with the 24-hour window enforced, a free-form image failing with 131047 and the same image delivered as a
 *   template's header.
 * - With `KALEYRA_SID`, `KALEYRA_API_KEY` and `KALEYRA_SENDER_NUMBER` set: sends ONE real image (by link) to
 *   `--to <number>` through `KaleyraNode.layerConfig` (optionally `--link <url>`) and prints the result.
 *
 * Exit codes: 0 done, 1 a send failed, 2 wrong usage or configuration.
 *
 * @since 0.1.0
 */
import { sendMedia, type SendMediaResult } from "@effect-kaleyra/core/KaleyraClient"
import type { KaleyraResponseError, SendMediaError } from "@effect-kaleyra/core/KaleyraError"
import type { KaleyraEvent } from "@effect-kaleyra/core/KaleyraEvents"
import { awaitStatus, KaleyraEvents } from "@effect-kaleyra/core/KaleyraEvents"
import * as MediaMessage from "@effect-kaleyra/core/MediaMessage"
import * as CallbackReceiver from "@effect-kaleyra/node/CallbackReceiver"
import * as KaleyraNode from "@effect-kaleyra/node/KaleyraNode"
import * as SimulatorServer from "@effect-kaleyra/testing/SimulatorServer"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as ConfigError from "effect/ConfigError"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { parseArgs } from "node:util"
import { demoUpload } from "./demoUpload.js"
import { demoWindow } from "./demoWindow.js"

const USAGE = `Usage:
  pnpm demo                                  the simulated demo (a local Kaleyra simulator, no credentials needed)
  pnpm demo --to <number> [--link <url>]     ONE real image message; needs KALEYRA_SID, KALEYRA_API_KEY and
                                             KALEYRA_SENDER_NUMBER (and optionally KALEYRA_REGION or KALEYRA_BASE_URL)`

const DEFAULT_LINK = "https://www.kaleyra.com/wp-content/uploads/kaleyra.png"

const OK = 0
const FAILED = 1
const USAGE_ERROR = 2

// ---------------------------------------------------------------------------------------------------------------
// printing
// ---------------------------------------------------------------------------------------------------------------

const describeSuccess = (label: string, result: SendMediaResult) =>
  Console.log(
    `  ✓ ${label.padEnd(34)} message id ${result.messageId}  to ${result.recipients.join(", ")}` +
      `  (HTTP ${result.status}${result.code !== undefined ? ` ${result.code}` : ""}, ${result.attempts} attempt${
        result.attempts === 1 ? "" : "s"
      })`
  )

const describeFailure = (label: string, detail: string) => Console.log(`  ✗ ${label}\n      ${detail}`)

const describeKaleyraError = (error: KaleyraResponseError): string => {
  switch (error._tag) {
    case "UnexpectedResponse":
      return `HTTP ${error.status}, ${error.reason}: ${error.excerpt.slice(0, 120)}`
    case "RateLimited":
      return `HTTP ${error.status}: ${error.message}`
    default:
      return `HTTP ${error.status}, code ${error.code}: "${error.message}" ${JSON.stringify(error.error)}`
  }
}

const describeError = (error: SendMediaError): string => {
  switch (error._tag) {
    case "InvalidMessage":
      return `${error.field}: ${error.reason} (nothing was sent)`
    case "TransportError":
      return `${error.reason}, ${
        error.mayHaveReachedKaleyra ? "the request may have reached Kaleyra" : "the request did not reach Kaleyra"
      }: ${error.detail}`
    default:
      return describeKaleyraError(error)
  }
}

// ---------------------------------------------------------------------------------------------------------------
// the simulated demo
// ---------------------------------------------------------------------------------------------------------------

const SID = "HXAP16XXXXXX97IN"
const API_KEY = "demo-api-key-not-a-secret"
const SENDER = "919999999999"
const CUSTOMER = "+919876543210"

const simulated = Effect.gen(function*() {
  const { simulator, url } = yield* SimulatorServer.serve({
    simulator: { sid: SID, apiKey: API_KEY, senderNumbers: [SENDER] }
  })
  yield* Console.log(`Kaleyra simulator listening on ${url}\n`)
  const options = { sid: SID, apiKey: Redacted.make(API_KEY), senderNumber: SENDER, baseUrl: url }
  const client = KaleyraNode.layer(options)

  const send = (label: string, input: MediaMessage.SendMediaInput) =>
    sendMedia(input).pipe(Effect.flatMap((result) => describeSuccess(label, result)))

  yield* Console.log("Each media type:")
  yield* Effect.gen(function*() {
    yield* send(
      "image by link, with a caption",
      MediaMessage.image({ to: CUSTOMER, link: "https://example.com/catalogue.png", caption: "Our new catalogue" })
    )
    yield* send("audio by id", MediaMessage.audio({ to: CUSTOMER, id: "1013859600285441" }))
    yield* send(
      "document by id, with a filename",
      MediaMessage.document({ to: CUSTOMER, id: "1376223850470843", filename: "invoice-2024-001.pdf" })
    )
    yield* send("sticker by link", MediaMessage.sticker({ to: CUSTOMER, link: "https://example.com/thanks.webp" }))
    yield* send(
      "video by link, with a caption",
      MediaMessage.video({ to: CUSTOMER, link: "https://example.com/howto.mp4", caption: "How to get started" })
    )

    yield* Console.log("\nOne message to several recipients:")
    yield* send("image to three recipients", {
      to: ["+919876543210", "+14155550123", "+447700900123"],
      type: "image",
      image: { link: "https://example.com/offer.png", caption: "Offer of the week" },
      extraInfo: { ref: "campaign-42", ref1: "marketing", waSource: "api" }
    })

    yield* Console.log("\nTyped failures, handled with Effect.catchTag:")
    const message = MediaMessage.image({ to: CUSTOMER, link: "https://example.com/a.png" })

    yield* simulator.setBalance(0)
    yield* sendMedia(message).pipe(
      Effect.flatMap((result) => describeSuccess("(unexpected success)", result)),
      Effect.catchTag(
        "LowBalance",
        (error) =>
          describeFailure("LowBalance (the balance was set to 0): top up, then send again", describeKaleyraError(error))
      )
    )
    yield* simulator.setBalance(1_000)

    yield* simulator.failNext("WA400")
    yield* sendMedia(message).pipe(
      Effect.flatMap((result) => describeSuccess("(unexpected success)", result)),
      Effect.catchTag(
        "IncorrectPayload",
        (error) => describeFailure("IncorrectPayload (a scripted WA400)", describeKaleyraError(error))
      )
    )
  }).pipe(Effect.provide(client))

  // A sender number the account does not have.
  yield* sendMedia(MediaMessage.image({ to: CUSTOMER, link: "https://example.com/a.png" })).pipe(
    Effect.flatMap((result) => describeSuccess("(unexpected success)", result)),
    Effect.catchTag(
      "PhoneNumberNotFound",
      (error) =>
        describeFailure("PhoneNumberNotFound (sender 918888888888 is not on the account)", describeKaleyraError(error))
    ),
    Effect.provide(KaleyraNode.layer({ ...options, senderNumber: "918888888888" }))
  )

  // Found before any request: the error names the field.
  yield* sendMedia({ to: "12345", type: "audio", audio: { link: "ftp://example.com/a.mp3" } }).pipe(
    Effect.flatMap((result) => describeSuccess("(unexpected success)", result)),
    Effect.catchTag(
      "InvalidMessage",
      (error) => describeFailure("InvalidMessage (found before sending: no request was made)", error.message)
    ),
    Effect.provide(client)
  )

  const sent = yield* simulator.sent
  const requests = yield* simulator.requests
  yield* Console.log(
    `\nThe simulator received ${requests.length} requests and accepted ${sent.length} messages ` +
      `(${sent.reduce((n, m) => n + m.recipients.length, 0)} recipients). Balance left: ${yield* simulator.balance}.`
  )
  yield* Console.log("\nUpload, then send by id:")
  const uploaded = yield* demoUpload.pipe(Effect.provide(client))
  yield* statusCallbacks
  const window = yield* demoWindow
  return uploaded && window ? OK : FAILED
}).pipe(
  Effect.scoped,
  Effect.catchAll((error) => Effect.as(Console.error(`The demo failed: ${error._tag}: ${error.message}`), FAILED))
)

// ---------------------------------------------------------------------------------------------------------------
// status callbacks: a callback receiver, the simulator calling it back, each send's lifecycle as it happens
// ---------------------------------------------------------------------------------------------------------------

const CALLBACK_SECRET = "demo-callback-secret-not-a-secret"

const statusCallbacks = Effect.gen(function*() {
  yield* Console.log("\nStatus callbacks (a callback receiver; the simulator calls it back as Kaleyra would):")
  // One KaleyraEvents for the receiver and the client: `KaleyraNode.layer` uses the one in context.
  const events = yield* Layer.build(KaleyraEvents.layer())
  const receiver = yield* CallbackReceiver.serve({ secret: Redacted.make(CALLBACK_SECRET) }).pipe(
    Effect.provide(events)
  )
  const { url } = yield* SimulatorServer.serve({
    simulator: {
      sid: SID,
      apiKey: API_KEY,
      senderNumbers: [SENDER],
      callbacks: { url: receiver.url, secret: CALLBACK_SECRET }
    }
  })
  yield* Console.log(`  callback receiver on ${receiver.url}, simulator on ${url}`)
  const client = yield* Layer.build(
    KaleyraNode.layer({ sid: SID, apiKey: Redacted.make(API_KEY), senderNumber: SENDER, baseUrl: url })
  ).pipe(Effect.provide(events))

  const labels = new Map<string, string>()
  const finished = new Set<string>()
  const started = Date.now()
  const line = (event: KaleyraEvent): string | undefined => {
    const at = `+${String(Date.now() - started).padStart(4)} ms`
    switch (event._tag) {
      case "SendAccepted":
        return `  ${at}  ${event.messageId}  SendAccepted (${event.type} to ${event.recipients.join(", ")})`
      case "MessageStatusUpdated": {
        const error = event.errors[0]
        return `  ${at}  ${event.messageId}  ${event.status}` +
          (error !== undefined
            ? `: ${error.code} ${error.title ?? ""} (${error.details ?? error.message ?? ""})`
            : "") +
          `  [${labels.get(event.messageId) ?? "?"}]`
      }
      default:
        return undefined
    }
  }
  // Prints every event as it arrives, until both messages reached their last status.
  const subscription = yield* Effect.flatMap(KaleyraEvents, (service) => service.subscribe).pipe(
    Effect.provide(events)
  )
  const printer = yield* Stream.fromQueue(subscription).pipe(
    Stream.tap((event) => {
      const text = line(event)
      if (event._tag === "MessageStatusUpdated" && (event.status === "read" || event.status === "failed")) {
        finished.add(event.messageId)
      }
      return text === undefined ? Effect.void : Console.log(text)
    }),
    Stream.takeUntil(() => finished.size === 2),
    Stream.runDrain,
    Effect.fork
  )

  const ok = yield* sendMedia(
    MediaMessage.image({ to: CUSTOMER, link: "https://example.com/catalogue.png", extraInfo: { ref: "order-1" } })
  ).pipe(Effect.provide(client))
  labels.set(ok.messageId, "image by link")
  const missing = yield* sendMedia(
    MediaMessage.image({ to: CUSTOMER, link: "https://example.com/gone/404", extraInfo: { ref: "order-2" } })
  ).pipe(Effect.provide(client))
  labels.set(missing.messageId, "image whose link answers 404")

  const read = yield* awaitStatus(ok.messageId, "read", { timeout: "10 seconds" }).pipe(Effect.provide(client))
  const failed = yield* awaitStatus(missing.messageId, "delivered", { timeout: "10 seconds" }).pipe(
    Effect.as("was delivered (unexpected)"),
    Effect.catchTag(
      "MessageFailed",
      (error) => Effect.succeed(`failed: MessageFailed ${error.errors[0]?.code} (handled with Effect.catchTag)`)
    ),
    Effect.provide(client)
  )
  yield* Fiber.join(printer).pipe(Effect.timeout("5 seconds"), Effect.ignore)
  yield* Console.log(`  awaitStatus: ${read.messageId} reached ${read.status}; ${missing.messageId} ${failed}`)
}).pipe(Effect.scoped)

// ---------------------------------------------------------------------------------------------------------------
// one real message
// ---------------------------------------------------------------------------------------------------------------

const live = (to: string, link: string) =>
  Effect.gen(function*() {
    yield* Console.log(`Sending one image (${link}) to ${to} through Kaleyra...`)
    return yield* sendMedia(MediaMessage.image({ to, link, caption: "Sent with effect-kaleyra" })).pipe(
      Effect.flatMap((result) => Effect.as(describeSuccess("image by link", result), OK)),
      Effect.catchAll((error) => Effect.as(Console.error(`  ✗ ${error._tag}: ${describeError(error)}`), FAILED)),
      Effect.provide(KaleyraNode.layerConfig)
    )
  }).pipe(
    Effect.catchIf(ConfigError.isConfigError, (error) =>
      Effect.as(Console.error(`Invalid Kaleyra configuration: ${String(error)}`), USAGE_ERROR))
  )

// ---------------------------------------------------------------------------------------------------------------
// main
// ---------------------------------------------------------------------------------------------------------------

const usageError = (message: string) => Effect.as(Console.error(`${message}\n\n${USAGE}`), USAGE_ERROR)

const main: Effect.Effect<number> = Effect.suspend(() => {
  let args: {
    readonly to?: string | undefined
    readonly link?: string | undefined
    readonly help?: boolean | undefined
  }
  try {
    args = parseArgs({
      args: process.argv.slice(2).filter((arg) => arg !== "--"),
      options: { to: { type: "string" }, link: { type: "string" }, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: false
    }).values
  } catch (error) {
    return usageError(error instanceof Error ? error.message : String(error))
  }
  if (args.help === true) return Effect.as(Console.log(USAGE), OK)
  const env = process.env
  const credentials = ["KALEYRA_SID", "KALEYRA_API_KEY", "KALEYRA_SENDER_NUMBER"] as const
  const present = credentials.filter((name) => (env[name] ?? "") !== "")
  if (present.length === credentials.length) {
    if (args.to === undefined || args.to === "") {
      return usageError(
        "KALEYRA_SID, KALEYRA_API_KEY and KALEYRA_SENDER_NUMBER are set, so the demo would send a REAL message:\n" +
          "give the recipient with --to <number> (E.164, e.g. +919876543210)."
      )
    }
    return live(args.to, args.link ?? DEFAULT_LINK)
  }
  if (args.to !== undefined || args.link !== undefined) {
    const missing = credentials.filter((name) => !present.includes(name))
    return usageError(`--to and --link send a real message: set ${missing.join(", ")} first.`)
  }
  return simulated
})

NodeRuntime.runMain(main, {
  disableErrorReporting: false,
  teardown: (exit, onExit) => {
    if (Exit.isSuccess(exit)) onExit(typeof exit.value === "number" ? exit.value : OK)
    else onExit(FAILED)
  }
})
