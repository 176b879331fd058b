import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import testUtils from '@adonisjs/core/services/test_utils'
import db from '@adonisjs/lucid/services/db'
import AccessEvent from '#models/access_event'
import { siteNow, siteTimeZone } from '#services/site_time'
import { toSqlDateTime } from '#services/sql_time'
import Person from '#models/person'
import { UserFactory } from '#database/factories/user_factory'
import { DeviceFactory } from '#database/factories/device_factory'
import { PersonFactory } from '#database/factories/person_factory'
import { AccessGroupFactory } from '#database/factories/access_group_factory'

/** The values of `attribute` on the rows marked `data-test="<row>"`, in page order. */
function rowValues(html: string, row: string, attribute: string) {
  const pattern = new RegExp(`data-test="${row}"[^>]*?${attribute}="([^"]*)"`, 'g')
  return [...html.matchAll(pattern)].map((match) => match[1])
}

/** The page links of the list's pagination, as parsed query strings. */
function pageLinks(html: string) {
  const nav = html.match(/<nav class="pagination"[\s\S]*?<\/nav>/)?.[0] ?? ''
  return [...nav.matchAll(/href="([^"]+)"/g)].map(
    (match) => new URL(match[1].replaceAll('&amp;', '&'), 'http://x').searchParams
  )
}

/** `count` people whose usernames run staff000, staff001, … in one department. */
async function staff(count: number, department = 'Logistics') {
  await Person.createMany(
    Array.from({ length: count }, (_, index) => ({
      username: `staff${String(index).padStart(3, '0')}`,
      displayName: `Staff ${String(index).padStart(3, '0')}`,
      department,
      status: 'active' as const,
    }))
  )
}

