import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import AccessGroup from '#models/access_group'
import ScheduleWindow from '#models/schedule_window'
import { DeviceFactory } from '#database/factories/device_factory'
import { PersonFactory } from '#database/factories/person_factory'
import { UserFactory } from '#database/factories/user_factory'

test.group('Access groups in the browser', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('an operator makes a schedule with a window, a group using it, and adds a person and a device', async ({
    browserContext,
    visit,
    assert,
  }) => {
    const operator = await UserFactory.create()
    await browserContext.loginAs(operator)
    await PersonFactory.merge({ username: 'ada', displayName: 'Ada Lovelace' }).create()
    const device = await DeviceFactory.apply('approved').merge({ name: 'Lobby east' }).create()
    await DeviceFactory.merge({ name: 'Still pending' }).create()

    const page = await visit('/admin')
    await page.getByRole('link', { name: 'Access groups', exact: true }).click()
    await page.getByRole('main').getByRole('link', { name: 'Schedules' }).click()
    await page.getByRole('link', { name: 'Add schedule' }).click()
    await page.getByLabel('Name').fill('Office hours')
    await page.getByRole('button', { name: 'Save' }).click()
    await page.assertTextContains('body', 'Office hours was added.')

    await page.locator('[data-test="add-window"]').getByLabel('Tuesday').check()
    await page.getByLabel('From').fill('18:00')
    await page.getByLabel('Until').fill('08:00')
    await page.getByRole('button', { name: 'Add window' }).click()
    await page.assertTextContains('[data-test="error-endsAt"]', 'The end must be after the start')
    await page.assertInputValue('#field-startsAt', '18:00')

    await page.getByLabel('From').fill('08:00')
    await page.getByLabel('Until').fill('18:00')
    await page.getByRole('button', { name: 'Add window' }).click()
    await page.assertTextContains('body', 'The window was added.')
    await page.assertElementsCount('[data-test="window-row"]', 1)
    await page.assertTextContains('[data-test="day-row"][data-weekday="2"]', '08:00–18:00')

    await page.getByRole('link', { name: 'Access groups', exact: true }).click()
    await page.getByRole('link', { name: 'Add access group' }).click()
    await page.getByLabel('Name').fill('Lobby staff')
    await page.getByLabel('Schedule', { exact: true }).selectOption({ label: 'Office hours' })
    await page.getByRole('button', { name: 'Save' }).click()
    await page.assertTextContains('body', 'Lobby staff was added.')
    await page.assertTextContains('[data-test="group-schedule"]', 'Office hours')

    await page.getByRole('searchbox').fill('lovelace')
    await page.getByRole('button', { name: 'Search' }).click()
    await page
      .locator('[data-test="candidate-row"][data-username="ada"]')
      .getByRole('button', { name: 'Add' })
      .click()
    await page.assertTextContains('body', 'Ada Lovelace was added to the group.')
    await page.assertElementsCount('[data-test="member-row"]', 1)
    await page.assertTextContains('[data-test="candidate-row"]', 'In this group')

    await page.assertNotExists('option:has-text("Still pending")')
    await page
      .getByLabel('Add a device')
      .selectOption({ label: `Lobby east (${device.serialNumber})` })
    await page.locator('[data-test="add-device"]').getByRole('button', { name: 'Add' }).click()
    await page.assertTextContains('body', 'Lobby east was added to the group.')
    await page.assertTextContains('[data-test="group-devices"]', 'Lobby east')

    const lobby = await AccessGroup.query()
      .where('name', 'Lobby staff')
      .preload('schedule')
      .preload('people')
      .preload('devices')
      .firstOrFail()
    assert.equal(lobby.schedule.name, 'Office hours')
    assert.deepEqual(
      lobby.people.map((person) => person.username),
      ['ada']
    )
    assert.deepEqual(
      lobby.devices.map((member) => member.id),
      [device.id]
    )
    const windows = await ScheduleWindow.query().where('schedule_id', lobby.schedule.id)
    assert.deepEqual(
      windows.map((window) => [window.weekday, window.startsAtMinute, window.endsAtMinute]),
      [[2, 480, 1080]]
    )
  })
})
