import type { ChildProcess } from "node:child_process"
import { readFileSync } from "node:fs"

/** This process's soft limit of open files, from /proc (Linux); `undefined` where it cannot be read. */
export const openFilesLimit = (): number | undefined => {
  try {
    const line = readFileSync("/proc/self/limits", "utf8").split("\n").find((l) => l.startsWith("Max open files"))
    const soft = line?.slice("Max open files".length).trim().split(/\s+/)[0]
    return soft === undefined ? undefined : soft === "unlimited" ? Infinity : Number(soft)
  } catch {
    return undefined
  }
}

/** Whether `child` exited within `millis`. */
export const exited = (child: ChildProcess, millis: number): Promise<boolean> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(true)
    const timer = setTimeout(() => resolve(false), millis)
    child.once("exit", () => {
      clearTimeout(timer)
      resolve(true)
    })
  })
