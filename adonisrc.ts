import { indexEntities } from '@adonisjs/core'
import { defineConfig } from '@adonisjs/core/app'
import { indexAppRegistries } from './app/codegen.js'

export default defineConfig({
  experimental: {},

  /*
  | Ace commands registered from packages. The app's own commands are
  | scanned from "./commands".
  */
  commands: [
    () => import('@adonisjs/core/commands'),
    () => import('@adonisjs/lucid/commands'),
    () => import('@adonisjs/session/commands'),
    () => import('@adonisjs/bouncer/commands'),
  ],

  providers: [
    () => import('@adonisjs/core/providers/app_provider'),
    () => import('@adonisjs/core/providers/hash_provider'),
    {
      file: () => import('@adonisjs/core/providers/repl_provider'),
      environment: ['repl', 'test'],
    },
    () => import('@adonisjs/core/providers/vinejs_provider'),
    () => import('@adonisjs/core/providers/edge_provider'),
    () => import('@adonisjs/session/session_provider'),
    () => import('@adonisjs/shield/shield_provider'),
    () => import('@adonisjs/static/static_provider'),
    () => import('@adonisjs/lucid/database_provider'),
    () => import('@adonisjs/auth/auth_provider'),
    () => import('@adonisjs/i18n/i18n_provider'),
    () => import('@adonisjs/bouncer/bouncer_provider'),
    () => import('@adonisjs/redis/redis_provider'),
    () => import('#providers/redis_availability_provider'),
    () => import('@adonisjs/limiter/limiter_provider'),
    () => import('#providers/queue_provider'),
    () => import('#providers/plugin_provider'),
    () => import('#providers/door_provider'),
    () => import('#providers/recognition_provider'),
    { file: () => import('#providers/storage_provider'), environment: ['web'] },
    { file: () => import('#providers/reembedding_provider'), environment: ['web'] },
  ],

  preloads: [
    () => import('#start/routes'),
    () => import('#start/kernel'),
    () => import('#start/view'),
    () => import('#start/limiter'),
  ],

  tests: {
    suites: [
      { files: ['tests/unit/**/*.spec.ts'], name: 'unit', timeout: 10_000 },
      {
        files: ['tests/plugins/**/*.spec.ts', 'plugins/*/tests/**/*.spec.ts'],
        name: 'plugins',
        timeout: 20_000,
      },
      { files: ['tests/functional/**/*.spec.ts'], name: 'functional', timeout: 30_000 },
      { files: ['tests/browser/**/*.spec.ts'], name: 'browser', timeout: 60_000 },
    ],
    forceExit: true,
  },

  /*
  | Files "npm run build" copies into build/ beside the compiled code: what
  | a production install reads at run time (views, translations, public
  | assets, the plugin instances, each plugin's data such as the engine's
  | calibration that "node ace models:build" puts in the manifest) and the
  | environment templates.
  */
  metaFiles: [
    { pattern: 'resources/views/**/*.edge', reloadServer: false },
    { pattern: 'resources/lang/**/*.{json,yaml,yml}', reloadServer: false },
    { pattern: 'public/**', reloadServer: false },
    { pattern: 'config/plugins.json', reloadServer: false },
    { pattern: 'plugins/*/*.json', reloadServer: false },
    { pattern: '.env.example', reloadServer: false },
    { pattern: '.env.production.example', reloadServer: false },
  ],

  hooks: {
    init: [indexEntities(), indexAppRegistries()],
    buildFinished: [() => import('./tools/production_build.js')],
  },
})
