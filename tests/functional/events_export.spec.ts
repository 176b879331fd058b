import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import testUtils from '@adonisjs/core/services/test_utils'
import db from '@adonisjs/lucid/services/db'
import AccessEvent from '#models/access_event'
import { siteTimeZone } from '#services/site_time'
import { toSqlDateTime } from '#services/sql_time'
import { UserFactory } from '#database/factories/user_factory'
import { DeviceFactory } from '#database/factories/device_factory'
import { PersonFactory } from '#database/factories/person_factory'

const header = 'time,device,username,name,decision,reason,score,method'

/** RFC 4180 records, quotes and doubled quotes undone. */
function parseCsv(text: string) {
  const records: string[][] = []
  let record: string[] = []
  let field = ''
  let quoted = false
  for (let index = 0; index < text.length; index++) {
    const char = text[index]
    if (quoted) {
      if (char === '"' && text[index + 1] === '"') {
        field += '"'
        index++
      } else if (char === '"') {
        quoted = false
      } else {
        field += char
      }
    } else if (char === '"') {
      quoted = true
    } else if (char === ',') {
      record.push(field)
      field = ''
    } else if (char === '\r' && text[index + 1] === '\n') {
      record.push(field)
      records.push(record)
      record = []
      field = ''
      index++
    } else {
      field += char
    }
  }
  return records
}

test.group('Events CSV export', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('writes the filtered events, newest first, with the site offset and codes', async ({
    client,
    assert,
  }) => {
    const auditor = await UserFactory.apply('auditor').create()
    const lobby = await DeviceFactory.apply('approved').merge({ name: 'Lobby east' }).create()
    const garage = await DeviceFactory.apply('approved').merge({ name: 'Garage' }).create()
    const ada = await PersonFactory.merge({ username: 'ada', displayName: 'Ada Lovelace' }).create()
    const record = (values: Partial<AccessEvent>, time: string) => {
      // A time at the site, held as models hold times: in the server's zone.
      const when = DateTime.fromISO(time, { zone: siteTimeZone }).toLocal()
      return AccessEvent.create({
        decision: 'granted',
        reason: 'granted',
        method: 'face',
        occurredAt: when,
        receivedAt: when,
        ...values,
      })
    }
    await record({ deviceId: lobby.id, personId: ada.id, score: 0.91234 }, '2026-03-02T09:10:00')
    await record(
      { deviceId: lobby.id, decision: 'denied', reason: 'unknown_face', score: 0.31 },
      '2026-03-02T09:20:30'
    )
    await record({ deviceId: garage.id, personId: ada.id }, '2026-03-02T09:15:00')
    await record({ deviceId: lobby.id, personId: ada.id }, '2026-03-02T10:45:00')

    const response = await client
      .get('/admin/events.csv')
      .qs({ device: 'Lobby east', from: '2026-03-02T09:00', to: '2026-03-02T10:00', person: '' })
      .loginAs(auditor)
    response.assertStatus(200)
    response.assertHeader('content-type', 'text/csv; charset=utf-8')
    assert.match(
      response.header('content-disposition') ?? '',
      /^attachment; filename="events-.+\.csv"$/
    )
    assert.isTrue(response.text().startsWith(`\uFEFF${header}\r\n`))

    const offset = DateTime.fromISO('2026-03-02T09:20:30', { zone: siteTimeZone }).toFormat('ZZ')
    assert.deepEqual(parseCsv(response.text().slice(1)), [
      header.split(','),
      [
        `2026-03-02T09:20:30${offset}`,
        'Lobby east',
        '',
        '',
        'denied',
        'unknown_face',
        '0.31',
        'face',
      ],
      [
        `2026-03-02T09:10:00${offset}`,
        'Lobby east',
        'ada',
        'Ada Lovelace',
        'granted',
        'granted',
        '0.9123',
        'face',
      ],
    ])

    const denied = await client
      .get('/admin/events.csv')
      .qs({ decision: 'denied', reason: '', device: '' })
      .loginAs(auditor)
    assert.lengthOf(parseCsv(denied.text().slice(1)), 2)
  })

  test('cells that a spreadsheet would run as formulas start with an apostrophe', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const device = await DeviceFactory.apply('approved').merge({ name: '@SUM(A1:A9)' }).create()
    const names = [
      '=HYPERLINK("http://evil.example")',
      '+1 555',
      '-2+3',
      'Smith, "Bob"',
      'Zoë\nLine',
    ]
    for (const [index, displayName] of names.entries()) {
      const person = await PersonFactory.merge({ username: `p${index}`, displayName }).create()
      const when = DateTime.now().minus({ minutes: index })
      await AccessEvent.create({
        deviceId: device.id,
        personId: person.id,
        decision: 'granted',
        reason: 'granted',
        method: 'face',
        occurredAt: when,
        receivedAt: when,
      })
    }

    const response = await client.get('/admin/events.csv').loginAs(operator)
    const text = response.text()
    assert.include(text, `"'=HYPERLINK(""http://evil.example"")"`)
    const rows = parseCsv(text.slice(1)).slice(1)
    assert.deepEqual(
      rows.map((row) => [row[1], row[3]]),
      [
        ["'@SUM(A1:A9)", `'=HYPERLINK("http://evil.example")`],
        ["'@SUM(A1:A9)", "'+1 555"],
        ["'@SUM(A1:A9)", "'-2+3"],
        ["'@SUM(A1:A9)", 'Smith, "Bob"'],
        ["'@SUM(A1:A9)", 'Zoë\nLine'],
      ]
    )
  })

  test('exports every row once, in order, across chunks of rows sharing a time', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const device = await DeviceFactory.apply('approved').create()
    const times = ['2026-03-01T08:00:00', '2026-03-01T09:00:00', '2026-03-01T10:00:00']
    const rows = Array.from({ length: 2345 }, (_, index) => {
      const time = toSqlDateTime(DateTime.fromISO(times[index % times.length]))
      return {
        device_id: device.id,
        decision: 'granted',
        reason: 'granted',
        method: 'face',
        occurred_at: time,
        received_at: time,
      }
    })
    for (let start = 0; start < rows.length; start += 500) {
      await db.table('access_events').multiInsert(rows.slice(start, start + 500))
    }

    const response = await client.get('/admin/events.csv').qs({ person: '' }).loginAs(operator)
    const lines = parseCsv(response.text().slice(1)).slice(1)
    assert.lengthOf(lines, 2345)
    const perTime = lines.reduce<Record<string, number>>((counts, line) => {
      counts[line[0]] = (counts[line[0]] ?? 0) + 1
      return counts
    }, {})
    assert.deepEqual(Object.values(perTime), [781, 782, 782])
    assert.deepEqual(
      lines.map((line) => line[0]),
      lines
        .map((line) => line[0])
        .toSorted()
        .reverse()
    )
  })

  test('needs a signed-in operator; an invalid filter is refused', async ({ client }) => {
    const anonymous = await client.get('/admin/events.csv').redirects(0)
    anonymous.assertStatus(302)
    anonymous.assertHeader('location', '/login')

    const operator = await UserFactory.create()
    const invalid = await client
      .get('/admin/events.csv')
      .qs({ decision: 'maybe' })
      .loginAs(operator)
      .redirects(0)
    invalid.assertStatus(302)
  })
})
