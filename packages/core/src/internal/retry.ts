/**
 * Retries: the policy as an Effect `Schedule` (which failures are retried, after how long, how many times), and the
 * loop that runs the attempts of one call under it with the caller's hooks.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as ScheduleInterval from "effect/ScheduleInterval"
import type { AttemptHooks } from "../KaleyraClient.js"
import type * as KaleyraConfig from "../KaleyraConfig.js"
import { isRetryable, type KaleyraResponseError, type TransportError } from "../KaleyraError.js"

/**
 * A failure of one attempt, as the policy sees it.
 *
 * @internal
 */
export type AttemptError = KaleyraResponseError | TransportError

/** The cap of the exponential backoff (a `Retry-After` is not capped by it, only by `maxRetryAfter`). */
const MAX_BACKOFF_MILLIS = 30_000

/**
 * The delay before retry number `retry` (1-based) given a uniform draw `random` in [0, 1): the `Retry-After` of a 429
 * when it came, otherwise exponential backoff with ±50% jitter. `undefined`: do not retry (a `Retry-After` longer than
 * `maxRetryAfter`).
 *
 * @internal
 */
export const delayOf = (
  config: KaleyraConfig.Resolved,
  error: AttemptError,
  retry: number,
  random: number
): Duration.Duration | undefined => {
  if (error._tag === "RateLimited" && error.retryAfter !== undefined) {
    return Duration.greaterThan(error.retryAfter, config.maxRetryAfter) ? undefined : error.retryAfter
  }
  const base = Duration.toMillis(config.retryBaseDelay) * 2 ** (retry - 1)
  return Duration.millis(Math.round(Math.min(base, MAX_BACKOFF_MILLIS) * (0.5 + random)))
}

/**
 * The retry policy as a `Schedule` fed with each attempt's failure: it continues while the failure is retryable
 * (`isRetryable`: never one that may have reached Kaleyra), at most `maxRetries` times, after {@link delayOf}; its
 * output is the delay. Its state is the number of retries already decided.
 *
 * @internal
 */
export const policy = (config: KaleyraConfig.Resolved): Schedule.Schedule<Duration.Duration, AttemptError> =>
  Schedule.makeWithState(0, (now, error: AttemptError, retries: number) => {
    const retry = retries + 1
    if (retry > config.maxRetries || !isRetryable(error)) {
      return Effect.succeed([retries, Duration.zero, ScheduleDecision.done] as const)
    }
    return Effect.map(Random.next, (random) => {
      const delay = delayOf(config, error, retry, random)
      return delay === undefined
        ? [retries, Duration.zero, ScheduleDecision.done] as const
        : [retry, delay, ScheduleDecision.continueWith(ScheduleInterval.after(now + Duration.toMillis(delay)))] as const
    })
  })

/**
 * What the caller does with the outcome of the last attempt, and before a retry (ahead of the hooks'), given the
 * call's context `C` (for a send, its message): made once per client, not once per call.
 *
 * @internal
 */
export interface Settle<C, R, A, E> {
  readonly onSuccess: (context: C, response: R, attempts: number) => Effect.Effect<A, E>
  readonly onFailure: (context: C, error: AttemptError, attempts: number) => Effect.Effect<A, E>
  readonly onRetry?: (context: C, error: AttemptError, attempt: number, delay: Duration.Duration) => Effect.Effect<void>
}

/**
 * How one attempt's outcome is classified: `toError` maps the transport's own failure, `classify` the answer (a
 * success, or the error it is), `defect` a defect of the transport (an ambiguous `TransportError`). Each result is
 * scrubbed of the key by `scrub`.
 *
 * @internal
 */
export interface Classify<R, E> {
  readonly toError: (error: E) => AttemptError
  readonly defect: (defect: unknown) => AttemptError
  /** `undefined` for a success; otherwise the error, or a function of the `Clock`'s time to it (a 429's date). */
  readonly classify: (response: R) => undefined | AttemptError | ((now: number) => AttemptError)
}

/**
 * Runs `once` (one attempt) under `schedule` (see {@link policy}) with the hooks around each attempt, and settles on
 * the last attempt's outcome. A hand loop rather than `Effect.retry`: the first attempt costs no schedule step, and
 * `cancelRetries` and the hooks sit between the steps. A defect of the transport is classified by `classify.defect`;
 * one of a hook (`beforeAttempt`, `onRetry`) stays a defect; an interruption stays one.
 *
 * @internal
 */
export const retrying = <R, E, C, A, E2>(
  schedule: Schedule.Schedule<Duration.Duration, AttemptError>,
  once: Effect.Effect<R, E>,
  classify: Classify<R, E>,
  hooks: AttemptHooks | undefined,
  settled: Settle<C, R, A, E2>,
  context: C
): Effect.Effect<A, E2> => {
  const cancel = hooks?.cancelRetries
  const retryOrFail = (error: AttemptError, attempt: number): Effect.Effect<A, E2> => {
    const retry = Effect.flatMap(
      Effect.flatMap(Clock.currentTimeMillis, (now) => schedule.step(now, error, attempt - 1)),
      ([, delay, decision]) => {
        if (ScheduleDecision.isDone(decision)) return settled.onFailure(context, error, attempt)
        const announce = Effect.logDebug("Kaleyra: retrying").pipe(
          Effect.annotateLogs({ error: error._tag, attempt, delay: Duration.format(delay) })
        )
        return announce.pipe(
          Effect.zipRight(settled.onRetry?.(context, error, attempt, delay) ?? Effect.void),
          Effect.zipRight(hooks?.onRetry?.(error, attempt, delay) ?? Effect.void),
          Effect.zipRight(
            cancel === undefined
              ? Effect.delay(Effect.suspend(() => loop(attempt + 1)), delay)
              : Effect.raceFirst(Effect.sleep(delay), Deferred.await(cancel)).pipe(
                Effect.zipRight(hooks?.beforeAttempt ?? Effect.void),
                Effect.zipRight(Deferred.isDone(cancel)),
                Effect.flatMap((cancelled) =>
                  cancelled ? settled.onFailure(context, error, attempt) : attemptOnce(attempt + 1)
                )
              )
          )
        )
      }
    )
    return cancel === undefined ? retry : Effect.flatMap(
      Deferred.isDone(cancel),
      (cancelled) => cancelled ? settled.onFailure(context, error, attempt) : retry
    )
  }
  const loop = (attempt: number): Effect.Effect<A, E2> =>
    hooks?.beforeAttempt === undefined
      ? attemptOnce(attempt)
      : Effect.zipRight(hooks.beforeAttempt, attemptOnce(attempt))
  const attemptOnce = (attempt: number): Effect.Effect<A, E2> =>
    Effect.matchCauseEffect(once, {
      onFailure: (cause): Effect.Effect<A, E2> => {
        const failure = Cause.failureOption(cause)
        if (failure._tag === "Some") return retryOrFail(classify.toError(failure.value), attempt)
        // A defect in the transport is not the caller's fault: report it as an ambiguous transport failure.
        return Cause.isInterruptedOnly(cause)
          ? Effect.failCause(cause as Cause.Cause<never>)
          : retryOrFail(classify.defect(Cause.squash(cause)), attempt)
      },
      onSuccess: (response) => {
        const error = classify.classify(response)
        if (error === undefined) return settled.onSuccess(context, response, attempt)
        return typeof error === "function"
          ? Effect.flatMap(Clock.currentTimeMillis, (now) => retryOrFail(error(now), attempt))
          : retryOrFail(error, attempt)
      }
    })
  return loop(1)
}
