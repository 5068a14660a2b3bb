/**
 * The callback receiver under a connection-exhaustion attack, in a child process with a common file limit
 * (`ulimit -n 1024`): 1 100 connections each send half a request head and hold; genuine callbacks sent meanwhile
 * must still be answered. Everything stays on 127.0.0.1; the child and every socket are closed at the end.
 */
import { KaleyraEvents } from "@effect-kaleyra/core"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { createRequire } from "node:module"
import { connect, type Socket } from "node:net"
import { fileURLToPath, pathToFileURL } from "node:url"
import * as Receiver from "../src/CallbackReceiver.js"
import { exited, openFilesLimit } from "./attack/process.js"
import { rawRequest } from "./rawClient.js"

const SECRET = "attack-test-secret-4b1f"
const FILE_LIMIT = 1024
const ATTACKERS = 1_100
const GENUINE = 20

const entry = fileURLToPath(new URL("./attack/receiverProcess.ts", import.meta.url))
const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href

/** The receiver in a child process under `ulimit -n 1024`; stopped (stdin closed, then killed) with the scope. */
const receiverProcess = Effect.acquireRelease(
  Effect.async<{ readonly child: ChildProcess; readonly port: number; readonly openFiles: number }, Error>(
    (resume) => {
      const child = spawn(
        "bash",
        [
          "-c",
          `ulimit -n ${FILE_LIMIT} && exec "$@"`,
          "bash",
          process.execPath,
          "--conditions=@effect-kaleyra/source",
          "--import",
          tsx,
          entry,
          "--max-lifetime-ms",
          "90000"
        ],
        { stdio: ["pipe", "pipe", "inherit"], env: { ...process.env, RECEIVER_SECRET: SECRET } }
      )
      let buffered = ""
      const startup = setTimeout(() => {
        child.kill("SIGKILL")
        resume(Effect.fail(new Error("the receiver process did not start within 30 seconds")))
      }, 30_000)
      child.once("exit", (code) => {
        clearTimeout(startup)
        resume(Effect.fail(new Error(`the receiver process exited early (${code})`)))
      })
      child.stdout!.on("data", (chunk: Buffer) => {
        buffered += chunk.toString("utf8")
        const newline = buffered.indexOf("\n")
        if (newline === -1) return
        clearTimeout(startup)
        child.removeAllListeners("exit")
        child.stdout!.removeAllListeners("data")
        child.stdout!.resume()
        const ready = JSON.parse(buffered.slice(0, newline)) as { port: number; openFiles: number }
        resume(Effect.succeed({ child, port: ready.port, openFiles: ready.openFiles }))
      })
    }
  ),
  ({ child }) =>
    Effect.promise(async () => {
      child.stdin!.end()
      if (!(await exited(child, 5_000))) {
        child.kill("SIGKILL")
        await exited(child, 2_000)
      }
    })
)

/**
 * `count` connections that each send half a request head and then hold. Resolves once every one has connected and
 * written, or failed; every socket is destroyed with the scope.
 */
const halfHeads = (port: number, count: number) =>
  Effect.acquireRelease(
    Effect.async<{ readonly sockets: ReadonlyArray<Socket>; readonly refused: number }>((resume) => {
      const sockets: Array<Socket> = []
      let pending = count
      let refused = 0
      const settle = () => {
        if (--pending === 0) resume(Effect.succeed({ sockets, refused }))
      }
      for (let i = 0; i < count; i++) {
        const socket = connect({ host: "127.0.0.1", port })
        sockets.push(socket)
        let settled = false
        const once = (failed: boolean) => {
          if (settled) return
          settled = true
          if (failed) refused++
          settle()
        }
        socket.on("error", () => once(true))
        socket.once("close", () => once(true))
        socket.once("connect", () => {
          socket.resume() // reads the server's close, so that `destroyed` says the server closed it
          socket.write(`POST /kaleyra/callbacks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: applic`, () => once(false))
        })
      }
    }),
    ({ sockets }) => Effect.sync(() => sockets.forEach((socket) => socket.destroy()))
  )

