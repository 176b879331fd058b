export interface BackoffPolicy {
  baseMs: number
  maxMs: number
}

/**
 * Delay before the automatic retry that follows the `failures`-th failure
 * in a row: doubling from `baseMs`, never more than `maxMs`.
 */
export function backoffDelay(failures: number, { baseMs, maxMs }: BackoffPolicy) {
  const exponent = Math.max(0, failures - 1)
  return Math.min(maxMs, baseMs * 2 ** exponent)
}
