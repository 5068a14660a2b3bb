/**
 * Starts `server.ts` in a child process and waits for its first line.
 */
import type { ChildProcess } from "node:child_process"
import type { ServerInfo } from "./server.js"
import { spawnPart } from "./util.js"

export interface ServerProcess extends ServerInfo {
  /** Closes the server's stdin and waits for it to exit (killing it after 5 seconds). */
  readonly close: () => Promise<void>
}

const isServerInfo = (u: unknown): u is ServerInfo =>
  typeof u === "object" && u !== null && typeof (u as { readonly port?: unknown }).port === "number" &&
  typeof (u as { readonly url?: unknown }).url === "string"

const exited = (child: ChildProcess, millis: number): Promise<boolean> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(true)
    const timer = setTimeout(() => resolve(false), millis)
    child.once("exit", () => {
      clearTimeout(timer)
      resolve(true)
    })
  })

/**
 * Starts the server. `maxLifetimeMillis` bounds the child's life even if this process dies without closing it
 * (its stdin also closes then).
 */
export const startServer = (maxLifetimeMillis: number): Promise<ServerProcess> =>
  new Promise((resolve, reject) => {
    const child = spawnPart("server", ["--max-lifetime-ms", String(Math.ceil(maxLifetimeMillis))], [
      "pipe",
      "pipe",
      "inherit"
    ])
    let buffered = ""
    let settled = false
    const fail = (error: Error) => {
      if (settled) return
      settled = true
      clearTimeout(startup)
      child.kill("SIGKILL")
      reject(error)
    }
    const startup = setTimeout(() => fail(new Error("the bench server did not start within 30 seconds")), 30_000)
    child.once("error", fail)
    child.once("exit", (code, signal) => fail(new Error(`the bench server exited early (${code ?? signal})`)))
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString("utf8")
      const newline = buffered.indexOf("\n")
      if (newline === -1 || settled) return
      child.stdout?.off("data", onData)
      // Keep draining the child's stdout so that it can never block on a full pipe.
      child.stdout?.resume()
      let info: unknown
      try {
        info = JSON.parse(buffered.slice(0, newline))
      } catch {
        return fail(new Error(`unexpected first line from the bench server: ${buffered.slice(0, newline)}`))
      }
      if (!isServerInfo(info)) return fail(new Error("the bench server's first line is not its address"))
      settled = true
      clearTimeout(startup)
      child.removeAllListeners("exit")
      const ready: ServerInfo = info
      resolve({
        ...ready,
        close: async () => {
          child.stdin?.end()
          if (!(await exited(child, 5_000))) {
            child.kill("SIGKILL")
            await exited(child, 1_000)
          }
        }
      })
    }
    child.stdout?.on("data", onData)
  })
