/**
 * Neither the API key nor the callback secret appears in any log line (all levels), any span or span attribute, or
 * any error's message, JSON or Cause.pretty — across sends, every Kaleyra failure, uploads, callbacks flowing to the
 * receiver, and requests to the receiver with wrong, leaked-looking or missing secrets.
 */
import { KaleyraEvents, MediaMessage, sendMedia, uploadMedia } from "@effect-kaleyra/core"
import * as SimulatorServer from "@effect-kaleyra/testing/SimulatorServer"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Inspectable, Layer, Logger, LogLevel, Redacted, type Tracer } from "effect"
import * as CallbackReceiver from "../src/CallbackReceiver.js"
import { KaleyraNode } from "../src/index.js"

const API_KEY = "sk-live-4c1d7e0f9a8b-api-key"
const CALLBACK_SECRET = "cb-secret-77aa55ee33-callbacks"
const SECRETS = [API_KEY, CALLBACK_SECRET]

const png = (size: number) => {
  const bytes = new Uint8Array(size)
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
  return bytes
}

describe("secrets", () => {
  it.scopedLive("never appear in logs, spans, errors, JSON or Cause.pretty", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const logger = Logger.make((options) => {
        lines.push(Logger.stringLogger.log(options), Logger.logfmtLogger.log(options))
        lines.push(JSON.stringify(Logger.structuredLogger.log(options)))
      })
      const exported: Array<string> = []
      const native = yield* Effect.tracer
      const tracer: Tracer.Tracer = {
        ...native,
        span(...args) {
          const span = native.span(...args)
          const end = span.end.bind(span)
          span.end = (endTime, exit) => {
            end(endTime, exit)
            // like an exporter: serialised when the span ends
            exported.push(JSON.stringify({
              name: span.name,
              attributes: Object.fromEntries(span.attributes),
              exit: Exit.isFailure(exit) ? Inspectable.format(exit) : "success"
            }))
          }
          return span
        }
      }
      const outputs: Array<string> = []
      const record = (exit: Exit.Exit<unknown, unknown>) => {
        outputs.push(Inspectable.format(exit))
        if (Exit.isFailure(exit)) {
          outputs.push(Cause.pretty(exit.cause, { renderErrorCause: true }))
          const error = Cause.squash(exit.cause)
          outputs.push(String(error), JSON.stringify(error), Inspectable.format(error))
          if (error instanceof Error) outputs.push(error.message, error.stack ?? "")
        }
      }

      const program = Effect.gen(function*() {
        const events = yield* KaleyraEvents
        const receiver = yield* CallbackReceiver.serve({ secret: Redacted.make(CALLBACK_SECRET) })
        const { simulator, url } = yield* SimulatorServer.serve({
          simulator: {
            apiKey: API_KEY,
            callbacks: { url: receiver.url, secret: CALLBACK_SECRET, delays: { sent: 5, delivered: 10, read: 15 } }
          }
        })
        const client = KaleyraNode.layer({
          sid: simulator.options.sid,
          apiKey: Redacted.make(API_KEY),
          senderNumber: simulator.options.senderNumbers[0],
          baseUrl: url,
          retryBaseDelay: "1 millis"
        })
        const wrongKey = KaleyraNode.layer({
          sid: simulator.options.sid,
          apiKey: Redacted.make(API_KEY + "-wrong"),
          senderNumber: simulator.options.senderNumbers[0],
          baseUrl: url
        })
        const message = MediaMessage.image({ to: "+919876543210", link: "https://example.com/a.png" })
        const run = <A, E>(effect: Effect.Effect<A, E, never>) =>
          effect.pipe(
            Effect.tapErrorCause((cause) => Effect.logError("failed", cause)),
            Effect.tap((value) => Effect.logDebug("ok", value)),
            Effect.exit,
            Effect.map(record)
          )
        const ok = yield* sendMedia(message).pipe(Effect.provide(client))
        yield* run(Effect.succeed(ok))
        for (const code of ["RBC001", "WA401", "WA400", "WA500", "E110", "WA-401-account", "WAV2101", "429"] as const) {
          yield* simulator.failNext(code, { times: 3 })
          yield* run(sendMedia(message).pipe(Effect.provide(client)))
        }
        yield* run(sendMedia(message).pipe(Effect.provide(wrongKey)))
        yield* run(sendMedia({ ...message, to: "nope" }).pipe(Effect.provide(client)))
        yield* run(uploadMedia({ data: png(1000), filename: "a.png" }).pipe(Effect.provide(client)))
        yield* run(uploadMedia({ data: png(6_000_000), filename: "big.png" }).pipe(Effect.provide(client)))
        yield* run(events.awaitStatus(ok.messageId, "read", { timeout: "5 seconds" }))
        // requests to the receiver with wrong secrets, one of them quoting the real secret in the wrong place
        for (
          const headers of [
            { "x-kaleyra-secret": "wrong" },
            { "x-kaleyra-secret": CALLBACK_SECRET + "x" },
            { authorization: `Basic ${btoa(`user:${CALLBACK_SECRET}x`)}` },
            { "x-other": CALLBACK_SECRET },
            {}
          ]
        ) {
          const response = yield* Effect.promise(() =>
            fetch(receiver.url, {
              method: "POST",
              headers: { "content-type": "application/json", ...headers },
              body: JSON.stringify({ id: "m", status: "sent" })
            })
          )
          assert.strictEqual(response.status, 401)
          outputs.push(yield* Effect.promise(() => response.text()))
        }
        const good = yield* Effect.promise(() =>
          fetch(receiver.url, {
            method: "POST",
            headers: { "content-type": "application/json", "x-kaleyra-secret": CALLBACK_SECRET },
            body: "{not json"
          })
        )
        assert.strictEqual(good.status, 400)
        outputs.push(yield* Effect.promise(() => good.text()))
      })

      yield* program.pipe(
        Effect.provide(KaleyraEvents.layer()),
        Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
        Logger.withMinimumLogLevel(LogLevel.All),
        Effect.withTracer(tracer),
        Effect.withTracerEnabled(true),
        Effect.scoped
      )

      assert.isAbove(lines.length, 10)
      assert.isAbove(exported.length, 10)
      assert.isTrue(exported.some((s) => s.includes("Kaleyra.sendMedia")))
      for (const text of [...lines, ...exported, ...outputs]) {
        for (const secret of SECRETS) {
          assert.notInclude(
            text,
            secret,
            text.slice(Math.max(0, text.indexOf(secret) - 200), text.indexOf(secret) + 40)
          )
        }
      }
    }), 60_000)
})

void Layer.empty
