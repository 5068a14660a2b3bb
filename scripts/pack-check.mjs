// Publishability check: build, `pnpm pack` each package, install the tarballs into an empty folder with npm, and
// import them from plain Node ESM (no TypeScript, no workspace, no source condition). Run by `pnpm test`.
import { execFileSync } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"

const root = resolve(import.meta.dirname, "..")
// Run by `pnpm test`, this process inherits the npm_config_* variables pnpm sets for its own settings
// (verify-deps-before-run, reporter, ...), which npm does not know and warns about, once per variable and per run:
// the children get only the ones that say where and how to reach the registry.
const npmSettings = new Set([
  "registry", "cache", "userconfig", "globalconfig", "cafile", "ca", "strict_ssl", "proxy", "https_proxy", "noproxy"
])
const env = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => {
    const setting = /^npm_config_(.*)$/i.exec(name)?.[1]
    return setting === undefined || npmSettings.has(setting.toLowerCase().replaceAll("-", "_"))
  })
)
const run = (cmd, args, cwd) =>
  execFileSync(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" })
const work = mkdtempSync(join(tmpdir(), "effect-kaleyra-pack-"))
try {
  run(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-b", "tsconfig.build.json"], root)
  const packs = join(work, "packs")
  // The pnpm that runs this script when it is the repository's (`npx -y pnpm@10.34.8 test`: pnpm names itself in
  // npm_config_user_agent); otherwise that one through npx, which would start npm, then pnpm.
  const pinned = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).packageManager
  const running = (process.env.npm_config_user_agent ?? "").startsWith(`${pinned.replace("@", "/")} `) &&
    /pnpm/.test(process.env.npm_execpath ?? "")
  const [pnpm, pnpmArgs] = running
    ? [process.execPath, [process.env.npm_execpath]]
    : ["npx", ["-y", pinned]]
  console.log(`pack-check: packs with ${running ? "the pnpm running it" : `npx -y ${pinned}`}`)
  run(pnpm, [...pnpmArgs, "--recursive", "--filter", "./packages/*", "pack", "--pack-destination", packs], root)
  const tarballs = readdirSync(packs).map((f) => join(packs, f))
  const names = []
  // What the npm page of each package shows, and its licence.
  for (const tarball of tarballs) {
    const files = run("tar", ["-tzf", tarball], work).split("\n")
    for (const file of ["package/README.md", "package/LICENSE"]) {
      if (!files.includes(file)) throw new Error(`${tarball} has no ${file}`)
    }
    const license = run("tar", ["-xzOf", tarball, "package/LICENSE"], work)
    if (!license.startsWith("MIT License")) throw new Error(`${tarball}: LICENSE is not the MIT licence`)
    const readme = run("tar", ["-xzOf", tarball, "package/README.md"], work)
    const name = JSON.parse(run("tar", ["-xzOf", tarball, "package/package.json"], work)).name
    if (!readme.startsWith(`# ${name}\n`)) throw new Error(`${tarball}: README.md is not ${name}'s`)
    names.push(name)
  }
  const published = ["campaign", "cli", "core", "node", "testing"].map((name) => `@effect-kaleyra/${name}`)
  if (names.sort().join() !== published.join()) throw new Error(`packed ${names.join(", ")}: not ${published.join(", ")}`)
  const app = join(work, "app")
  run("mkdir", ["-p", app])
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }))
  run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", ...tarballs], app)
  writeFileSync(join(app, "check.mjs"), `
import { sendMedia, MediaMessage, KaleyraClient } from "@effect-kaleyra/core"
import { KaleyraTest } from "@effect-kaleyra/testing"
import { KaleyraNode } from "@effect-kaleyra/node"
import { Effect } from "effect"
if (typeof sendMedia !== "function" || typeof KaleyraNode.layer !== "function") throw new Error("missing exports")
const result = await Effect.runPromise(
  sendMedia(MediaMessage.image({ to: "+919876543210", link: "https://example.com/a.png" })).pipe(
    Effect.provide(KaleyraTest.layer())
  )
)
if (typeof result.messageId !== "string") throw new Error("no message id")
console.log("pack-check: installed from tarballs and sent", result.messageId, KaleyraClient.key)
`)
  process.stdout.write(run("node", ["check.mjs"], app))
  // The lean client through a real socket: a send and an upload (multipart) to the served simulator. It loads
  // undici's Agent and FormData by file, never undici's index (fetch, WebSocket, ...: 8 MB of memory it does not use).
  writeFileSync(join(app, "lean.mjs"), `
import { createRequire } from "node:module"
import { MediaMessage, sendMedia, uploadMedia } from "@effect-kaleyra/core"
import { KaleyraNode } from "@effect-kaleyra/node"
import * as SimulatorServer from "@effect-kaleyra/testing/SimulatorServer"
import { Effect } from "effect"
const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52])
const [sent, uploaded] = await Effect.runPromise(
  Effect.all([
    sendMedia(MediaMessage.image({ to: "+919876543210", link: "https://example.com/a.png" })),
    uploadMedia({ data: png, filename: "a.png" })
  ]).pipe(Effect.provide(SimulatorServer.layerClient(KaleyraNode.layer)))
)
if (typeof sent.messageId !== "string" || typeof uploaded.id !== "string") throw new Error("no ids")
const loaded = Object.keys(createRequire(import.meta.url).cache).filter((file) => file.includes("/undici/"))
if (loaded.some((file) => file.endsWith("/undici/index.js"))) throw new Error("undici's index was loaded")
if (!loaded.some((file) => file.endsWith("/undici/lib/dispatcher/agent.js"))) throw new Error("undici's Agent was not")
console.log("pack-check: sent", sent.messageId, "and uploaded", uploaded.id, "over a socket; undici's index not loaded")
`)
  process.stdout.write(run("node", ["lean.mjs"], app))
  // What `import "@effect-kaleyra/node"` loads, every module resolution recorded by a loader hook: the client, never
  // the CLI, the served simulator, the campaign ledger or the callback receiver (a subpath of its own).
  const nodeManifest = JSON.parse(readFileSync(join(app, "node_modules", "@effect-kaleyra", "node", "package.json"), "utf8"))
  const nodeDependencies = Object.keys({ ...nodeManifest.dependencies, ...nodeManifest.peerDependencies })
  if (nodeDependencies.some((name) => /^@effect-kaleyra\/(testing|campaign|cli)$|^@effect\/cli$/.test(name))) {
    throw new Error(`@effect-kaleyra/node depends on ${nodeDependencies.join(", ")}`)
  }
  writeFileSync(join(app, "loads.mjs"), `
import { register } from "node:module"
import { MessageChannel } from "node:worker_threads"
const { port1, port2 } = new MessageChannel()
const hook = "let port\\n" +
  "export const initialize = (data) => { port = data.port }\\n" +
  "export const resolve = async (specifier, context, next) => {\\n" +
  "  const resolved = await next(specifier, context)\\n" +
  "  port.postMessage(resolved.url)\\n" +
  "  return resolved\\n" +
  "}\\n"
register("data:text/javascript," + encodeURIComponent(hook), { data: { port: port2 }, transferList: [port2] })
const end = "data:text/javascript,export%20const%20end%20%3D%201"
const loaded = []
// the messages of one port arrive in order: the last import's resolution says that every other one has arrived
const done = new Promise((resolve) => port1.on("message", (url) => url === end ? resolve() : loaded.push(url)))
await import("@effect-kaleyra/node")
await import(end)
await done
port1.close()
const unwanted = loaded.filter((url) => /@effect-kaleyra\\/(testing|campaign|cli)\\/|CallbackReceiver|NodeHttpServer|@effect\\/cli\\//.test(url))
if (unwanted.length > 0) throw new Error("@effect-kaleyra/node loaded " + unwanted.join(", "))
console.log("pack-check: @effect-kaleyra/node's index loads neither the CLI, the simulator, the ledger nor the receiver")
`)
  process.stdout.write(run("node", ["loads.mjs"], app))
  // The CLI as installed: its bin, output that parses as JSON when piped, and no terminal styles in a pipe.
  const cli = run(join(app, "node_modules", ".bin", "kaleyra-wa"), [
    "send-media", "--simulator", "--to", "+919876543210", "--type", "image", "--link", "https://example.com/a.png", "--json"
  ], app)
  if (cli.includes("\u001b[")) throw new Error(`kaleyra-wa wrote terminal styles into a pipe: ${cli}`)
  const sent = JSON.parse(cli)
  if (sent.ok !== true || typeof sent.messageId !== "string") throw new Error(`kaleyra-wa --json: ${cli}`)
  console.log("pack-check: kaleyra-wa sent", sent.messageId, "as JSON")
  // And in this repository, as the README runs it (`--silent` keeps pnpm's banner off stdout), with the same pnpm.
  const inRepo = run(pnpm, [
    ...pnpmArgs, "--silent", "kaleyra-wa", "send-media", "--simulator", "--to", "+919876543210",
    "--type", "image", "--link", "https://example.com/a.png", "--json"
  ], root)
  if (JSON.parse(inRepo).ok !== true) throw new Error(`pnpm --silent kaleyra-wa --json: ${inRepo}`)
  console.log("pack-check: pnpm --silent kaleyra-wa --json printed one JSON object")
  // The durable campaign on its default ledger, a SQLite file: libsql's native binary comes from npm (nothing built).
  writeFileSync(join(app, "campaign.mjs"), `
import { Campaign, CampaignSqlite } from "@effect-kaleyra/campaign"
import { KaleyraTest } from "@effect-kaleyra/testing"
import { Effect, Layer } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
const filename = join(mkdtempSync(join(tmpdir(), "ledger-")), "ledger.db")
const rows = ["+919876543210", "+14155550123"].map((to) => ({ input: { to, type: "image", image: { link: "https://example.com/a.png" } } }))
const summary = await Effect.runPromise(
  Effect.zipRight(Campaign.create({ name: "pack", rows }), Campaign.run({ name: "pack", rateLimit: false })).pipe(
    Effect.provide(Layer.merge(CampaignSqlite.layer({ filename }), KaleyraTest.layer({ callbacks: false })))
  )
)
if (summary.sent !== 2) throw new Error("campaign: " + JSON.stringify(summary))
console.log("pack-check: a campaign of", summary.sent, "rows sent from a SQLite ledger")
`)
  process.stdout.write(run("node", ["campaign.mjs"], app))
} finally {
  rmSync(work, { recursive: true, force: true })
}
