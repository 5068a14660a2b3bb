/**
 * The Kaleyra simulator of `@effect-kaleyra/testing`, served over HTTP on a local port: for integration tests, the
 * demo and the benchmarks. A Node entry (`@effect-kaleyra/testing/SimulatorServer`, on `node:http`), kept out of the
 * package's index so that the in-memory simulator loads anywhere.
 *
 * The server is a bare `node:http` server that hands each request to `simulator.handle` (no router, no platform
 * request objects), listening on `127.0.0.1` and an ephemeral port by default. It closes with its scope, idle
 * keep-alive sockets included.
 *
 * It performs the simulator's faults (`KaleyraSimulator.Fault`) on the real socket: the fault of a request is drawn
 * when its head arrives, so that `reset-before-body` resets the connection (TCP RST) without reading the body;
 * `reset-after-body` resets it after the body was read and processed; `silent` never answers (the connection stays
 * open until the client gives up or the server closes); `latency` answers after its delay; `drip` sends the status and
 * headers at once, then the body a few bytes at a time; `huge-response` streams its body with backpressure, so that
 * a client that stops reading stops the server too (see `Served.faultBytes`).
 *
 * ```ts
 * Effect.gen(function*() {
 *   const { simulator, url } = yield* SimulatorServer.serve()
 *   yield* simulator.failNext("E110")
 *   const result = yield* sendMedia(message).pipe(
 *     Effect.provide(KaleyraNode.layer({ baseUrl: url, sid: simulator.options.sid, ... })) // @effect-kaleyra/node
 *   )
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 0.1.0
 */
import type * as KaleyraClient from "@effect-kaleyra/core/KaleyraClient"
import type * as KaleyraConfig from "@effect-kaleyra/core/KaleyraConfig"
import type { KaleyraEvents } from "@effect-kaleyra/core/KaleyraEvents"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Runtime from "effect/Runtime"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo, Socket } from "node:net"
import * as KaleyraSimulator from "./KaleyraSimulator.js"

/**
 * Options of `serve`: where to listen, the simulator to serve (or its options), how long closing waits.
 *
 * @since 0.1.0
 * @category models
 */
export interface ServeOptions {
  /** The port; `0` (the default) picks a free one. */
  readonly port?: number | undefined
  /** The address to listen on (default `127.0.0.1`: loopback only). */
  readonly host?: "127.0.0.1" | (string & {}) | undefined
  /**
   * Options of a new simulator (its status `callbacks` stop with the server), or a simulator to serve (to share its
   * state with other servers or tests).
   */
  readonly simulator?: KaleyraSimulator.SimulatorOptions | KaleyraSimulator.Simulator | undefined
  /**
   * How long closing waits for requests in progress before it closes their connections too (default 1 second).
   */
  readonly closeGraceMillis?: number | undefined
}

/**
 * A running server.
 *
 * @since 0.1.0
 * @category models
 */
export interface Served {
  /** `http://{host}:{port}`: pass it as the client's `baseUrl`. */
  readonly url: string
  readonly host: string
  readonly port: number
  /** The simulator behind the server: script failures, read what it received. */
  readonly simulator: KaleyraSimulator.Simulator
  /**
   * The bytes of response bodies written so far by the `drip` and `huge-response` faults (handed to the socket,
   * with backpressure: a client that stops reading a huge body stops it a few socket buffers later).
   */
  readonly faultBytes: Effect.Effect<number>
}

/**
 * The server could not start (the port is taken, the address is not local, the options are invalid).
 *
 * @since 0.1.0
 * @category errors
 */
export class ServeError extends Schema.TaggedError<ServeError>("@effect-kaleyra/testing/ServeError")("ServeError", {
  host: Schema.String,
  port: Schema.Number,
  /** The system error code, e.g. `EADDRINUSE`. */
  code: Schema.optional(Schema.String),
  detail: Schema.String
}) {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `Cannot serve the Kaleyra simulator on ${this.host}:${this.port}: ${this.detail}`
  }
}

/**
 * The running server, as a service (see {@link layer}).
 *
 * @since 0.1.0
 * @category tags
 */
export class SimulatorServer
  extends Context.Tag("@effect-kaleyra/testing/SimulatorServer")<SimulatorServer, Served>()
{}

const isSimulator = (
  u: KaleyraSimulator.SimulatorOptions | KaleyraSimulator.Simulator | undefined
): u is KaleyraSimulator.Simulator => u !== undefined && typeof (u as { handle?: unknown }).handle === "function"

const INTERNAL_ERROR = `{"message":"Internal Server Error"}`

const headersOf = (request: IncomingMessage): Record<string, string> => {
  const out: Record<string, string> = Object.create(null)
  const raw = request.headers
  for (const name in raw) {
    const value = raw[name]
    if (value !== undefined) out[name] = typeof value === "string" ? value : value.join(", ")
  }
  return out
}

