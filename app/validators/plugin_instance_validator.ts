import vine from '@vinejs/vine'

/**
 * An instance as the Settings form sends it. The id's form and the config
 * are checked by PluginInstances, the config with the plugin's own schema;
 * here it is taken as sent (emptied inputs arrive as nulls).
 */
export const pluginInstanceValidator = vine.create({
  plugin: vine.string().trim().maxLength(64),
  id: vine.string().trim().maxLength(200),
  enabled: vine.boolean().optional(),
  config: vine.any().optional(),
})
