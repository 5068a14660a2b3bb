/**
 * A cap on a `node:http` server's open connections that a slow or silent client cannot use to starve the others.
 *
 * @internal
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http"
import type { Socket } from "node:net"

/**
 * Keeps at most `maxConnections` connections open. At the cap, a new connection closes the connection that has waited
 * longest without a request in progress (a request head still incomplete, or an idle keep-alive): holding connections
 * open without sending a request then only delays the next request by one accept, whatever their number. When every
 * connection has a request in progress, the new connection is closed instead. Node's own `maxConnections` would close
 * the new connections, so that a client holding the cap would keep every other out.
 *
 * @internal
 */
export const guardConnections = (server: Server, maxConnections: number): void => {
  const open = new Set<Socket>()
  // Insertion-ordered: the first has waited longest.
  const waiting = new Set<Socket>()
  const close = (socket: Socket) => {
    open.delete(socket)
    waiting.delete(socket)
    socket.destroy()
  }
  server.on("connection", (socket: Socket) => {
    if (open.size >= maxConnections) {
      const oldest = waiting.values().next()
      if (oldest.done === true) return close(socket)
      close(oldest.value)
    }
    open.add(socket)
    waiting.add(socket)
    socket.once("close", () => {
      open.delete(socket)
      waiting.delete(socket)
    })
  })
  server.on("request", (request: IncomingMessage, response: ServerResponse) => {
    const socket = request.socket
    waiting.delete(socket)
    // Answered: the connection waits for its next request, and is the newest to do so.
    response.once("close", () => {
      if (open.has(socket) && !socket.destroyed) waiting.add(socket)
    })
  })
}