const reply = (response: ServerResponse, answer: KaleyraSimulator.SimResponse): void => {
  if (response.destroyed) return
  const body = Buffer.from(answer.body, "utf8")
  const headers: Record<string, string | number> = { ...answer.headers, "content-length": body.length }
  response.writeHead(answer.status, headers)
  response.end(body)
}

const replyInternalError = (response: ServerResponse): void =>
  reply(response, { status: 500, headers: { "content-type": "application/json" }, body: INTERNAL_ERROR })

const EMPTY = new Uint8Array(0)

/** Resets the connection: a TCP RST, as a crashed or overloaded peer would send. */
const resetConnection = (socket: Socket | null): void => {
  if (socket === null || socket.destroyed) return
  try {
    socket.resetAndDestroy()
  } catch {
    socket.destroy()
  }
}

/** Runs `f` after `millis`, unless the response closes first. */
const later = (response: ServerResponse, millis: number, f: () => void): void => {
  const timer = setTimeout(f, millis)
  response.once("close", () => clearTimeout(timer))
}

/** Performs a simulator answer, with its transport-level fault if it has one. */
const perform = (
  response: ServerResponse,
  answer: KaleyraSimulator.SimResponse,
  counted: { bytes: number }
): void => {
  const fault = answer.fault
  if (fault === undefined) return reply(response, answer)
  switch (fault.kind) {
    case "reset":
      return resetConnection(response.socket)
    case "silent":
      // Never answered: the connection stays open until the client gives up or the server closes.
      return
    case "latency":
      return later(response, fault.millis, () => reply(response, answer))
    case "drip":
      return drip(response, answer, fault.millis, counted)
    case "huge":
      return huge(response, answer, fault, counted)
  }
}

/** The status and headers at once, then the body in small pieces spread over `millis` (one piece per tick). */
const drip = (
  response: ServerResponse,
  answer: KaleyraSimulator.SimResponse,
  millis: number,
  counted: { bytes: number }
): void => {
  if (response.destroyed) return
  const body = Buffer.from(answer.body, "utf8")
  response.writeHead(answer.status, { ...answer.headers, "content-length": body.length })
  response.flushHeaders()
  const ticks = Math.max(1, Math.min(body.length, Math.floor(millis)))
  const started = Date.now()
  let sent = 0
  let tick = 0
  let timer: ReturnType<typeof setTimeout> | undefined
  const step = () => {
    timer = undefined
    if (response.destroyed) return
    tick++
    const upTo = Math.round(body.length * tick / ticks)
    if (upTo > sent) {
      response.write(body.subarray(sent, upTo))
      counted.bytes += upTo - sent
      sent = upTo
    }
    if (tick >= ticks) {
      response.end()
      return
    }
    timer = setTimeout(step, Math.max(0, started + (millis * (tick + 1)) / ticks - Date.now()))
  }
  timer = setTimeout(step, millis / ticks)
  response.once("close", () => {
    if (timer !== undefined) clearTimeout(timer)
  })
}

/** A body of `bytes` bytes, written as fast as the client reads it (backpressure), stopped when it disconnects. */
const huge = (
  response: ServerResponse,
  answer: KaleyraSimulator.SimResponse,
  fault: { readonly bytes: number; readonly chunked: boolean },
  counted: { bytes: number }
): void => {
  if (response.destroyed) return
  const headers: Record<string, string | number> = { ...answer.headers }
  if (!fault.chunked) headers["content-length"] = fault.bytes
  response.writeHead(answer.status, headers)
  const chunks = KaleyraSimulator.hugeBodyChunks(fault.bytes)
  const pump = (): void => {
    while (!response.destroyed) {
      const next = chunks.next()
      if (next.done === true) {
        response.end()
        return
      }
      counted.bytes += next.value.length
      if (!response.write(next.value)) {
        response.once("drain", pump)
        return
      }
    }
  }
  pump()
}

const ignore = () => {}

const urlOf = (host: string, port: number): string => `http://${host.includes(":") ? `[${host}]` : host}:${port}`

const listen = (server: Server, host: string, port: number): Effect.Effect<number, ServeError> =>
  Effect.async<number, ServeError>((resume) => {
    const onError = (error: Error & { readonly code?: unknown }) => {
      server.off("listening", onListening)
      resume(Effect.fail(
        new ServeError({
          host,
          port,
          ...(typeof error.code === "string" ? { code: error.code } : {}),
          detail: error.message
        })
      ))
    }
    const onListening = () => {
      server.off("error", onError)
      // Later errors (a failed accept) must not crash the process: the server keeps serving.
      server.on("error", ignore)
      resume(Effect.succeed((server.address() as AddressInfo).port))
    }
    server.once("error", onError)
    server.once("listening", onListening)
    try {
      server.listen(port, host)
    } catch (error) {
      server.off("error", onError)
      server.off("listening", onListening)
      resume(
        Effect.fail(new ServeError({ host, port, detail: error instanceof Error ? error.message : String(error) }))
      )
    }
  })

