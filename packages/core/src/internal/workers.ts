/**
 * The worker engine of batch sending: a fixed set of workers over one input stream, results in order (or as they
 * come) within a bounded window, defects and early ends handled without losing a result.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Stream from "effect/Stream"

/**
 * How `runWorkers` ends when its stream ends before the last result (the consumer interrupted or done): `halt` (no
 * new run, no retry), the runs that are not `busy` interrupted at once, the busy ones given `grace` milliseconds to
 * finish, then each still running `abandon`ed (reported) and interrupted.
 */
export interface Drain {
  readonly grace: number
  readonly halt: () => void
  readonly busy: (fiber: Fiber.RuntimeFiber<unknown, unknown>) => boolean
  readonly abandon: (fiber: Fiber.RuntimeFiber<unknown, unknown>) => Effect.Effect<void>
}

/** Marks the end of `runWorkers`'s results. */
const END: unique symbol = Symbol("effect-kaleyra/Batch/end")

/** Stands, in order, for an input whose run died: it has no result, and is passed over. */
const DIED: unique symbol = Symbol("effect-kaleyra/Batch/died")

/**
 * Parks the fiber in `line` until its entry there is called, unless `ready()` holds. `ready` is checked in the step
 * that parks: checked only in an earlier one, a change made while the fiber yielded in between (its op budget spent)
 * would wake nobody. An interrupted fiber (the batch is being torn down) leaves the line.
 */
const parkIn = (line: Array<() => void>, ready: () => boolean): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    if (ready()) return resume(Effect.void)
    const waiter = () => resume(Effect.void)
    line.push(waiter)
    return Effect.sync(() => {
      const at = line.indexOf(waiter)
      if (at >= 0) line.splice(at, 1)
    })
  })

/**
 * Runs `f` over every input with `concurrency` workers, each taking the next input as soon as it is free, and
 * streams the results: in input order (`ordered`), or each as soon as it is ready. One pull of the input at a time,
 * a chunk at a time, by whichever worker needs it; nothing is read ahead of the workers.
 *
 * At most `window` inputs are started and not yet taken by the consumer: a slow consumer stops the workers, and in
 * order a slow run lets at most `window` inputs start after it. Memory is bounded by the window and one chunk,
 * whatever the length of the input.
 *
 * The input cannot fail (`sendMediaBatch` holds its failure back until after the last result). `f` must not fail; if
 * it dies (a defect: a `key` function that throws, ...) or is interrupted from inside, no other input is started, the runs in progress finish and
 * report, the inputs of the chunk already read are reported with `notStarted` (when it gives a result), and the
 * defect (or interruption) comes after every result. A pull in progress is then interrupted (it runs in a fiber of its own for that):
 * a live input (a queue) may bring nothing for a long time.
 *
 * When the stream ends before its last result (its consumer interrupted or done), every worker is interrupted at
 * once, unless `drain` says which runs to let finish first (see {@link Drain}).
 *
 * Cheaper than `Stream.mapEffect` with `concurrency` (a fiber per input, several times the CPU) or groups run with
 * `Effect.forEach` (which waits for a group's slowest run before starting the next group, and reads a group ahead).
 */
