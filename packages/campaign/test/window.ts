/**
 * Counting sends in time windows: how the tests, the crash test and the benchmark check a rate limit. A module of its
 * own, without test dependencies, so that the benchmark can use it too.
 */

/** The most sends in any window of `millis` (sliding). */
export const maxInWindow = (times: ReadonlyArray<number>, millis: number): number => {
  const sorted = [...times].sort((a, b) => a - b)
  let most = 0
  let start = 0
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end] - sorted[start] >= millis) start++
    most = Math.max(most, end - start + 1)
  }
  return most
}
