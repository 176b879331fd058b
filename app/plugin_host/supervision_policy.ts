import { defaultPluginTimeouts } from '#plugin-host/contracts'
import type { SupervisionPolicy } from '#plugin-host/supervised_instance'

/** How the server and the terminal agent supervise their plugin instances. */
export const supervisionPolicy: SupervisionPolicy = {
  timeouts: defaultPluginTimeouts,
  healthIntervalMs: 30_000,
  /**
   * 1 s, 2 s, 4 s… up to a minute between automatic retries, and an
   * operator's retry after eight failures in a row (about two minutes).
   */
  backoff: { baseMs: 1_000, maxMs: 60_000 },
  maxFailures: 8,
  /**
   * A call made while an instance restarts waits this long for it (the
   * engine reloads its models in about a second) before it is refused.
   */
  restartWaitMs: 5_000,
}
