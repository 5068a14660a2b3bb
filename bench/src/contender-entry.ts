/**
 * One client of (1) in its own process, so that it is measured with only its own heap: with `fetch` in the same
 * process, the library paid about 4 us more CPU per request and raw undici about 1.5 us.
 *
 *   contender.mjs <undici|library|fetch|transport> <server info as JSON> <concurrency>
 *
 * Reads commands on stdin, one per line: `run <millis>` sends for that long and answers one line
 * `@@bench-contender {ok, failed, millis, cpuMicros}` on stdout. It exits when its stdin closes.
 */
import { createInterface } from "node:readline"
import { type ContenderId, isContenderId, makeContender, type RunReport } from "./contenders.js"
import type { ServerInfo } from "./server.js"
import { CONTENDER_RESULT } from "./settings.js"

const [id, serverJson, concurrencyText] = process.argv.slice(2)
if (id === undefined || !isContenderId(id) || serverJson === undefined || concurrencyText === undefined) {
  console.error("usage: contender <undici|library|fetch|transport> <server info as JSON> <concurrency>")
  process.exit(2)
}
const contender = makeContender(id as ContenderId, JSON.parse(serverJson) as ServerInfo, Number(concurrencyText))

const lines = createInterface({ input: process.stdin })
// One command at a time, in order.
let queue = Promise.resolve()
lines.on("line", (line) => {
  const [command, argument] = line.trim().split(" ")
  if (command !== "run") return
  const millis = Number(argument)
  queue = queue.then(async () => {
    const cpuBefore = process.cpuUsage()
    const start = performance.now()
    const counts = await contender.run(start + millis)
    const elapsed = performance.now() - start
    const cpu = process.cpuUsage(cpuBefore)
    const result: RunReport = {
      ...counts,
      millis: elapsed,
      cpuMicros: (cpu.user + cpu.system) / Math.max(1, counts.ok + counts.failed)
    }
    process.stdout.write(`${CONTENDER_RESULT}${JSON.stringify(result)}\n`)
  })
})
lines.once("close", () => {
  void queue.then(() => contender.close()).finally(() => process.exit(0))
})
// Ready: the parent waits for this line before its first command.
process.stdout.write(`${CONTENDER_RESULT}ready\n`)
