/**
 * Looking for the API key where it must not be: in any form a printout can give it (as it is, in either case, JSON-
 * escaped once or twice, `\u`-escaped), a fragment of 8 or more of its characters; and everything a failed effect
 * shows of itself to a logger, a tracer and the caller.
 */
import { Cause, Effect, Exit, Inspectable, Logger, LogLevel, type Tracer } from "effect"

/** The shortest fragment of the key that counts as a leak. */
export const FRAGMENT = 8

/** JSON as Python writes it by default: every non-ASCII unit as `\uXXXX`. */
export const asciiJson = (value: unknown) =>
  JSON.stringify(value).replace(/[^\x20-\x7e]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"))

const escaped = (text: string) => JSON.stringify(text).slice(1, -1)

const variants = (fragment: string): ReadonlyArray<string> =>
  [fragment, fragment.toUpperCase(), fragment.toLowerCase()].flatMap((text) => [
    text,
    escaped(text),
    escaped(escaped(text)),
    asciiJson(text).slice(1, -1)
  ]).map((variant) => variant.toLowerCase())

/** A fragment of 8 or more of the key's characters (the whole key if shorter) found in `text`, in any form. */
export const leakIn = (key: string, text: string): string | undefined => {
  const lower = text.toLowerCase()
  const width = Math.min(FRAGMENT, key.length)
  for (let i = 0; i + width <= key.length; i++) {
    for (const variant of variants(key.slice(i, i + width))) {
      if (lower.includes(variant)) return variant
    }
  }
  return undefined
}

/** Everything an error shows of itself. */
export const renderings = (error: Error): ReadonlyArray<string> => [
  String(error),
  error.message,
  JSON.stringify(error),
  Inspectable.format(error),
  Cause.pretty(Cause.fail(error), { renderErrorCause: true }),
  error.stack ?? "",
  JSON.stringify(Object.entries(error))
]

/**
 * Runs `effect` (expected to fail), logging its failure, under a logger and a tracer that keep
 * what they see (every log line, and each span as an exporter serialises it when it ends), and returns that with every
 * rendering of the failure. The `http.client` spans (the client's own, on the `execute` path only) are among the
 * outputs, and also kept apart in `platform`.
 */
export const observed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const outputs: Array<string> = []
    const platform: Array<string> = []
    const logger = Logger.make((options) => {
      outputs.push(Logger.stringLogger.log(options), JSON.stringify(Logger.structuredLogger.log(options)))
    })
    const native = yield* Effect.tracer
    const tracer: Tracer.Tracer = {
      ...native,
      span(...args) {
        const span = native.span(...args)
        const end = span.end.bind(span)
        span.end = (endTime, exit) => {
          end(endTime, exit)
          const sinks = span.name.startsWith("http.client") ? [outputs, platform] : [outputs]
          for (const sink of sinks) {
            sink.push(
              JSON.stringify({ name: span.name, attributes: Object.fromEntries(span.attributes) }),
              exit._tag === "Failure" ? Inspectable.format(exit) : "success"
            )
          }
        }
        return span
      }
    }
    const exit = yield* effect.pipe(
      Effect.tapErrorCause((cause) => Effect.logError("failed", cause)),
      Effect.exit,
      Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
      Logger.withMinimumLogLevel(LogLevel.All),
      Effect.withTracer(tracer),
      Effect.withTracerEnabled(true)
    )
    if (Exit.isFailure(exit)) {
      outputs.push(Cause.pretty(exit.cause, { renderErrorCause: true }), Inspectable.format(exit))
      const failure = Cause.failureOption(exit.cause)
      if (failure._tag === "Some" && failure.value instanceof Error) outputs.push(...renderings(failure.value))
    }
    return { exit, outputs, platform }
  })