const close = (server: Server, graceMillis: number): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMillis)
    server.close(() => {
      clearTimeout(timer)
      resume(Effect.void)
    })
    server.closeIdleConnections()
  })

/**
 * Serves a simulator until the scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const serve = (options: ServeOptions = {}): Effect.Effect<Served, ServeError, Scope.Scope> =>
  Effect.gen(function*() {
    const host = options.host ?? "127.0.0.1"
    const port = options.port ?? 0
    if (!Number.isSafeInteger(port) || port < 0 || port > 65_535) {
      return yield* new ServeError({ host, port, detail: "the port must be a whole number from 0 to 65535" })
    }
    const simulator = isSimulator(options.simulator)
      ? options.simulator
      : yield* KaleyraSimulator.makeScoped(options.simulator)
    const runtime = yield* Effect.runtime<never>()
    const runFork = Runtime.runFork(runtime)

    const counted = { bytes: 0 }

    const server = createServer((request, response) => {
      // The fault is drawn when the head arrives, so that a reset can come before the body is read.
      const fault = simulator.unsafeDrawFault() ?? null
      if (fault?.fault === "reset-before-body") {
        // Recorded and counted by the simulator (nothing is processed), then the connection is reset unread.
        runFork(simulator.handle({
          method: request.method ?? "GET",
          path: request.url ?? "/",
          headers: headersOf(request),
          body: EMPTY,
          fault
        }))
        return resetConnection(request.socket)
      }
      const chunks: Array<Buffer> = []
      request.on("data", (chunk: Buffer) => chunks.push(chunk))
      request.on("error", () => response.destroy())
      request.on("end", () => {
        const fiber = runFork(simulator.handle({
          method: request.method ?? "GET",
          path: request.url ?? "/",
          headers: headersOf(request),
          body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks),
          fault
        }))
        fiber.addObserver((exit) => {
          if (Exit.isSuccess(exit)) perform(response, exit.value, counted)
          else replyInternalError(response)
        })
      })
    })
    // Below Node's default headers timeout, so that a stalled client cannot hold the server open.
    server.headersTimeout = 10_000
    server.requestTimeout = 30_000

    const boundPort = yield* Effect.acquireRelease(
      listen(server, host, port),
      () => close(server, options.closeGraceMillis ?? 1_000)
    )
    return {
      url: urlOf(host, boundPort),
      host,
      port: boundPort,
      simulator,
      faultBytes: Effect.sync(() => counted.bytes)
    }
  })

/**
 * Serves a simulator for the lifetime of the layer, and provides it as both {@link SimulatorServer} and
 * `KaleyraSimulator`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: ServeOptions = {}
): Layer.Layer<SimulatorServer | KaleyraSimulator.KaleyraSimulator, ServeError> =>
  Layer.scopedContext(
    Effect.map(serve(options), (served) =>
      Context.make(SimulatorServer, served).pipe(
        Context.add(KaleyraSimulator.KaleyraSimulator, served.simulator)
      ))
  )

/**
 * Options of {@link layerClient}: the server's, plus client options (`timeout`, `maxRetries`, ...) over the ones
 * that point the client at the simulator.
 *
 * @since 0.1.0
 * @category models
 */
export interface ClientOptions extends ServeOptions {
  readonly client?: Partial<KaleyraConfig.Options> | undefined
}

/**
 * A simulator served on a loopback port and a `KaleyraClient` pointed at it with the simulator's SID, API key and
 * first sender number: the whole stack, for integration tests. The client's layer is given (e.g. `KaleyraNode.layer`
 * of `@effect-kaleyra/node`, the lean undici client through a real socket), so that this package does not depend on a
 * transport.
 *
 * ```ts
 * SimulatorServer.layerClient(KaleyraNode.layer, { simulator: { dailyLimit: 1 } })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerClient = <E, R>(
  client: (options: KaleyraConfig.Options) => Layer.Layer<KaleyraClient.KaleyraClient | KaleyraEvents, E, R>,
  options: ClientOptions = {}
): Layer.Layer<
  KaleyraClient.KaleyraClient | KaleyraEvents | SimulatorServer | KaleyraSimulator.KaleyraSimulator,
  ServeError | E,
  R
> => {
  const server = layer(options)
  const clientLayer = Layer.unwrapEffect(
    Effect.map(SimulatorServer, ({ simulator, url }) =>
      client({
        sid: simulator.options.sid,
        apiKey: Redacted.make(simulator.options.apiKey),
        senderNumber: simulator.options.senderNumbers[0] ?? "919999999999",
        baseUrl: url,
        ...options.client
      }))
  )
  return Layer.provideMerge(clientLayer, server)
}
