import { configApp } from '@adonisjs/eslint-config'

/*
| Layer fences, as `no-restricted-imports` pattern groups. The groups use
| gitignore syntax, where a leading `#` starts a comment, hence `\\#`.
| ESLint replaces a rule's options rather than merging them, so a folder
| inside another fenced folder lists both fences. tests/unit/lint_fences.spec.ts
| shows each one fire.
*/

/** Services read their settings from `config/*`, which is where `env` is validated and defaulted. */
const settingsFromConfig = {
  group: ['\\#start/env'],
  message:
    'Services read settings from config/* (e.g. #config/terminal), not from #start/env: add the setting to the config file that owns it.',
}

/** The faces module is shared by every way in: the terminal protocol, the admin pages, commands. */
const facesKnowNoProtocol = {
  group: ['\\#services/terminal/*', '\\#controllers/*', '\\#terminal-client/*', '**/terminal/*'],
  message:
    'The faces module is used by every way in; protocol concerns (requests, answers, result codes) stay in app/services/terminal.',
}

/** A plugin is built against the SDK alone, so that the host can change beneath it. */
const pluginsUseTheSdk = {
  group: ['\\#*', '!\\#plugin-sdk'],
  message:
    'Plugins import only #plugin-sdk, their own files, node builtins and npm packages; ask for what they need through the SDK.',
}

/** Relative paths that climb out of the plugin's folder from a file `depth` folders inside it. */
const outOfThePlugin = (depth) => ({
  group: [`${'../'.repeat(depth + 1)}*`],
  message:
    'A plugin imports its own files only; what it needs from the app comes through #plugin-sdk.',
})

export default configApp(
  {
    ignores: ['.adonisjs/**', 'build/**', 'tmp/**', 'models/**', 'public/**', 'database/schema.ts'],
  },
  {
    name: 'Fence: services read config, not env',
    files: ['app/services/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [settingsFromConfig] }] },
  },
  {
    name: 'Fence: the faces module knows no terminal protocol',
    files: ['app/services/faces/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [settingsFromConfig, facesKnowNoProtocol] }],
    },
  },
  {
    name: 'Fence: plugins import only the plugin SDK',
    files: ['plugins/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [pluginsUseTheSdk] }] },
  },
  /* Files up to two folders deep in a plugin also may not climb out of it. */
  ...[0, 1, 2].map((depth) => ({
    name: `Fence: plugins import only the plugin SDK and their own files (depth ${depth})`,
    files: [`plugins/*/${'*/'.repeat(depth)}*`],
    rules: {
      'no-restricted-imports': ['error', { patterns: [pluginsUseTheSdk, outOfThePlugin(depth)] }],
    },
  }))
)
