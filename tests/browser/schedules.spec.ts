import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import ScheduleWindow from '#models/schedule_window'
import { ScheduleFactory } from '#database/factories/schedule_factory'
import { UserFactory } from '#database/factories/user_factory'

test.group('Schedules in the browser', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('Monday to Friday takes one submit; an overlapping window is refused', async ({
    browserContext,
    visit,
    assert,
  }) => {
    const operator = await UserFactory.create()
    await browserContext.loginAs(operator)
    const schedule = await ScheduleFactory.merge({ name: 'Office hours' }).create()

    const page = await visit(`/admin/schedules/${schedule.id}`)
    const form = page.locator('[data-test="add-window"]')
    for (const day of ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday']) {
      await form.getByLabel(day).check()
    }
    await form.getByLabel('From').fill('08:00')
    await form.getByLabel('Until').fill('18:00')
    await form.getByRole('button', { name: 'Add window' }).click()
    await page.assertTextContains('body', '5 windows were added.')
    await page.assertElementsCount('[data-test="window-row"]', 5)
    await page.assertTextContains('[data-test="day-row"][data-weekday="5"]', '08:00–18:00')
    await page.assertTextContains('[data-test="day-row"][data-weekday="6"]', 'No window')

    await form.getByLabel('Wednesday').check()
    await form.getByLabel('Saturday').check()
    await form.getByLabel('From').fill('17:00')
    await form.getByLabel('Until').fill('19:00')
    await form.getByRole('button', { name: 'Add window' }).click()
    await page.assertTextContains(
      '[data-test="error-weekdays"]',
      'Refused: this would overlap Wednesday 08:00–18:00.'
    )
    await page.assertChecked('#add-window-day-6')
    await page.assertElementsCount('[data-test="window-row"]', 5)

    const windows = await ScheduleWindow.query()
      .where('schedule_id', schedule.id)
      .orderBy('weekday')
    assert.deepEqual(
      windows.map((window) => [window.weekday, window.startsAtMinute, window.endsAtMinute]),
      [1, 2, 3, 4, 5].map((weekday) => [weekday, 480, 1080])
    )
  })
})
