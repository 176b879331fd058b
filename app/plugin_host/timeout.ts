import { PluginTimeoutError } from '#plugin-host/errors'

/**
 * Runs `work` and rejects with a `PluginTimeoutError` when it takes longer
 * than `timeoutMs`. The work itself cannot be cancelled; the host stops the
 * instance afterwards so that whatever it left open is released.
 */
export async function withTimeout<T>(
  operation: string,
  timeoutMs: number,
  work: () => Promise<T>
): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PluginTimeoutError(operation, timeoutMs)), timeoutMs)
  })
  try {
    return await Promise.race([Promise.resolve().then(work), expired])
  } finally {
    clearTimeout(timer)
  }
}
