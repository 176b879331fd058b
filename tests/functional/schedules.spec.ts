import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import testUtils from '@adonisjs/core/services/test_utils'
import AuditLog from '#models/audit_log'
import Holiday from '#models/holiday'
import Schedule from '#models/schedule'
import ScheduleWindow from '#models/schedule_window'
import { AccessGroupFactory } from '#database/factories/access_group_factory'
import { DeviceFactory } from '#database/factories/device_factory'
import { PersonFactory } from '#database/factories/person_factory'
import { ScheduleFactory } from '#database/factories/schedule_factory'
import { UserFactory } from '#database/factories/user_factory'
import { AccessDecisionService } from '#services/access_decision_service'
import { FaceDbRevision } from '#faces/face_db_revision'
import { countRows } from '#tests/helpers/terminal'

const windowsOf = async (schedule: Schedule) => {
  const windows = await ScheduleWindow.query()
    .where('schedule_id', schedule.id)
    .orderBy('weekday')
    .orderBy('starts_at_minute')
  return windows.map((window) => [window.weekday, window.startsAtMinute, window.endsAtMinute])
}

/** The form errors a refused submission flashed, by field. */
const fieldErrors = (response: { flashMessages(): Record<string, unknown> }) =>
  response.flashMessages().inputErrorsBag as Record<string, string[]>