export const runWorkers = <A, R, B extends object>(
  source: Stream.Stream<A, never, R>,
  options: {
    readonly concurrency: number
    readonly window: number
    readonly ordered: boolean
    readonly drain: Drain | undefined
  },
  f: (item: A, index: number) => Effect.Effect<B>,
  notStarted: (item: A, index: number) => B | undefined
): Stream.Stream<B, never, R> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    const { concurrency, ordered, window } = options
    const pull = yield* Stream.toPull(source)
    // Bounded by the window (see `acquire`), so that offering never waits.
    const results = yield* Queue.unbounded<B | typeof END>()
    let chunk: ReadonlyArray<A> = []
    let position = 0
    let index = 0
    let ended = false
    // The defects of runs, raised after the last result.
    let defects: Cause.Cause<never> | undefined
    const die = (cause: Cause.Cause<never>) => {
      defects = defects === undefined ? cause : Cause.sequential(defects, cause)
    }

    // The window: inputs started and not yet taken by the consumer (or passed over, for a run that died). A place
    // freed while workers wait passes straight to the first of them.
    let inWindow = 0
    const waiters: Array<() => void> = []
    const takePlace = () => {
      if (inWindow >= window) return false
      inWindow++
      return true
    }
    const acquire: Effect.Effect<void> = Effect.suspend(() => takePlace() ? Effect.void : parkIn(waiters, takePlace))
    const release = (n: number) => {
      for (let i = 0; i < n; i++) {
        const waiter = waiters.shift()
        if (waiter === undefined) {
          inWindow -= n - i
          return
        }
        waiter()
      }
    }

    // In order: the results that are ready before the ones ahead of them, by index, and the next index to emit.
    const ready = new Map<number, B | typeof DIED>()
    let next = 0
    const emit = (i: number, result: B | typeof DIED): void => {
      if (!ordered) {
        if (result === DIED) release(1)
        else results.unsafeOffer(result)
        return
      }
      ready.set(i, result)
      if (i !== next) return
      let passedOver = 0
      for (let r = ready.get(next); r !== undefined; r = ready.get(next)) {
        ready.delete(next++)
        if (r === DIED) passedOver++
        else results.unsafeOffer(r)
      }
      if (passedOver > 0) release(passedOver)
    }

    // Pulls chunks (an empty one is skipped) until one has inputs or the input has ended.
    const refill: Effect.Effect<void, never, R> = Effect.suspend(() =>
      position < chunk.length || ended ? Effect.void : pull.pipe(
        Effect.matchCauseEffect({
          // the end of the input (it cannot fail)
          onFailure: () => {
            ended = true
            chunk = []
            position = 0
            return Effect.void
          },
          onSuccess: (pulled) => {
            chunk = Chunk.toReadonlyArray(pulled)
            position = 0
            return refill
          }
        })
      )
    )
    let halted = false
    // One pull at a time, in a fiber of its own (a halt interrupts it: a live input may bring nothing for long). The
    // workers that need an input meanwhile wait in line; the pull's end wakes as many as it brought inputs and one
    // more (who pulls next if those run out), or all at the end of the input or a halt. Not a semaphore: Effect's
    // wakes every waiter at each release, and with the whole pool waiting on a slow input that cost more than the
    // sends themselves.
    let pullRunning = false
    let pulling: Fiber.RuntimeFiber<void> | undefined
    const inLine: Array<() => void> = []
    const wake = () => {
      let n = ended || halted ? inLine.length : chunk.length - position + 1
      while (n-- > 0 && inLine.length > 0) inLine.shift()!()
    }
    // the pull may have ended since this worker decided to wait
    const wait = parkIn(inLine, () => !pullRunning || halted)
    const endPull = Effect.sync(() => {
      pullRunning = false
      pulling = undefined
      wake()
    })
    const nextInput: Effect.Effect<void, never, R> = Effect.suspend(() => {
      if (halted) return Effect.void
      if (pullRunning) return wait
      pullRunning = true
      // the worker that starts the pull waits for it in line too (the pull is its child: it outlives the pull)
      return Effect.flatMap(Effect.fork(Effect.ensuring(refill, endPull)), (fiber) => {
        if (pullRunning) pulling = fiber
        // a halt may have come while the pull was being forked
        return halted ? Fiber.interrupt(fiber) : wait
      })
    })
    const run = (item: A, i: number): Effect.Effect<void> =>
      Effect.suspend(() => f(item, i)).pipe(
        Effect.matchCauseEffect({
          onSuccess: (result) => Effect.sync(() => emit(i, result)),
          onFailure: (cause) =>
            Effect.suspend(() => {
              // `f` cannot fail: a defect, or an interruption from inside it (a user's rate limiter that returns
              // `Effect.interrupt`). An interruption of the batch itself never gets here: an interrupted fiber skips
              // failure handlers. Either stops the batch the same way, and comes after every result.
              halted = true
              die(cause as Cause.Cause<never>)
              emit(i, DIED)
              // the workers in line end now (a pull in progress wakes them too when it is interrupted)
              wake()
              return pulling === undefined ? Effect.void : Fiber.interruptFork(pulling)
            })
        })
      )
    // A worker holds a place in the window from before it takes an input until the input's result is out.
    const worker: Effect.Effect<void, never, R> = Effect.suspend(() =>
      halted || ended ? Effect.void : Effect.zipRight(acquire, take)
    )
    const take: Effect.Effect<void, never, R> = Effect.suspend(() => {
      if (halted || (ended && position >= chunk.length)) {
        release(1)
        return Effect.void
      }
      return position < chunk.length
        ? Effect.zipRight(run(chunk[position++], index++), worker)
        : Effect.zipRight(nextInput, take)
    })
    let workers: ReadonlyArray<Fiber.RuntimeFiber<void>> = []
    yield* Effect.forEach(Array.from({ length: concurrency }), () => Effect.fork(worker)).pipe(
      Effect.flatMap((forked) => {
        workers = forked
        return Fiber.joinAll(forked)
      }),
      Effect.catchAllCause((cause) => Effect.sync(() => die(cause))),
      // After a halt: the inputs read and not started (every run has ended, so they come last in order too).
      Effect.zipRight(Effect.sync(() => {
        while (position < chunk.length) {
          const i = index++
          const result = notStarted(chunk[position++], i)
          inWindow++ // no worker waits any more: the window only keeps its count right
          emit(i, result === undefined ? DIED : result)
        }
        results.unsafeOffer(END)
      })),
      Effect.forkScoped
    )
    const { drain } = options
    if (drain !== undefined) {
      // Runs before the scope interrupts the workers (finalizers run in reverse order).
      yield* Effect.addFinalizer(() =>
        Effect.suspend(() => {
          if (workers.every((fiber) => fiber.unsafePoll() !== null)) return Effect.void
          halted = true
          drain.halt()
          const busy = workers.filter(drain.busy)
          const idle = workers.filter((fiber) => !busy.includes(fiber))
          // A finalizer is uninterruptible, and so would be the loser of a race run in it (`Effect.timeout` would
          // wait for the busy runs): a timer fiber, interruptible while it sleeps, ends them instead.
          const expire = Effect.interruptible(Effect.sleep(drain.grace)).pipe(
            Effect.zipRight(Effect.forEach(busy, drain.abandon, { discard: true })),
            Effect.zipRight(Fiber.interruptAll(busy))
          )
          return Effect.forEach(idle, Fiber.interruptFork, { discard: true }).pipe(
            Effect.zipRight(Effect.forkDaemon(expire)),
            Effect.flatMap((timer) => Effect.zipRight(Fiber.awaitAll(busy), Fiber.interrupt(timer)))
          )
        })
      )
    }
    let done = false
    const takeResults: Effect.Effect<Chunk.Chunk<B>, Option.Option<never>> = Effect.suspend(() =>
      done ? Effect.fail(Option.none()) : Effect.flatMap(Queue.takeBetween(results, 1, window + 1), (taken) => {
        // END is offered after every result, so it can only be the last one taken
        if (Chunk.unsafeLast(taken) !== END) {
          release(taken.length)
          return Effect.succeed(taken as Chunk.Chunk<B>)
        }
        done = true
        // no empty chunk: a consumer may write each chunk out as it comes
        return taken.length === 1
          ? Effect.fail(Option.none())
          : Effect.succeed(Chunk.dropRight(taken, 1) as Chunk.Chunk<B>)
      })
    )
    return Stream.repeatEffectChunkOption(takeResults).pipe(
      Stream.concat(Stream.suspend(() => defects === undefined ? Stream.empty : Stream.failCause(defects)))
    )
  }))
