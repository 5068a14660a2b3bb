// `pnpm test`: the type-check, the lint, the API docs, every test and the pack check, run side by side instead of
// one after the other (the pack check after the type-check, which builds the packages it packs). The tests spend
// much of their time waiting (sockets, timers, child processes) and the pack check on the registry, so the other
// phases use the CPU those waits leave idle. Priorities (nice): the tests first, their timeouts being real time;
// then the type-check and the pack check after it, so that the pack check's waits on the registry fall where other
// phases fill them, not at the end; then the lint and the API docs, which nothing waits for. Each phase's output is
// printed whole when it ends, with its duration; every phase runs to its end, and the command fails if any failed.
import { spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { delimiter, join, resolve } from "node:path"

const root = resolve(import.meta.dirname, "..")
const scripts = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts

/** Each phase is a script of package.json (so that `pnpm lint` and the test's lint are one command). */
const phases = [
  { name: "vitest", command: `${scripts.vitest} run`, nice: 0 },
  // One tsc for the packages' build and the type-check of everything else: a second tsc for the build alone cost
  // its own start and a second reading of the sources' declarations.
  { name: "check", command: scripts.check, nice: 5 },
  { name: "lint", command: scripts.lint, nice: 10 },
  { name: "docgen", command: scripts.docgen, nice: 10 },
  { name: "pack-check", command: scripts["pack-check"], after: "check", nice: 5 }
]

const env = { ...process.env, PATH: `${join(root, "node_modules", ".bin")}${delimiter}${process.env.PATH}` }
const started = performance.now()
const seconds = (from) => `${((performance.now() - from) / 1000).toFixed(1)} s`

const run = (phase) =>
  new Promise((resolvePhase) => {
    const start = performance.now()
    const [file, args] = phase.nice === 0 || process.platform === "win32"
      ? [phase.command, []]
      : ["nice", ["-n", String(phase.nice), "sh", "-c", phase.command]]
    const child = spawn(file, args, { cwd: root, env, shell: args.length === 0, stdio: ["ignore", "pipe", "pipe"] })
    const output = []
    child.stdout.on("data", (chunk) => output.push(chunk))
    child.stderr.on("data", (chunk) => output.push(chunk))
    child.on("close", (code, signal) => {
      const ok = code === 0
      const took = seconds(start)
      process.stdout.write(`\n── ${phase.name}: ${ok ? "ok" : `FAILED (${signal ?? code})`} in ${took}\n`)
      process.stdout.write(Buffer.concat(output))
      resolvePhase({ name: phase.name, ok, took })
    })
  })

// `node scripts/test.mjs lint docgen` runs only those phases.
const only = process.argv.slice(2)
const unknown = only.filter((name) => !phases.some((phase) => phase.name === name))
if (unknown.length > 0) throw new Error(`unknown phases: ${unknown.join(", ")}`)
const selected = phases.filter((phase) => only.length === 0 || only.includes(phase.name))

const results = new Map()
const done = (name) => results.get(name)
for (const phase of selected) {
  results.set(
    phase.name,
    phase.after === undefined || !results.has(phase.after) ? run(phase) : done(phase.after).then((before) =>
      before.ok ? run(phase) : { name: phase.name, ok: false, took: `not run: ${phase.after} failed` }
    )
  )
}
const outcomes = await Promise.all(results.values())
process.stdout.write(`\n── test: ${seconds(started)}: ${outcomes.map((o) => `${o.name} ${o.ok ? o.took : "FAILED"}`).join(", ")}\n`)
if (outcomes.some((o) => !o.ok)) process.exitCode = 1