const callback = (i: number) =>
  JSON.stringify({ id: `genuine-${i}`, status: "delivered", mobile: "919407000000", timestamp: "1722834665" })

/** One genuine callback on a fresh connection: its status, or 0 when it got no answer within 5 seconds. */
const genuine = (port: number, i: number) =>
  rawRequest(`http://127.0.0.1:${port}/kaleyra/callbacks`, {
    headers: { "content-type": "application/json", "x-kaleyra-secret": SECRET },
    body: callback(i)
  }).pipe(
    Effect.map((answer) => answer.status),
    Effect.timeout("5 seconds"),
    Effect.orElseSucceed(() => 0)
  )

describe("CallbackReceiver under a connection-exhaustion attack (child process, ulimit -n 1024)", () => {
  it.live.runIf(process.platform === "linux" && (openFilesLimit() ?? 0) > ATTACKERS + 500)(
    "1 100 half-sent request heads do not keep 20 genuine callbacks out",
    () =>
      Effect.gen(function*() {
        const { openFiles, port } = yield* receiverProcess
        assert.strictEqual(openFiles, FILE_LIMIT, "the receiver must run under the file limit")
        // The receiver answers before the attack.
        assert.strictEqual(yield* genuine(port, -1), 200)

        const attack = yield* halfHeads(port, ATTACKERS)
        const statuses = yield* Effect.forEach(
          Array.from({ length: GENUINE }, (_, i) => i),
          (i) => genuine(port, i),
          { concurrency: 5 }
        )
        const held = attack.sockets.filter((socket) => !socket.destroyed).length
        const answered = statuses.filter((status) => status === 200).length
        assert.strictEqual(
          answered,
          GENUINE,
          `${answered} of ${GENUINE} genuine callbacks answered 200 (${statuses.join(" ")}); ` +
            `attack connections still held: ${held}, refused: ${attack.refused}`
        )
      }).pipe(Effect.scoped),
    60_000
  )
})

describe("CallbackReceiver's connection cap (in process)", () => {
  const serve = (options: Partial<Receiver.ServeOptions>) =>
    Effect.flatMap(
      KaleyraEvents.make(),
      (events) =>
        Receiver.serve({ secret: Redacted.make(SECRET), ...options }).pipe(
          Effect.provideService(KaleyraEvents, events)
        )
    )

  it.scopedLive("at the cap, a new connection closes the one that waited longest without a request", () =>
    Effect.gen(function*() {
      const { port } = yield* serve({ maxConnections: 4 })
      const attack = yield* halfHeads(port, 10)
      const first = yield* genuine(port, 1)
      const second = yield* genuine(port, 2)
      assert.deepStrictEqual([first, second], [200, 200])
      // At most 4 open at once: the 6 oldest half-sent heads were closed to make room, then the 7th for the first
      // callback (whose connection closed after its answer, leaving room for the second).
      const states = () => attack.sockets.map((socket) => socket.destroyed ? "closed" : "open")
      // the closes reach the client sockets asynchronously: wait for them (at most 2 seconds)
      for (let i = 0; i < 100 && states().filter((state) => state === "closed").length < 7; i++) {
        yield* Effect.sleep("20 millis")
      }
      yield* Effect.sleep("50 millis") // and none beyond them
      const closed = states()
      assert.deepStrictEqual(closed, [...Array(7).fill("closed"), ...Array(3).fill("open")])
    }))

  it.scopedLive("maxConnections must be a whole number of at least 1", () =>
    Effect.gen(function*() {
      for (const maxConnections of [0, -1, 1.5, Number.NaN]) {
        const error = yield* Effect.flip(serve({ maxConnections }))
        assert.strictEqual(error._tag, "ServeError")
        assert.include(error.message, "maxConnections")
      }
    }))
})
