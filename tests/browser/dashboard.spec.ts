import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import { DeviceFactory } from '#database/factories/device_factory'
import { PersonFactory } from '#database/factories/person_factory'
import { UserFactory } from '#database/factories/user_factory'
import { grant, post, resetTerminalState } from '#tests/helpers/terminal'

test.group('Dashboard in the browser', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())

  test('an event a terminal reports appears at once, with the counts and the chart', async ({
    browserContext,
    visit,
    client,
  }) => {
    const operator = await UserFactory.create()
    await browserContext.loginAs(operator)
    const device = await DeviceFactory.apply('approved').merge({ name: 'Lobby east' }).create()
    const person = await PersonFactory.merge({ displayName: 'Grace Hopper' }).create()
    await grant([person], [device])

    const page = await visit('/admin')
    await page.assertTextContains('[data-test="events-today"]', '0')
    await page.assertTextContains('[data-live-status]', 'Live')
    const report = (faceName: string) =>
      post(
        client,
        'clinetFeedback',
        { deviceName: device.name, deviceSN: device.serialNumber, faceName },
        'form',
        device
      )

    await report('Grace Hopper')
    await page.assertElementsCount('[data-test="dashboard-event"]', 1)
    await page.assertTextContains('[data-test="dashboard-event"]', 'Grace Hopper')
    await page.assertTextContains('[data-test="dashboard-event"]', 'Lobby east')
    await page.assertTextContains('[data-test="events-today"]', '1')
    await page.assertTextContains('[data-test="denied-today"]', '0')

    await report('Someone Unknown')
    await page.assertElementsCount('[data-test="dashboard-event"]', 2)
    await page.assertExists('[data-test="dashboard-event"][data-decision="denied"]:first-child')
    await page.assertTextContains('[data-test="events-today"]', '2')
    await page.assertTextContains('[data-test="denied-today"]', '1')
    const hour = new Date().getHours()
    await page.assertExists(
      `[data-hourly-chart] g[data-hour="${hour}"][data-granted="1"][data-denied="1"]`
    )
  })

  test('the alert sound is off until turned on, and the choice is remembered', async ({
    browserContext,
    visit,
    assert,
  }) => {
    const operator = await UserFactory.create()
    await browserContext.loginAs(operator)

    const page = await visit('/admin')
    const sound = page.getByLabel('Sound on denials')
    assert.isFalse(await sound.isChecked())
    await sound.check()
    await page.reload()
    assert.isTrue(await page.getByLabel('Sound on denials').isChecked())
  })
})