test.group('Schedules pages', (pages) => {
  pages.each.setup(() => testUtils.db().withGlobalTransaction())

  test('an operator creates and renames a schedule; names are unique', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    await ScheduleFactory.merge({ name: 'Night shift' }).create()

    const created = await client
      .post('/admin/schedules')
      .loginAs(operator)
      .withCsrfToken()
      .form({ name: 'Office hours', description: 'Weekdays' })
      .redirects(0)
    const schedule = await Schedule.findByOrFail('name', 'Office hours')
    created.assertStatus(302)
    created.assertHeader('location', `/admin/schedules/${schedule.id}`)
    assert.equal(schedule.description, 'Weekdays')
    const createEntry = await AuditLog.findByOrFail('action', 'schedule.create')
    assert.equal(createEntry.subjectId, String(schedule.id))
    assert.include(createEntry.after as Record<string, unknown>, { name: 'Office hours' })

    const duplicate = await client
      .post('/admin/schedules')
      .loginAs(operator)
      .withCsrfToken()
      .accept('json')
      .form({ name: 'Night shift' })
    duplicate.assertStatus(422)
    assert.deepEqual(duplicate.body().errors, [
      { field: 'name', message: 'Another schedule already has this name.', rule: 'database' },
    ])

    const clash = await client
      .put(`/admin/schedules/${schedule.id}`)
      .loginAs(operator)
      .withCsrfToken()
      .header('referer', `/admin/schedules/${schedule.id}/edit`)
      .form({ name: 'Night shift', description: 'Typed description' })
      .redirects(0)
    clash.assertHeader('location', `/admin/schedules/${schedule.id}/edit`)
    assert.property(clash.flashMessages().inputErrorsBag, 'name')
    assert.equal(clash.flashMessages().description, 'Typed description')

    const renamed = await client
      .put(`/admin/schedules/${schedule.id}`)
      .loginAs(operator)
      .withCsrfToken()
      .form({ name: 'Office hours (HQ)', description: 'Weekdays' })
      .redirects(0)
    renamed.assertStatus(302)
    await schedule.refresh()
    assert.equal(schedule.name, 'Office hours (HQ)')
    const updateEntry = await AuditLog.findByOrFail('action', 'schedule.update')
    assert.deepEqual(updateEntry.before, { name: 'Office hours' })
    assert.deepEqual(updateEntry.after, { name: 'Office hours (HQ)' })
    assert.equal(await countRows('schedules'), 2)
  })

  test('the weekly editor adds several windows a day and removes them', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const schedule = await ScheduleFactory.merge({ name: 'Office hours' }).create()
    const page = `/admin/schedules/${schedule.id}`
    const revisionBefore = await new FaceDbRevision().current()

    for (const window of [
      { 'weekdays[]': ['1'], 'startsAt': '13:00', 'endsAt': '18:00' },
      { 'weekdays[]': ['1'], 'startsAt': '08:00', 'endsAt': '12:00' },
      { 'weekdays[]': ['6'], 'startsAt': '22:00', 'endsAt': '00:00' },
      { 'weekdays[]': ['1'], 'startsAt': '08:00', 'endsAt': '12:00' },
    ]) {
      const response = await client
        .post(`${page}/windows`)
        .loginAs(operator)
        .withCsrfToken()
        .form(window)
        .redirects(0)
      response.assertStatus(302)
      response.assertHeader('location', page)
    }
    assert.deepEqual(await windowsOf(schedule), [
      [1, 480, 720],
      [1, 780, 1080],
      [6, 1320, 1440],
    ])

    const shown = await client.get(page).loginAs(operator)
    const html = shown.text()
    assert.include(html, 'data-weekday="1" data-from="08:00" data-until="12:00"')
    assert.include(html, 'data-weekday="6" data-from="22:00" data-until="24:00"')
    assert.isBelow(html.indexOf('data-from="08:00"'), html.indexOf('data-from="13:00"'))
    assert.include(html, '<rect class="timeline-window" x="1320" y="0" width="120" height="12" />')

    const list = await client.get('/admin/schedules').loginAs(operator)
    list.assertTextIncludes('Mon 08:00–12:00, 13:00–18:00')
    list.assertTextIncludes('Sat 22:00–24:00')

    const added = await AuditLog.query().where('action', 'schedule.add_window').orderBy('id')
    assert.lengthOf(added, 3)
    assert.deepEqual(added[0].after, { weekday: 1, from: '13:00', until: '18:00' })

    const [morning] = await ScheduleWindow.query()
      .where('schedule_id', schedule.id)
      .where('starts_at_minute', 480)
    const removed = await client
      .delete(`${page}/windows/${morning.id}`)
      .loginAs(operator)
      .withCsrfToken()
      .redirects(0)
    removed.assertStatus(302)
    assert.deepEqual(await windowsOf(schedule), [
      [1, 780, 1080],
      [6, 1320, 1440],
    ])
    const entry = await AuditLog.findByOrFail('action', 'schedule.remove_window')
    assert.deepEqual(entry.before, { weekday: 1, from: '08:00', until: '12:00' })
    assert.equal(
      await new FaceDbRevision().current(),
      revisionBefore,
      'devices are not sent schedules, so they have nothing to resync'
    )
  })

  test('a window that ends before it starts, a bad time or day is a field error', async ({
    client,
    assert,
  }) => {
    const auditEntries = await countRows('audit_logs')
    const operator = await UserFactory.create()
    const schedule = await ScheduleFactory.create()
    const page = `/admin/schedules/${schedule.id}`

    const backwards = await client
      .post(`${page}/windows`)
      .loginAs(operator)
      .withCsrfToken()
      .header('referer', page)
      .form({ 'weekdays[]': ['3'], 'startsAt': '18:00', 'endsAt': '08:00' })
      .redirects(0)
    backwards.assertHeader('location', page)
    assert.deepEqual(Object.keys(backwards.flashMessages().inputErrorsBag), ['endsAt'])
    assert.include(backwards.flashMessages(), { startsAt: '18:00', endsAt: '08:00' })
    assert.deepEqual(backwards.flashMessages().weekdays, ['3'])

    const shown = await client
      .post(`${page}/windows`)
      .loginAs(operator)
      .withCsrfToken()
      .header('referer', page)
      .form({ 'weekdays[]': ['3'], 'startsAt': '09:30', 'endsAt': '09:30' })
    shown.assertStatus(200)
    shown.assertTextIncludes('The end must be after the start.')
    shown.assertTextIncludes('value="09:30"')
    shown.assertTextIncludes('name="weekdays[]" value="3" checked')

    const noDay = await client
      .post(`${page}/windows`)
      .loginAs(operator)
      .withCsrfToken()
      .accept('json')
      .form({ startsAt: '08:00', endsAt: '09:00' })
    noDay.assertStatus(422)
    assert.deepEqual(noDay.body().errors, [
      { field: 'weekdays', message: 'Tick at least one day.', rule: 'required' },
    ])

    const invalid = await client
      .post(`${page}/windows`)
      .loginAs(operator)
      .withCsrfToken()
      .accept('json')
      .form({ 'weekdays[]': ['8'], 'startsAt': '7:00', 'endsAt': '25:00' })
    invalid.assertStatus(422)
    const fields = invalid.body().errors.map((error: { field: string }) => error.field)
    assert.sameMembers(fields, ['weekdays.0', 'startsAt', 'endsAt'])
    assert.include(
      invalid.body().errors.find((error: { field: string }) => error.field === 'startsAt').message,
      'Enter the start as a time, HH:MM'
    )

    assert.equal(await countRows('schedule_windows'), 0)
    assert.equal(await countRows('audit_logs'), auditEntries)
  })

  test('holidays are added once per date and removed', async ({ client, assert }) => {
    const operator = await UserFactory.create()
    const schedule = await ScheduleFactory.create()
    const page = `/admin/schedules/${schedule.id}`

    const added = await client
      .post(`${page}/holidays`)
      .loginAs(operator)
      .withCsrfToken()
      .form({ holidayDate: '2026-10-01', holidayName: 'National Day' })
      .redirects(0)
    added.assertStatus(302)
    assert.equal(added.flashMessages().success, 'National Day was added.')
    const holiday = await Holiday.findByOrFail('schedule_id', schedule.id)
    assert.equal(holiday.date.toISODate(), '2026-10-01')
    const entry = await AuditLog.findByOrFail('action', 'schedule.add_holiday')
    assert.deepEqual(entry.after, { date: '2026-10-01', name: 'National Day' })

    const shown = await client.get(page).loginAs(operator)
    shown.assertTextIncludes('data-test="holiday-row" data-date="2026-10-01"')
    shown.assertTextIncludes('National Day')

    const twice = await client
      .post(`${page}/holidays`)
      .loginAs(operator)
      .withCsrfToken()
      .accept('json')
      .form({ holidayDate: '2026-10-01', holidayName: 'Again' })
    twice.assertStatus(422)
    assert.deepEqual(twice.body().errors, [
      {
        field: 'holidayDate',
        message: 'This schedule already has a holiday on this date.',
        rule: 'database',
      },
    ])

    const invalid = await client
      .post(`${page}/holidays`)
      .loginAs(operator)
      .withCsrfToken()
      .accept('json')
      .form({ holidayDate: '2026-02-30', holidayName: '' })
    invalid.assertStatus(422)
    const fields = invalid.body().errors.map((error: { field: string }) => error.field)
    assert.sameMembers(fields, ['holidayDate', 'holidayName'])

    const removed = await client
      .delete(`${page}/holidays/${holiday.id}`)
      .loginAs(operator)
      .withCsrfToken()
      .redirects(0)
    removed.assertStatus(302)
    assert.isNull(await Holiday.find(holiday.id))
    assert.exists(await AuditLog.findBy('action', 'schedule.remove_holiday'))
  })

  test('a schedule built on the pages decides when its groups may pass', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const schedule = await ScheduleFactory.merge({ name: 'Office hours' }).create()
    const page = `/admin/schedules/${schedule.id}`
    await client
      .post(`${page}/windows`)
      .loginAs(operator)
      .withCsrfToken()
      .form({ 'weekdays[]': ['1'], 'startsAt': '08:00', 'endsAt': '12:00' })
    await client
      .post(`${page}/holidays`)
      .loginAs(operator)
      .withCsrfToken()
      .form({ holidayDate: '2026-05-04', holidayName: 'Bank holiday' })

    const person = await PersonFactory.create()
    const device = await DeviceFactory.apply('approved').create()
    const group = await AccessGroupFactory.merge({ scheduleId: schedule.id }).create()
    await group.related('people').attach([person.id])
    await group.related('devices').attach([device.id])

    const reasonAt = async (iso: string) => {
      const at = DateTime.fromISO(iso)
      const verdict = await new AccessDecisionService().decide({ person, device, at })
      return verdict.reason
    }
    assert.equal(await reasonAt('2026-05-11T08:00'), 'granted', 'Monday, as the window opens')
    assert.equal(await reasonAt('2026-05-11T11:59'), 'granted')
    assert.equal(await reasonAt('2026-05-11T12:00'), 'outside_schedule', 'the end is exclusive')
    assert.equal(await reasonAt('2026-05-12T09:00'), 'outside_schedule', 'Tuesday has no window')
    assert.equal(await reasonAt('2026-05-04T09:00'), 'outside_schedule', 'a Monday holiday')
  })

  test('deleting is refused while a group uses the schedule, then removes it all', async ({
    client,
    assert,
  }) => {
    const auditEntries = await countRows('audit_logs')
    const operator = await UserFactory.create()
    const schedule = await ScheduleFactory.merge({ name: 'Office hours' })
      .with('windows', 2)
      .create()
    await Holiday.create({ scheduleId: schedule.id, date: DateTime.now(), name: 'Today' })
    const group = await AccessGroupFactory.merge({
      name: 'Lobby staff',
      scheduleId: schedule.id,
    }).create()
    const page = `/admin/schedules/${schedule.id}`

    const confirmInUse = await client.get(`${page}/delete`).loginAs(operator)
    confirmInUse.assertTextIncludes('data-test="schedule-in-use"')
    confirmInUse.assertTextIncludes(
      `<a href="/admin/access-groups/${group.id}/edit">Lobby staff</a>`
    )
    assert.notInclude(confirmInUse.text(), 'Delete schedule')

    const refused = await client.delete(page).loginAs(operator).withCsrfToken().redirects(0)
    refused.assertStatus(302)
    refused.assertHeader('location', page)
    assert.equal(
      refused.flashMessages().error,
      'Office hours cannot be deleted while access groups use it (Lobby staff). Give those groups another schedule first.'
    )
    assert.exists(await Schedule.find(schedule.id))
    assert.equal(await countRows('audit_logs'), auditEntries)

    group.scheduleId = null
    await group.save()
    const confirm = await client.get(`${page}/delete`).loginAs(operator)
    confirm.assertTextIncludes('Delete schedule')

    const deleted = await client.delete(page).loginAs(operator).withCsrfToken().redirects(0)
    deleted.assertStatus(302)
    deleted.assertHeader('location', '/admin/schedules')
    assert.isNull(await Schedule.find(schedule.id))
    assert.equal(await countRows('schedule_windows'), 0)
    assert.equal(await countRows('holidays'), 0)
    const entry = await AuditLog.findByOrFail('action', 'schedule.delete')
    const before = entry.before as Record<string, unknown>
    assert.equal(before.name, 'Office hours')
    assert.lengthOf(before.windows as unknown[], 2)
    assert.deepEqual(before.holidays, [{ date: DateTime.now().toISODate(), name: 'Today' }])
  })

  test('an auditor reads schedules but every change is refused with nothing written', async ({
    client,
    assert,
  }) => {
    const auditEntries = await countRows('audit_logs')
    const auditor = await UserFactory.apply('auditor').create()
    const schedule = await ScheduleFactory.merge({ name: 'Office hours' })
      .with('windows', 1)
      .create()
    const holiday = await Holiday.create({
      scheduleId: schedule.id,
      date: DateTime.fromISO('2026-01-01'),
      name: 'New Year',
    })
    const page = `/admin/schedules/${schedule.id}`

    const list = await client.get('/admin/schedules').loginAs(auditor)
    list.assertStatus(200)
    list.assertTextIncludes('Office hours')
    assert.notInclude(list.text(), 'Add schedule')
    const show = await client.get(page).loginAs(auditor)
    show.assertStatus(200)
    show.assertTextIncludes('New Year')
    assert.notInclude(show.text(), 'id="add-window"')
    assert.notInclude(show.text(), '_method=DELETE')

    const [window] = await ScheduleWindow.query().where('schedule_id', schedule.id)
    const refused = [
      await client.get('/admin/schedules/new').loginAs(auditor),
      await client.get(`${page}/edit`).loginAs(auditor),
      await client.get(`${page}/delete`).loginAs(auditor),
      await client.post('/admin/schedules').loginAs(auditor).withCsrfToken().form({ name: 'X' }),
      await client.put(page).loginAs(auditor).withCsrfToken().form({ name: 'Renamed' }),
      await client.delete(page).loginAs(auditor).withCsrfToken(),
      await client
        .post(`${page}/windows`)
        .loginAs(auditor)
        .withCsrfToken()
        .form({ 'weekdays[]': ['2'], 'startsAt': '08:00', 'endsAt': '09:00' }),
      await client
        .post(`${page}/windows/copy`)
        .loginAs(auditor)
        .withCsrfToken()
        .form({ 'fromWeekday': '1', 'toWeekdays[]': ['2'] }),
      await client.delete(`${page}/windows/${window.id}`).loginAs(auditor).withCsrfToken(),
      await client
        .post(`${page}/holidays`)
        .loginAs(auditor)
        .withCsrfToken()
        .form({ holidayDate: '2026-12-25', holidayName: 'Christmas' }),
      await client.delete(`${page}/holidays/${holiday.id}`).loginAs(auditor).withCsrfToken(),
    ]
    for (const response of refused) response.assertStatus(403)

    await schedule.refresh()
    assert.equal(schedule.name, 'Office hours')
    assert.equal(await countRows('schedule_windows'), 1)
    assert.equal(await countRows('holidays'), 1)
    assert.equal(await countRows('audit_logs'), auditEntries)
  })

  test('one submit puts a window on Monday to Friday; a start of 00:00 reads 00:00', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const schedule = await ScheduleFactory.create()
    const page = `/admin/schedules/${schedule.id}`

    const weekdays = await client
      .post(`${page}/windows`)
      .loginAs(operator)
      .withCsrfToken()
      .form({ 'weekdays[]': ['1', '2', '3', '4', '5'], 'startsAt': '08:00', 'endsAt': '18:00' })
      .redirects(0)
    weekdays.assertStatus(302)
    assert.equal(weekdays.flashMessages().success, '5 windows were added.')
    assert.deepEqual(await windowsOf(schedule), [
      [1, 480, 1080],
      [2, 480, 1080],
      [3, 480, 1080],
      [4, 480, 1080],
      [5, 480, 1080],
    ])
    const added = await AuditLog.query().where('action', 'schedule.add_window')
    assert.lengthOf(added, 5)

    await client
      .post(`${page}/windows`)
      .loginAs(operator)
      .withCsrfToken()
      .form({ 'weekdays[]': ['7'], 'startsAt': '00:00', 'endsAt': '00:00' })
    const shown = await client.get(page).loginAs(operator)
    shown.assertTextIncludes('data-weekday="7" data-from="00:00" data-until="24:00"')
    shown.assertTextIncludes('data-weekday="5" data-from="08:00" data-until="18:00"')
    const list = await client.get('/admin/schedules').loginAs(operator)
    list.assertTextIncludes('Sun 00:00–24:00')
  })

  test('a window overlapping another of its day is refused, naming it; nothing is added', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const schedule = await ScheduleFactory.create()
    await ScheduleWindow.create({
      scheduleId: schedule.id,
      weekday: 1,
      startsAtMinute: 480,
      endsAtMinute: 720,
    })
    const page = `/admin/schedules/${schedule.id}`
    const auditEntries = await countRows('audit_logs')

    const overlapping = await client
      .post(`${page}/windows`)
      .loginAs(operator)
      .withCsrfToken()
      .header('referer', page)
      .form({ 'weekdays[]': ['1', '2'], 'startsAt': '11:00', 'endsAt': '13:00' })
      .redirects(0)
    overlapping.assertHeader('location', page)
    assert.deepEqual(fieldErrors(overlapping).weekdays, [
      'Refused: this would overlap Monday 08:00–12:00. Windows of one day may not overlap; remove or change those first (one may end when the next begins).',
    ])
    assert.deepEqual(await windowsOf(schedule), [[1, 480, 720]], 'not even on Tuesday')
    assert.equal(await countRows('audit_logs'), auditEntries)

    const adjacent = await client
      .post(`${page}/windows`)
      .loginAs(operator)
      .withCsrfToken()
      .form({ 'weekdays[]': ['1', '2'], 'startsAt': '12:00', 'endsAt': '13:00' })
      .redirects(0)
    adjacent.assertStatus(302)
    assert.deepEqual(await windowsOf(schedule), [
      [1, 480, 720],
      [1, 720, 780],
      [2, 720, 780],
    ])
  })

  test("a day's windows are copied to other days, all or none", async ({ client, assert }) => {
    const operator = await UserFactory.create()
    const schedule = await ScheduleFactory.create()
    for (const [weekday, start, end] of [
      [1, 480, 720],
      [1, 780, 1080],
      [3, 420, 540],
    ]) {
      await ScheduleWindow.create({
        scheduleId: schedule.id,
        weekday,
        startsAtMinute: start,
        endsAtMinute: end,
      })
    }
    const page = `/admin/schedules/${schedule.id}`
    const copy = (fields: Record<string, unknown>) =>
      client
        .post(`${page}/windows/copy`)
        .loginAs(operator)
        .withCsrfToken()
        .header('referer', page)
        .form(fields)
        .redirects(0)

    const refused = await copy({ 'fromWeekday': '1', 'toWeekdays[]': ['2', '3'] })
    assert.deepEqual(fieldErrors(refused).toWeekdays, [
      'Refused: this would overlap Wednesday 07:00–09:00. Windows of one day may not overlap; remove or change those first (one may end when the next begins).',
    ])
    assert.lengthOf(await windowsOf(schedule), 3)

    const copied = await copy({ 'fromWeekday': '1', 'toWeekdays[]': ['1', '2', '4'] })
    assert.equal(copied.flashMessages().success, '4 windows were added.')
    assert.deepEqual(await windowsOf(schedule), [
      [1, 480, 720],
      [1, 780, 1080],
      [2, 480, 720],
      [2, 780, 1080],
      [3, 420, 540],
      [4, 480, 720],
      [4, 780, 1080],
    ])

    const empty = await copy({ 'fromWeekday': '6', 'toWeekdays[]': ['7'] })
    assert.deepEqual(fieldErrors(empty).fromWeekday, ['That day has no windows to copy.'])
  })

  test('a range of holidays is added in one submit; dates already holidays keep theirs', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const schedule = await ScheduleFactory.create()
    await Holiday.create({
      scheduleId: schedule.id,
      date: DateTime.fromISO('2026-10-03'),
      name: 'Company day',
    })
    const page = `/admin/schedules/${schedule.id}`
    const add = (fields: Record<string, string>) =>
      client.post(`${page}/holidays`).loginAs(operator).withCsrfToken().form(fields).redirects(0)

    const range = await add({
      holidayDate: '2026-10-01',
      holidayUntil: '2026-10-07',
      holidayName: 'National Day',
    })
    range.assertStatus(302)
    assert.equal(
      range.flashMessages().success,
      'National Day was added for 6 days; 1 date already was a holiday and kept its name.'
    )
    const holidays = await Holiday.query().where('schedule_id', schedule.id).orderBy('date')
    assert.deepEqual(
      holidays.map((holiday) => [holiday.date.toISODate(), holiday.name]),
      [
        ['2026-10-01', 'National Day'],
        ['2026-10-02', 'National Day'],
        ['2026-10-03', 'Company day'],
        ['2026-10-04', 'National Day'],
        ['2026-10-05', 'National Day'],
        ['2026-10-06', 'National Day'],
        ['2026-10-07', 'National Day'],
      ]
    )
    assert.lengthOf(await AuditLog.query().where('action', 'schedule.add_holiday'), 6)

    const backwards = await add({
      holidayDate: '2026-12-31',
      holidayUntil: '2026-12-24',
      holidayName: 'Closed',
    })
    assert.deepEqual(fieldErrors(backwards).holidayUntil, [
      'The last day cannot be before the first.',
    ])
    const tooLong = await add({
      holidayDate: '2026-01-01',
      holidayUntil: '2027-01-02',
      holidayName: 'Closed',
    })
    assert.deepEqual(fieldErrors(tooLong).holidayUntil, ['A range may cover at most 366 days.'])
    assert.equal(await countRows('holidays'), 7)
  })

  test('the schedule pages are translated into Chinese', async ({ client, assert }) => {
    const operator = await UserFactory.merge({ locale: 'zh' }).create()
    const schedule = await ScheduleFactory.create()
    const page = `/admin/schedules/${schedule.id}`

    const shown = await client.get(page).loginAs(operator)
    shown.assertTextIncludes('每周时间段')
    shown.assertTextIncludes('<option value="1" selected>星期一</option>')

    const backwards = await client
      .post(`${page}/windows`)
      .loginAs(operator)
      .withCsrfToken()
      .accept('json')
      .form({ 'weekdays[]': ['1'], 'startsAt': '10:00', 'endsAt': '09:00' })
    backwards.assertStatus(422)
    assert.match(backwards.body().errors[0].message, /^结束时间必须晚于开始时间。/)
  })
})
