/**
 * A callback receiver in its own process, for attacks that exhaust a process's resources (file descriptors):
 * `CallbackReceiverAttack.test.ts` starts it under `ulimit -n 1024`. It serves on 127.0.0.1 and a free port, prints
 * one JSON line (`{ port, openFiles }`: its soft limit of open files, read from /proc), and exits when its stdin
 * closes or after `--max-lifetime-ms`, whichever comes first.
 */
import { KaleyraEvents } from "@effect-kaleyra/core"
import { Effect, Redacted } from "effect"
import * as Receiver from "../../src/CallbackReceiver.js"
import { openFilesLimit } from "./process.js"

const argv = process.argv.slice(2)
const lifetime = Number(argv[argv.indexOf("--max-lifetime-ms") + 1] ?? 60_000)
const secret = process.env.RECEIVER_SECRET ?? ""

const stopped = Effect.async<void>((resume) => {
  const done = () => resume(Effect.void)
  const timer = setTimeout(done, Number.isFinite(lifetime) ? lifetime : 60_000)
  process.stdin.once("end", done)
  process.stdin.once("close", done)
  process.stdin.resume()
  return Effect.sync(() => clearTimeout(timer))
})

const program = Effect.gen(function*() {
  const events = yield* KaleyraEvents.make()
  const served = yield* Receiver.serve({ secret: Redacted.make(secret) }).pipe(
    Effect.provideService(KaleyraEvents, events)
  )
  process.stdout.write(`${JSON.stringify({ port: served.port, openFiles: openFilesLimit() })}\n`)
  yield* stopped
})

Effect.runPromise(Effect.scoped(program)).then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${String(error)}\n`)
    process.exit(1)
  }
)
