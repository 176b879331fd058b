import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import testUtils from '@adonisjs/core/services/test_utils'
import app from '@adonisjs/core/services/app'
import Schedule from '#models/schedule'
import { commandLineActor } from '#services/audit_trail'
import { AccessGroupService } from '#services/access_group_service'
import { ScheduleService } from '#services/schedule_service'
import { DeviceFactory } from '#database/factories/device_factory'
import { PersonFactory } from '#database/factories/person_factory'
import { siteTimeZone } from '#services/site_time'
import { addFace, grant, resetTerminalState, touchPerson } from '#tests/helpers/terminal'
import { getDbsSince } from '#tests/helpers/sync_terminals'

test.group('Terminal protocol: getDbs for offline decisions', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())

  test('sends validity dates, groups with their schedules and the required factors', async ({
    assert,
  }) => {
    const device = await DeviceFactory.apply('approved')
      .merge({ requiredFactors: 'face_card' })
      .create()
    const validUntil = DateTime.fromISO('2031-06-30T18:00:00', { zone: siteTimeZone })
    const contractor = await PersonFactory.apply('withCard')
      .merge({ validUntil, displayName: 'Contractor' })
      .create()
    const staff = await PersonFactory.create()
    for (const person of [contractor, staff]) await addFace(person)
    const weekdays = await Schedule.create({ name: 'Weekdays' })
    await weekdays.related('windows').createMany([
      { weekday: 2, startsAtMinute: 8 * 60, endsAtMinute: 18 * 60 },
      { weekday: 1, startsAtMinute: 8 * 60, endsAtMinute: 12 * 60 },
    ])
    await weekdays.related('holidays').create({
      date: DateTime.fromISO('2031-01-01'),
      name: 'New year',
    })
    const office = await grant([contractor, staff], [device], weekdays.id)
    const always = await grant([staff], [device])
    const elsewhere = await grant([contractor], [await DeviceFactory.apply('approved').create()])

    const full = await getDbsSince(device)
    assert.include(full.body, {
      code: 0,
      full: true,
      requiredFactors: 'face_card',
      timeZone: siteTimeZone,
      targetFpir: 0.01,
      margin: 0.03,
    })
    // The original fields of each face stay as they were.
    assert.deepEqual(Object.keys(full.body.names[0]).sort(), [
      'faceData',
      'name',
      'picUrl',
      'username',
    ])
    const people = Object.fromEntries(
      full.body.people.map((person: { username: string }) => [person.username, person])
    )
    assert.deepEqual(people[contractor.username], {
      username: contractor.username,
      validFrom: null,
      validUntil: validUntil.toLocal().toISO(),
      groups: [office.id],
      cardNumber: contractor.cardNumber,
    })
    assert.deepEqual(people[staff.username].groups, [office.id, always.id])
    assert.isNull(people[staff.username].cardNumber)
    assert.equal(
      DateTime.fromISO(people[contractor.username].validUntil).toMillis(),
      validUntil.toMillis()
    )

    assert.deepEqual(full.body.groups, [
      {
        id: office.id,
        name: office.name,
        schedule: {
          id: weekdays.id,
          name: 'Weekdays',
          windows: [
            { weekday: 1, startsAtMinute: 480, endsAtMinute: 720 },
            { weekday: 2, startsAtMinute: 480, endsAtMinute: 1080 },
          ],
          holidays: ['2031-01-01'],
        },
      },
      { id: always.id, name: always.name, schedule: null },
    ])
    assert.notInclude(
      full.body.groups.map((entry: { id: number }) => entry.id),
      elsewhere.id
    )

    // An incremental answer describes the people it sends, and the groups again.
    await touchPerson(staff)
    const since = await getDbsSince(device, full.body.revision)
    assert.include(since.body, { code: 0, full: false })
    assert.deepEqual(
      since.body.people.map((person: { username: string }) => person.username),
      [staff.username]
    )
    assert.lengthOf(since.body.groups, 2)
  })

  test('a face-only device is not sent card numbers', async ({ assert }) => {
    const device = await DeviceFactory.apply('approved').create()
    const person = await PersonFactory.apply('withCard').create()
    await addFace(person)
    await grant([person], [device])
    const answer = await getDbsSince(device)
    assert.equal(answer.body.requiredFactors, 'face')
    assert.notProperty(answer.body.people[0], 'cardNumber')
    assert.notInclude(JSON.stringify(answer.body), person.cardNumber!)
  })

  test('a schedule or group changed reaches the devices of its groups, and only them', async ({
    assert,
  }) => {
    const [door, yard] = await DeviceFactory.apply('approved').createMany(2)
    const person = await PersonFactory.create()
    await addFace(person)
    const shifts = await Schedule.create({ name: 'Shifts' })
    const office = await grant([person], [door], shifts.id)
    await grant([person], [yard])
    const [doorFull, yardFull] = [await getDbsSince(door), await getDbsSince(yard)]
    const held = { door: doorFull.body.revision, yard: yardFull.body.revision }
    const actor = commandLineActor()
    const schedules = await app.container.make(ScheduleService)
    const added = await schedules.addWindows(actor, shifts, {
      weekdays: [3],
      startsAt: 6 * 60,
      endsAt: 14 * 60,
    })
    assert.isTrue(added.ok)

    const door1 = await getDbsSince(door, held.door)
    assert.include(door1.body, { code: 0, full: true })
    assert.deepEqual(door1.body.groups[0].schedule.windows, [
      { weekday: 3, startsAtMinute: 360, endsAtMinute: 840 },
    ])
    const yard1 = await getDbsSince(yard, held.yard)
    assert.include(yard1.body, { code: 0, full: false })
    assert.lengthOf(yard1.body.names, 0, 'the yard has nothing new to load')

    await schedules.addHolidays(actor, shifts, {
      holidayDate: new Date('2031-05-01T00:00:00Z'),
      holidayName: 'Labour day',
    })
    const door2 = await getDbsSince(door, door1.body.revision)
    assert.include(door2.body, { full: true })
    assert.deepEqual(door2.body.groups[0].schedule.holidays, ['2031-05-01'])

    const groups = await app.container.make(AccessGroupService)
    await groups.update(actor, office, { name: 'Night shift', scheduleId: shifts.id })
    const door3 = await getDbsSince(door, door2.body.revision)
    assert.include(door3.body, { full: true })
    assert.equal(door3.body.groups[0].name, 'Night shift')
    const yard2 = await getDbsSince(yard, yard1.body.revision)
    assert.include(yard2.body, { full: false })
  })
})
