/**
 * The benchmarks' server, run as a child process (so that the client and the server do not share an event loop):
 * `SimulatorServer.serve` on 127.0.0.1 and a free port, with a huge balance and no history.
 *
 * It prints one JSON line (`ServerInfo`) once it listens, then serves until its stdin closes (the parent ended or
 * closed it), it gets SIGTERM/SIGINT, or `--max-lifetime-ms` (default 10 minutes) has passed.
 *
 *   node --conditions=@effect-kaleyra/source --import tsx bench/src/server.ts [--max-lifetime-ms 600000]
 */
import * as SimulatorServer from "@effect-kaleyra/testing/SimulatorServer"
import { Effect } from "effect"

/** What the server prints on its first line. */
export interface ServerInfo {
  readonly url: string
  readonly port: number
  readonly sid: string
  readonly apiKey: string
  readonly senderNumber: string
  readonly secondSenderNumber: string
  readonly pid: number
}

const argValue = (name: string): string | undefined => {
  const index = process.argv.indexOf(name)
  return index === -1 ? undefined : process.argv[index + 1]
}

const maxLifetimeMillis = Number(argValue("--max-lifetime-ms") ?? 600_000)

/** Completes on the first of: stdin closed, SIGTERM/SIGINT, the maximum lifetime. */
const untilDone: Effect.Effect<string> = Effect.async<string>((resume) => {
  let done = false
  const finish = (why: string) => () => {
    if (done) return
    done = true
    resume(Effect.succeed(why))
  }
  const onEnd = finish("stdin closed")
  const onTerm = finish("SIGTERM")
  const onInt = finish("SIGINT")
  process.stdin.on("end", onEnd)
  process.stdin.on("close", onEnd)
  process.stdin.on("error", onEnd)
  process.stdin.resume()
  process.once("SIGTERM", onTerm)
  process.once("SIGINT", onInt)
  const timer = setTimeout(finish("maximum lifetime reached"), maxLifetimeMillis)
  return Effect.sync(() => {
    clearTimeout(timer)
    process.stdin.off("end", onEnd)
    process.stdin.off("close", onEnd)
    process.stdin.off("error", onEnd)
    process.off("SIGTERM", onTerm)
    process.off("SIGINT", onInt)
  })
})

const program = Effect.gen(function*() {
  const served = yield* SimulatorServer.serve({
    // a second sender number for the durable campaign's two-sender figure
    simulator: { balance: 1e15, historyLimit: 0, senderNumbers: ["919999999999", "919999999998"] },
    closeGraceMillis: 200
  })
  const options = served.simulator.options
  const info: ServerInfo = {
    url: served.url,
    port: served.port,
    sid: options.sid,
    apiKey: options.apiKey,
    senderNumber: options.senderNumbers[0] ?? "919999999999",
    secondSenderNumber: options.senderNumbers[1] ?? "919999999998",
    pid: process.pid
  }
  process.stdout.write(JSON.stringify(info) + "\n")
  return yield* untilDone
}).pipe(Effect.scoped)

Effect.runPromise(program).then(
  () => process.exit(0),
  (error: unknown) => {
    console.error("bench server failed:", error)
    process.exit(1)
  }
)
