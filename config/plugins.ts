import { resolve } from 'node:path'
import app from '@adonisjs/core/services/app'
import env from '#start/env'
import { readInstancesFile } from '#plugin-host/instances_file'
import type { PluginsConfig } from '#plugin-host/plugin_host'
import { supervisionPolicy } from '#plugin-host/supervision_policy'

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
  supervision: supervisionPolicy,
}

export default pluginsConfig
