import { Effect } from "effect"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo, Socket } from "node:net"

/** What a raw test server saw of one request. */
export interface SeenRequest {
  readonly method: string
  readonly url: string
  readonly headers: IncomingMessage["headers"]
  readonly body: Buffer
}

export interface RawServer {
  readonly url: string
  readonly port: number
  /** Requests whose body was read completely. */
  readonly requests: Array<SeenRequest>
  /** Requests whose headers arrived (complete or not). */
  readonly started: { count: number }
  /** TCP connections accepted. */
  readonly connections: { count: number }
  /** Requests or sockets closed before a response was sent. */
  readonly aborted: { count: number }
}

export type RawHandler = (
  request: IncomingMessage,
  response: ServerResponse,
  seen: SeenRequest
) => void

/**
 * A `node:http` server on 127.0.0.1 (ephemeral port) that reads each request's body, then calls `handler`. Closed,
 * with every socket, when the scope closes.
 */
export const rawServer = (handler: RawHandler, options?: { readonly readBody?: boolean }) =>
  Effect.acquireRelease(
    Effect.async<{ server: ReturnType<typeof createServer>; state: RawServer; sockets: Set<Socket> }>((resume) => {
      const sockets = new Set<Socket>()
      const requests: Array<SeenRequest> = []
      const started = { count: 0 }
      const connections = { count: 0 }
      const aborted = { count: 0 }
      const server = createServer((request, response) => {
        started.count++
        response.on("close", () => {
          if (!response.writableFinished) aborted.count++
        })
        if (options?.readBody === false) {
          const seen = {
            method: request.method ?? "",
            url: request.url ?? "",
            headers: request.headers,
            body: Buffer.alloc(0)
          }
          handler(request, response, seen)
          return
        }
        const chunks: Array<Buffer> = []
        request.on("data", (chunk: Buffer) => chunks.push(chunk))
        request.on("end", () => {
          const seen = {
            method: request.method ?? "",
            url: request.url ?? "",
            headers: request.headers,
            body: Buffer.concat(chunks)
          }
          requests.push(seen)
          handler(request, response, seen)
        })
      })
      server.on("connection", (socket) => {
        connections.count++
        sockets.add(socket)
        socket.on("close", () => sockets.delete(socket))
      })
      server.listen(0, "127.0.0.1", () => {
        const port = (server.address() as AddressInfo).port
        resume(Effect.succeed({
          server,
          sockets,
          state: { url: `http://127.0.0.1:${port}`, port, requests, started, connections, aborted }
        }))
      })
    }),
    ({ server, sockets }) =>
      Effect.async<void>((resume) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map(({ state }) => state))

/** A port that nothing listens on (bound, then closed). */
export const closedPort = Effect.async<number>((resume) => {
  const server = createServer()
  server.listen(0, "127.0.0.1", () => {
    const port = (server.address() as AddressInfo).port
    server.close(() => resume(Effect.succeed(port)))
  })
})

/** Polls `predicate` every 5 ms (real time) until it holds, at most `millis`. */
export const waitUntil = (predicate: () => boolean, millis = 2_000) =>
  Effect.gen(function*() {
    const deadline = Date.now() + millis
    while (!predicate()) {
      if (Date.now() > deadline) return yield* Effect.dieMessage("waitUntil: timed out")
      yield* Effect.sleep("5 millis")
    }
  })
