import { test } from '@japa/runner'
import { ESLint } from 'eslint'
import app from '@adonisjs/core/services/app'

/**
 * The layer boundaries are `no-restricted-imports` rules in
 * eslint.config.js: one import linted as if it were in a file of each
 * layer, the way `npm run lint` sees it. The first lint loads the
 * TypeScript parser, which takes a few seconds.
 */
let eslint: ESLint

async function restrictions(source: string, file: string) {
  eslint ??= new ESLint({ cwd: app.makePath() })
  const code = `import { value } from '${source}'\n\nexport { value }\n`
  const [result] = await eslint.lintText(code, { filePath: app.makePath(file) })
  return result.messages.filter((message) => message.ruleId === 'no-restricted-imports')
}

test.group('Lint fences', () => {
  test('{source} is refused in {file}')
    .with([
      {
        file: 'app/services/faces/gallery_index.ts',
        source: '#services/terminal/protocol',
        reason: 'protocol concerns',
      },
      {
        file: 'app/services/faces/gallery_index.ts',
        source: '../terminal/protocol.js',
        reason: 'protocol concerns',
      },
      {
        file: 'app/services/faces/gallery_index.ts',
        source: '#controllers/people_controller',
        reason: 'protocol concerns',
      },
      {
        file: 'app/services/faces/gallery_index.ts',
        source: '#start/env',
        reason: 'config/*',
      },
      {
        file: 'plugins/face_engine/pipeline.ts',
        source: '#models/person',
        reason: 'only #plugin-sdk',
      },
      {
        file: 'plugins/face_engine/tests/face_engine.spec.ts',
        source: '#faces/image_decoder',
        reason: 'only #plugin-sdk',
      },
      {
        file: 'plugins/face_engine/pipeline.ts',
        source: '../../app/models/person.js',
        reason: 'its own files',
      },
      {
        file: 'app/services/access_event_feed.ts',
        source: '#start/env',
        reason: 'config/*',
      },
    ])
    .run(async ({ assert }, { file, source, reason }) => {
      const messages = await restrictions(source, file)
      assert.lengthOf(messages, 1)
      assert.equal(messages[0].severity, 2)
      assert.include(messages[0].message, reason)
    })
    .timeout(30_000)

  test('{source} is allowed in {file}')
    .with([
      { file: 'plugins/face_engine/pipeline.ts', source: '#plugin-sdk' },
      { file: 'plugins/face_engine/tests/face_engine.spec.ts', source: '../plugin.js' },
      { file: 'plugins/face_engine/pipeline.ts', source: 'node:worker_threads' },
      { file: 'app/services/access_event_feed.ts', source: '#config/terminal' },
      {
        file: 'app/services/terminal/face_identification_service.ts',
        source: '#faces/gallery_index',
      },
      { file: 'app/services/faces/recognition_engine.ts', source: '#faces/image_decoder' },
    ])
    .run(async ({ assert }, { file, source }) => {
      assert.deepEqual(await restrictions(source, file), [])
    })
    .timeout(30_000)
})
