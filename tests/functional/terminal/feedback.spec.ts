import { readFile } from 'node:fs/promises'
import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import AccessEvent from '#models/access_event'
import Holiday from '#models/holiday'
import Schedule from '#models/schedule'
import ScheduleWindow from '#models/schedule_window'
import { DeviceFactory } from '#database/factories/device_factory'
import { PersonFactory } from '#database/factories/person_factory'
import { AccessEventFeed, type AccessEventNotice } from '#services/access_event_feed'
import terminalConfig from '#config/terminal'
import { countRows, encodings, grant, post, resetTerminalState } from '#tests/helpers/terminal'

const photo = () => readFile(app.makePath('tests/fixtures/faces/sheldon.png'))

test.group('Terminal protocol: clinetFeedback and clinetWebResult', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())

  test('a recognised person is recorded with the server decision, time and score ({$self})')
    .with([...encodings])
    .run(async ({ client, assert }, encoding) => {
      const device = await DeviceFactory.apply('approved').create()
      const person = await PersonFactory.merge({ displayName: 'Grace Hopper' }).create()
      await grant([person], [device])
      const time = Math.floor(DateTime.now().minus({ minutes: 3 }).toSeconds())

      const response = await post(
        client,
        'clinetFeedback',
        {
          deviceName: device.name,
          deviceSN: device.serialNumber,
          faceName: 'Grace Hopper',
          username: person.username,
          time,
          score: 0.87,
        },
        encoding,
        device
      )
      assert.include(response.body(), {
        flag: 'clinetfeedback',
        code: 0,
        decision: 'granted',
        reason: 'granted',
      })
      const event = await AccessEvent.findOrFail(response.body().eventId)
      assert.equal(event.deviceId, device.id)
      assert.equal(event.personId, person.id)
      assert.equal(event.reportedName, 'Grace Hopper')
      assert.closeTo(event.score!, 0.87, 1e-6)
      assert.equal(event.occurredAt.toSeconds(), time)
      assert.equal(event.method, 'face')
    })

  test('the decision is the server own: {$self}')
    .with([
      'unknown_face',
      'suspended',
      'expired',
      'not_authorized',
      'outside_schedule',
      'holiday',
    ] as const)
    .run(async ({ client, assert }, situation) => {
      const device = await DeviceFactory.apply('approved').create()
      const person =
        situation === 'suspended'
          ? await PersonFactory.apply('suspended').create()
          : situation === 'expired'
            ? await PersonFactory.apply('expired').create()
            : await PersonFactory.create()
      const now = DateTime.now()
      if (situation === 'outside_schedule' || situation === 'holiday') {
        const schedule = await Schedule.create({ name: `Schedule ${situation}` })
        const minute = now.hour * 60 + now.minute
        const window =
          situation === 'holiday'
            ? { startsAtMinute: 0, endsAtMinute: 1440 }
            : { startsAtMinute: (minute + 120) % 1380, endsAtMinute: ((minute + 120) % 1380) + 30 }
        await ScheduleWindow.create({ scheduleId: schedule.id, weekday: now.weekday, ...window })
        if (situation === 'holiday') {
          await Holiday.create({ scheduleId: schedule.id, date: now.startOf('day'), name: 'Today' })
        }
        await grant([person], [device], schedule.id)
      } else if (situation !== 'not_authorized') {
        await grant([person], [device])
      }

      const response = await post(
        client,
        'clinetFeedback',
        {
          deviceName: device.name,
          deviceSN: device.serialNumber,
          faceName: person.displayName,
          username: situation === 'unknown_face' ? 'nobody-here' : person.username,
        },
        'form',
        device
      )
      const reason = situation === 'holiday' ? 'outside_schedule' : situation
      assert.include(response.body(), { code: 0, decision: 'denied', reason })
      const event = await AccessEvent.findOrFail(response.body().eventId)
      assert.equal(event.personId, situation === 'unknown_face' ? null : person.id)
    })

  test('a schedule window that covers now grants; the name alone finds a unique person', async ({
    client,
    assert,
  }) => {
    const device = await DeviceFactory.apply('approved').create()
    const person = await PersonFactory.merge({ displayName: 'Only One' }).create()
    const schedule = await Schedule.create({ name: 'Always today' })
    const now = DateTime.now()
    await ScheduleWindow.create({
      scheduleId: schedule.id,
      weekday: now.weekday,
      startsAtMinute: 0,
      endsAtMinute: 1440,
    })
    await grant([person], [device], schedule.id)
    const fields = { deviceName: device.name, deviceSN: device.serialNumber, faceName: 'Only One' }
    const response = await post(client, 'clinetFeedback', fields, 'json', device)
    assert.include(response.body(), { decision: 'granted' })

    await PersonFactory.merge({ displayName: 'Only One' }).create()
    const ambiguous = await post(client, 'clinetFeedback', fields, 'json', device)
    assert.include(ambiguous.body(), { decision: 'denied', reason: 'unknown_face' })
  })

  test('a snapshot is stored with the event, as a file part or base64', async ({
    client,
    assert,
  }) => {
    const device = await DeviceFactory.apply('approved').create()
    const bytes = await photo()
    const fields = { deviceName: device.name, deviceSN: device.serialNumber, faceName: 'Visitor' }

    const multipart = await post(client, 'clinetFeedback', fields, 'multipart', device, {
      image: { data: bytes, filename: 'snap.png', contentType: 'image/png' },
    })
    assert.equal(multipart.body().code, 0)
    const json = await post(
      client,
      'clinetFeedback',
      { ...fields, image: bytes.toString('base64') },
      'json',
      device
    )
    assert.equal(json.body().code, 0)

    for (const response of [multipart, json]) {
      const event = await AccessEvent.findOrFail(response.body().eventId)
      assert.match(
        event.snapshotPath!,
        /^tmp\/storage\/snapshots\/\d{4}\/\d{2}\/\d{2}\/[\w-]+\.png$/
      )
      const stored = await readFile(app.makePath(event.snapshotPath!))
      assert.isTrue(stored.equals(bytes))
    }
  })

  test('a snapshot that is no image, or too large, records nothing', async ({ client, assert }) => {
    const device = await DeviceFactory.apply('approved').create()
    const fields = { deviceName: device.name, deviceSN: device.serialNumber, faceName: 'Visitor' }

    const text = await post(client, 'clinetFeedback', fields, 'multipart', device, {
      image: { data: Buffer.from('just some text, not a photo'), filename: 'snap.jpg' },
    })
    assert.include(text.body(), { code: 69640 })

    const huge = 'A'.repeat(Math.ceil((terminalConfig.images.maxBytes * 4) / 3) + 8)
    const tooLarge = await post(
      client,
      'clinetFeedback',
      { ...fields, image: huge },
      'form',
      device
    )
    assert.include(tooLarge.body(), { code: 69642 })

    const notBase64 = await post(
      client,
      'clinetFeedback',
      { ...fields, image: '%%% not base64 %%%' },
      'json',
      device
    )
    assert.include(notBase64.body(), { code: 2 })
    assert.equal(await countRows('access_events'), 0)
  })

  test('an unset terminal clock is replaced by the time of arrival', async ({ client, assert }) => {
    const device = await DeviceFactory.apply('approved').create()
    const response = await post(
      client,
      'clinetFeedback',
      { deviceName: device.name, deviceSN: device.serialNumber, faceName: 'Someone', time: 12 },
      'form',
      device
    )
    const event = await AccessEvent.findOrFail(response.body().eventId)
    assert.isBelow(Math.abs(event.occurredAt.diffNow('seconds').seconds), 5)
  })

  test('a report sent late keeps its time; one from a clock ahead of the server is refused', async ({
    client,
    assert,
  }) => {
    const device = await DeviceFactory.apply('approved').create()
    const fields = { deviceName: device.name, deviceSN: device.serialNumber, faceName: 'Someone' }
    const passage = Math.floor(DateTime.now().minus({ hours: 3 }).toSeconds())
    const late = await post(client, 'clinetFeedback', { ...fields, time: passage }, 'form', device)
    const event = await AccessEvent.findOrFail(late.body().eventId)
    assert.equal(event.occurredAt.toSeconds(), passage)
    assert.isBelow(Math.abs(event.receivedAt.diffNow('seconds').seconds), 5)

    const drifted = Math.floor(DateTime.now().plus({ seconds: 60 }).toSeconds())
    const slightlyAhead = await post(
      client,
      'clinetFeedback',
      { ...fields, time: drifted },
      'form',
      device
    )
    assert.equal(slightlyAhead.body().code, 0)

    const ahead = Math.floor(DateTime.now().plus({ minutes: 10 }).toSeconds())
    const future = await post(client, 'clinetFeedback', { ...fields, time: ahead }, 'form', device)
    assert.include(future.body(), { code: 2 })
    assert.match(future.body().message, /ahead of the server's clock/)
    assert.equal(await countRows('access_events'), 2)
  })

  test('a report retried with its eventId is recorded once, its snapshot too', async ({
    client,
    assert,
  }) => {
    const device = await DeviceFactory.apply('approved').create()
    const other = await DeviceFactory.apply('approved').create()
    const person = await PersonFactory.create()
    await grant([person], [device])
    const report = (to: typeof device, eventId: string) =>
      post(
        client,
        'clinetFeedback',
        {
          deviceName: to.name,
          deviceSN: to.serialNumber,
          faceName: person.displayName,
          username: person.username,
          eventId,
        },
        'multipart',
        to,
        { image: { data: Buffer.from(''), filename: 'none' } }
      )
    const bytes = await photo()
    const withSnapshot = (to: typeof device, eventId: string) =>
      post(
        client,
        'clinetFeedback',
        {
          deviceName: to.name,
          deviceSN: to.serialNumber,
          faceName: person.displayName,
          username: person.username,
          eventId,
        },
        'multipart',
        to,
        { image: { data: bytes, filename: 'snap.png', contentType: 'image/png' } }
      )

    const first = await withSnapshot(device, 'door7-000123')
    assert.include(first.body(), { code: 0, decision: 'granted', message: 'recorded' })
    const retries = await Promise.all(
      Array.from({ length: 5 }, () => withSnapshot(device, 'door7-000123'))
    )
    for (const retry of retries) {
      assert.include(retry.body(), {
        code: 0,
        eventId: first.body().eventId,
        decision: 'granted',
        message: 'already recorded',
      })
    }
    assert.equal(await countRows('access_events'), 1)
    const snapshots = await AccessEvent.query().whereNotNull('snapshot_path')
    assert.lengthOf(snapshots, 1)

    const elsewhere = await withSnapshot(other, 'door7-000123')
    assert.notEqual(elsewhere.body().eventId, first.body().eventId, 'ids are per device')
    const bad = await report(device, 'has spaces and ; semicolons')
    assert.include(bad.body(), { code: 2 })
    assert.equal(await countRows('access_events'), 2)
  })

  test("a terminal's own refusal is recorded as it, even for someone who may pass", async ({
    client,
    assert,
  }) => {
    const device = await DeviceFactory.apply('approved').create()
    const person = await PersonFactory.merge({ displayName: 'Grace Hopper' }).create()
    await grant([person], [device])
    const fields = {
      deviceName: device.name,
      deviceSN: device.serialNumber,
      faceName: 'Grace Hopper',
      username: person.username,
    }
    const spoof = await post(
      client,
      'clinetFeedback',
      { ...fields, refusal: 'spoof' },
      'form',
      device
    )
    assert.include(spoof.body(), { code: 0, decision: 'denied', reason: 'spoof' })
    const event = await AccessEvent.findOrFail(spoof.body().eventId)
    assert.equal(event.personId, person.id, 'the guard still sees whom the face looked like')
    assert.equal(event.reason, 'spoof')

    const other = await post(
      client,
      'clinetFeedback',
      { ...fields, refusal: 'granted' },
      'form',
      device
    )
    assert.include(other.body(), { code: 2 })
    assert.equal(await countRows('access_events'), 1)
  })

  test('bad fields are refused before anything is recorded', async ({ client, assert }) => {
    const device = await DeviceFactory.apply('approved').create()
    const base = { deviceName: device.name, deviceSN: device.serialNumber }
    const missing = await post(client, 'clinetFeedback', base, 'form', device)
    assert.include(missing.body(), {
      code: 9005,
      message: 'Incomplete parameters: missing faceName',
    })
    const score = await post(
      client,
      'clinetFeedback',
      { ...base, faceName: 'X', score: '1.5' },
      'form',
      device
    )
    assert.include(score.body(), { code: 2 })
    const time = await post(
      client,
      'clinetFeedback',
      { ...base, faceName: 'X', time: 'noon' },
      'form',
      device
    )
    assert.include(time.body(), { code: 2 })
    const pending = await DeviceFactory.create()
    const refused = await client
      .post('/faces/api/clinetFeedback')
      .form({ deviceName: pending.name, deviceSN: pending.serialNumber, faceName: 'X' })
    assert.include(refused.body(), { code: 9001 })
    assert.equal(await countRows('access_events'), 0)
  })

  test('every recorded event is announced over Redis', async ({ client, assert, cleanup }) => {
    const device = await DeviceFactory.apply('approved').create()
    const feed = new AccessEventFeed()
    const notices: AccessEventNotice[] = []
    await new Promise<void>((resolve) => {
      const unsubscribe = feed.subscribe((notice) => notices.push(notice), resolve)
      cleanup(async () => {
        await unsubscribe()
      })
    })
    const response = await post(
      client,
      'clinetFeedback',
      { deviceName: device.name, deviceSN: device.serialNumber, faceName: 'Announced' },
      'form',
      device
    )
    const deadline = Date.now() + 2000
    while (notices.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    assert.deepEqual(notices, [{ id: response.body().eventId }])
  })

  test('clinetWebResult returns the latest result of that device', async ({ client, assert }) => {
    const device = await DeviceFactory.apply('approved').create()
    const other = await DeviceFactory.apply('approved').create()
    const person = await PersonFactory.merge({ displayName: 'Latest Person' }).create()
    await grant([person], [device])
    const ask = async () => {
      const response = await post(
        client,
        'clinetWebResult',
        { deviceName: device.name, deviceSN: device.serialNumber },
        'form',
        device
      )
      return response.body()
    }

    assert.include(await ask(), { flag: 'clinetwebresult', code: 0, faceName: '', time: 0 })

    const base = Math.floor(DateTime.now().toSeconds()) - 60
    const report = (target: typeof device, faceName: string, time: number, username?: string) =>
      post(
        client,
        'clinetFeedback',
        { deviceName: target.name, deviceSN: target.serialNumber, faceName, time, username },
        'form',
        target
      )
    await report(device, 'Earlier Visitor', base)
    await report(device, 'Latest Person', base + 30, person.username)
    await report(other, 'Elsewhere', base + 50)

    assert.include(await ask(), {
      code: 0,
      faceName: 'Latest Person',
      username: person.username,
      time: base + 30,
      decision: 'granted',
    })
  })
})
