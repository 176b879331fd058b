import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import logger from '@adonisjs/core/services/logger'
import testUtils from '@adonisjs/core/services/test_utils'
import pluginsConfig from '#config/plugins'
import { UserFactory } from '#database/factories/user_factory'
import { readInstancesFile } from '#plugin-host/instances_file'
import { PluginHost } from '#plugin-host/plugin_host'
import LineReaderSimulator from '#plugins/line_reader/simulator'

test.group('Settings: plugin instances in the browser', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('an instance added with the form’s defaults untouched runs and reads a card', async ({
    browserContext,
    visit,
    assert,
    cleanup,
  }) => {
    const folder = await mkdtemp(join(app.makePath('tmp'), 'plugin-settings-browser-'))
    const file = join(folder, 'plugins.json')
    await writeFile(file, '[]\n')
    const host = new PluginHost(
      { line_reader: () => import('#plugins/line_reader/plugin') },
      { ...pluginsConfig, instances: readInstancesFile(file, true) },
      logger
    )
    await host.start()
    const reader = new LineReaderSimulator('hex')
    const { port } = await reader.start()
    app.container.swap(PluginHost, () => host)
    cleanup(async () => {
      app.container.restore(PluginHost)
      await host.stop()
      await reader.stop()
      await rm(folder, { recursive: true, force: true })
    })

    const admin = await UserFactory.merge({ role: 'admin' }).create()
    await browserContext.loginAs(admin)
    const page = await visit('/admin/settings')
    await page.locator('#new-instance-plugin').selectOption('line-reader')
    await page.getByRole('button', { name: 'Add…' }).click()
    await page.assertTextContains('h2', 'New line-reader instance')
    await page.assertInputValue('#config-baudRate', '9600')
    await page.assertInputValue('#config-repeatMs', '1500')
    await page.assertInputValue('#config-format', 'hex')

    await page.locator('#instance-id').fill('desk-reader')
    await page.locator('#config-port').fill(port)
    await page.getByRole('button', { name: 'Add the instance' }).click()
    await page.assertTextContains(
      'body',
      'Plugin instance desk-reader is saved and was restarted with its new settings.'
    )
    await page.assertTextContains('[data-test="instance-state"]', 'Running')

    const [entry] = JSON.parse(await readFile(file, 'utf8'))
    assert.deepEqual(entry, {
      id: 'desk-reader',
      plugin: 'line-reader',
      enabled: true,
      config: { port, baudRate: 9600, format: 'hex', byteOrder: 'msb', repeatMs: 1500 },
    })

    /**
     * A card is held to the reader again and again while the page waits
     * for one, further apart than the reader's repeatMs (1.5 s), in which
     * it drops the same card.
     */
    let holding = true
    const cards = (async () => {
      while (holding) {
        await reader.presentCard('04a1b2c3')
        await new Promise((resolve) => setTimeout(resolve, 1600))
      }
    })()
    cleanup(async () => {
      holding = false
      await cards
    })
    await page.getByRole('button', { name: 'Read a card (10 s)' }).click()
    await page.assertTextContains('[data-test="test-answer"]', '"uid": "04A1B2C3"')
  })
})