test.group('List filters: empty fields mean "any"', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('People: a search with "Any status" finds the one person and keeps the box', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    await staff(60)

    const response = await client
      .get('/admin/people')
      .qs({ q: 'staff050', status: '' })
      .loginAs(operator)
    response.assertStatus(200)
    assert.deepEqual(rowValues(response.text(), 'person-row', 'data-username'), ['staff050'])
    response.assertTextIncludes('value="staff050"')
    response.assertTextIncludes('1 person')

    const blank = await client
      .get('/admin/people')
      .qs({ q: '  ', status: '', page: '' })
      .loginAs(operator)
    blank.assertStatus(200)
    blank.assertTextIncludes('60 people')
  })

  test('People: page links keep the search, and page 2 holds the rest of the matches', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    await staff(30)
    await PersonFactory.merge({ department: 'Reception' }).createMany(5)

    const first = await client
      .get('/admin/people')
      .qs({ q: 'logist', status: '' })
      .loginAs(operator)
    first.assertTextIncludes('30 people')
    assert.lengthOf(rowValues(first.text(), 'person-row', 'data-username'), 25)
    const next = pageLinks(first.text()).find((link) => link.get('page') === '2')!
    assert.equal(next.get('q'), 'logist')

    const second = await client.get('/admin/people').qs(Object.fromEntries(next)).loginAs(operator)
    const usernames = rowValues(second.text(), 'person-row', 'data-username')
    assert.deepEqual(usernames, ['staff025', 'staff026', 'staff027', 'staff028', 'staff029'])
    second.assertTextIncludes('value="logist"')
  })

  test('Devices: a search with "Any status" finds only the matching devices', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const lobby = await DeviceFactory.apply('approved')
      .merge({ name: 'Lobby east', serialNumber: 'SN-LOBBY-E' })
      .create()
    await DeviceFactory.apply('approved').merge({ name: 'Garage' }).create()
    await DeviceFactory.merge({ name: 'Loading bay' }).create()

    const response = await client
      .get('/admin/devices')
      .qs({ q: 'lobby east', status: '' })
      .loginAs(operator)
    response.assertStatus(200)
    assert.deepEqual(rowValues(response.text(), 'device-row', 'data-serial'), [lobby.serialNumber])
    response.assertTextIncludes('value="lobby east"')
    response.assertTextIncludes('1 device')

    const nothing = await client
      .get('/admin/devices')
      .qs({ q: 'nowhere', status: '' })
      .loginAs(operator)
    nothing.assertTextIncludes('No device matches these filters.')
  })

  test('Events: a device with every other field empty lists only that door', async ({
    client,
    assert,
  }) => {
    const auditor = await UserFactory.apply('auditor').create()
    const lobby = await DeviceFactory.apply('approved').merge({ name: 'Lobby east' }).create()
    const garage = await DeviceFactory.apply('approved').merge({ name: 'Garage' }).create()
    const now = DateTime.now()
    const event = (deviceId: number, minutesAgo: number) => ({
      deviceId,
      decision: 'granted' as const,
      reason: 'granted' as const,
      method: 'face' as const,
      occurredAt: now.minus({ minutes: minutesAgo }),
      receivedAt: now.minus({ minutes: minutesAgo }),
    })
    const atLobby = await AccessEvent.createMany([event(lobby.id, 5), event(lobby.id, 3)])
    await AccessEvent.createMany([event(garage.id, 4), event(garage.id, 2)])

    const response = await client
      .get('/admin/events')
      .qs({ person: '', device: 'Lobby east', decision: '', reason: '', from: '', to: '' })
      .loginAs(auditor)
    response.assertStatus(200)
    assert.deepEqual(rowValues(response.text(), 'event-row', 'data-event-id'), [
      String(atLobby[1].id),
      String(atLobby[0].id),
    ])
    response.assertTextIncludes('value="Lobby east"')
    response.assertTextIncludes('2 events')
    response.assertTextIncludes('data-stream-url="/admin/events/stream?device=Lobby%20east"')
    response.assertTextIncludes('href="/admin/events.csv?device=Lobby%20east"')
  })

  test('Events: the range is read to the minute, and the shortcuts keep the other filters', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const lobby = await DeviceFactory.apply('approved').merge({ name: 'Lobby east' }).create()
    const at = (time: string) => {
      // A time at the site, held as models hold times: in the server's zone.
      const when = DateTime.fromISO(time, { zone: siteTimeZone }).toLocal()
      return AccessEvent.create({
        deviceId: lobby.id,
        decision: 'denied',
        reason: 'unknown_face',
        method: 'face',
        occurredAt: when,
        receivedAt: when,
      })
    }
    await at('2026-03-02T08:59:59')
    const first = await at('2026-03-02T09:00:00')
    const last = await at('2026-03-02T09:30:59')
    await at('2026-03-02T09:31:00')

    const response = await client
      .get('/admin/events')
      .qs({ from: '2026-03-02T09:00', to: '2026-03-02T09:30', decision: '', reason: '' })
      .loginAs(operator)
    assert.deepEqual(rowValues(response.text(), 'event-row', 'data-event-id'), [
      String(last.id),
      String(first.id),
    ])
    response.assertTextIncludes('value="2026-03-02T09:00"')

    const filtered = await client
      .get('/admin/events')
      .qs({ device: 'lobby', reason: 'unknown_face' })
      .loginAs(operator)
    const shortcuts = filtered.text().match(/data-test="range-shortcuts"[\s\S]*?<\/nav>/)![0]
    const lastHour = new URL(
      shortcuts.match(/href="([^"]+)"/)![1].replaceAll('&amp;', '&'),
      'http://x'
    ).searchParams
    assert.equal(lastHour.get('device'), 'lobby')
    assert.equal(lastHour.get('reason'), 'unknown_face')
    assert.isNull(lastHour.get('to'))
    const from = DateTime.fromISO(lastHour.get('from')!, { zone: siteTimeZone })
    assert.approximately(from.toMillis(), DateTime.now().minus({ hours: 1 }).toMillis(), 120_000)

    const invalid = await client
      .get('/admin/events')
      .qs({ from: '2026-02-30T09:00' })
      .loginAs(operator)
      .redirects(0)
    invalid.assertStatus(302)
  })

  test('Audit log: an actor with the other fields empty filters by the actor alone', async ({
    client,
    assert,
  }) => {
    const auditor = await UserFactory.apply('auditor').create()
    await db.table('audit_logs').multiInsert(
      ['ada@example.com', 'grace@example.com', 'ada@example.com'].map((actor, index) => ({
        actor,
        action: 'person.update',
        subject_type: 'person',
        subject_id: String(index + 1),
        created_at: toSqlDateTime(DateTime.now().minus({ minutes: index })),
      }))
    )

    const response = await client
      .get('/admin/audit')
      .qs({ action: '', subjectType: '', actor: 'grace', from: '', until: '' })
      .loginAs(auditor)
    response.assertStatus(200)
    assert.lengthOf(rowValues(response.text(), 'audit-row', 'data-action'), 1)
    response.assertTextIncludes('value="grace"')
  })

  test('Access groups: people to add are found by department too, twenty to a page', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const nightShift = await AccessGroupFactory.create()
    await staff(45, 'Night shift')
    await PersonFactory.merge({ department: 'Day shift' }).createMany(3)
    const page = `/admin/access-groups/${nightShift.id}`

    const first = await client.get(page).qs({ q: 'night', page: '' }).loginAs(operator)
    first.assertStatus(200)
    assert.lengthOf(rowValues(first.text(), 'candidate-row', 'data-username'), 20)
    first.assertTextIncludes('45 people match')
    const third = pageLinks(first.text()).find((link) => link.get('matches') === '3')!
    assert.equal(third.get('q'), 'night')
    assert.isNull(third.get('page'))

    const last = await client.get(page).qs(Object.fromEntries(third)).loginAs(operator)
    assert.deepEqual(rowValues(last.text(), 'candidate-row', 'data-username'), [
      'staff040',
      'staff041',
      'staff042',
      'staff043',
      'staff044',
    ])
  })

  test('the site time zone is named on Settings and beside the events filters', async ({
    client,
  }) => {
    const admin = await UserFactory.apply('admin').create()
    const zone = siteTimeZone

    const settings = await client.get('/admin/settings').loginAs(admin)
    settings.assertTextIncludes(`<code data-test="site-time-zone">${zone}</code>`)
    const events = await client.get('/admin/events').loginAs(admin)
    events.assertTextIncludes(`Times are in ${zone} (UTC${siteNow().toFormat('ZZ')}).`)
  })
})
