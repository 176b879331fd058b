import { resolve } from 'node:path'
import app from '@adonisjs/core/services/app'
import env from '#start/env'
import { defaultPluginTimeouts } from '#plugin-host/contracts'
import { readInstancesFile } from '#plugin-host/instances_file'
import type { PluginsConfig } from '#plugin-host/plugin_host'

/**
 * Which plugin instances run, from a JSON file integrators edit on site:
 * `PLUGINS_FILE` (relative to the app root), else `config/plugins.json`.
 * Each entry is `{ "id", "plugin", "enabled", "config" }`. The file is
 * only read here; entries are checked against each plugin's schema when
 * the host loads, and a bad one becomes that instance's error.
 */
const requestedFile = env.get('PLUGINS_FILE')
const instancesFile = resolve(app.makePath(), requestedFile || 'config/plugins.json')

const pluginsConfig: PluginsConfig = {
  instances: readInstancesFile(instancesFile, Boolean(requestedFile)),
  supervision: {
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
  },
}

export default pluginsConfig
