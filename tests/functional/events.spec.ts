import { readFile } from 'node:fs/promises'
import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import AccessEvent from '#models/access_event'
import type Device from '#models/device'
import type Person from '#models/person'
import { UserFactory } from '#database/factories/user_factory'
import { DeviceFactory } from '#database/factories/device_factory'
import { PersonFactory } from '#database/factories/person_factory'
import { MediaStore } from '#faces/media_store'
import { post, resetTerminalState, serverUrl } from '#tests/helpers/terminal'

function eventAt(
  minutesAgo: number,
  values: Partial<Pick<AccessEvent, 'decision' | 'reason' | 'reportedName' | 'snapshotPath'>> & {
    device?: Device
    person?: Person
  } = {}
) {
  const occurredAt = DateTime.now().minus({ minutes: minutesAgo })
  return AccessEvent.create({
    deviceId: values.device?.id ?? null,
    personId: values.person?.id ?? null,
    decision: values.decision ?? 'granted',
    reason: values.reason ?? 'granted',
    reportedName: values.reportedName ?? null,
    snapshotPath: values.snapshotPath ?? null,
    method: 'face',
    occurredAt,
    receivedAt: occurredAt,
  })
}

/**
 * A real sign-in through the form, for requests the API client cannot
 * make: it waits for whole responses, and an event stream never ends.
 */
async function signIn(email: string) {
  const page = await fetch(`${serverUrl}/login`)
  const cookies = page.headers.getSetCookie()
  const html = await page.text()
  const csrf = html.match(/name=['"]_csrf['"] value=['"]([^'"]+)['"]/)![1]
  const response = await fetch(`${serverUrl}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'cookie': cookies.map((cookie) => cookie.split(';')[0]).join('; '),
    },
    body: new URLSearchParams({
      _csrf: csrf,
      email,
      password: 'correct horse battery staple',
    }).toString(),
  })
  const jar = new Map<string, string>()
  for (const cookie of [...cookies, ...response.headers.getSetCookie()]) {
    const pair = cookie.split(';')[0]
    jar.set(pair.slice(0, pair.indexOf('=')), pair)
  }
  return [...jar.values()].join('; ')
}

/** Reads server-sent events from a stream until `count` have arrived. */
async function readEvents(
  response: Response,
  count: number,
  timeoutMs = 3000
): Promise<{ id: string; event: string; data: { id: number; html: string } }[]> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
  const events: { id: string; event: string; data: { id: number; html: string } }[] = []
  let buffer = ''
  const deadline = Date.now() + timeoutMs
  while (events.length < count && Date.now() < deadline) {
    const chunk = await Promise.race([
      reader.read(),
      new Promise<{ done: true; value: undefined }>((resolve) =>
        setTimeout(() => resolve({ done: true, value: undefined }), deadline - Date.now())
      ),
    ])
    if (chunk.done) break
    buffer += chunk.value
    let end = buffer.indexOf('\n\n')
    while (end >= 0) {
      const frame = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      const fields = Object.fromEntries(
        frame
          .split('\n')
          .filter((line) => !line.startsWith(':') && line.includes(': '))
          .map((line) => [line.slice(0, line.indexOf(': ')), line.slice(line.indexOf(': ') + 2)])
      )
      if (fields.event)
        events.push({ id: fields.id, event: fields.event, data: JSON.parse(fields.data) })
      end = buffer.indexOf('\n\n')
    }
  }
  await reader.cancel()
  return events
}

/** Opens the event stream and waits until it is subscribed. */
async function openStream(cookie: string, query = '', headers: Record<string, string> = {}) {
  const controller = new AbortController()
  const response = await fetch(`${serverUrl}/admin/events/stream${query}`, {
    headers: { cookie, ...headers },
    signal: controller.signal,
  })
  const tee = response.body!.tee()
  const probe = tee[0].pipeThrough(new TextDecoderStream()).getReader()
  let seen = ''
  while (!seen.includes(': connected')) {
    const { value, done } = await probe.read()
    if (done) break
    seen += value
  }
  void probe.cancel()
  return {
    response: new Response(tee[1], { headers: response.headers, status: response.status }),
    close: () => controller.abort(),
  }
}

test.group('Events page', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())

  test('lists events newest first, fifty to a page, without JavaScript', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const device = await DeviceFactory.apply('approved').create()
    for (let minutes = 60; minutes > 0; minutes--) await eventAt(minutes, { device })

    const first = await client.get('/admin/events').loginAs(operator)
    first.assertStatus(200)
    const html = first.text()
    const ids = [...html.matchAll(/data-event-id="(\d+)"/g)].map((match) => Number(match[1]))
    assert.lengthOf(ids, 50)
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => b - a)
    )
    assert.include(html, 'src="/js/events_live.js"')
    assert.include(html, 'data-stream-url="/admin/events/stream"')
    assert.include(html, 'rel="next"')

    const second = await client.get('/admin/events').qs({ page: 2 }).loginAs(operator)
    assert.lengthOf([...second.text().matchAll(/data-event-id=/g)], 10)
    assert.notInclude(second.text(), 'events_live.js')
  })

  test("a faceIdentify event shows its score beside the threshold and the next person's", async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const device = await DeviceFactory.apply('approved').create()
    const identified = await AccessEvent.create({
      deviceId: device.id,
      decision: 'denied',
      reason: 'unknown_face',
      method: 'face',
      score: 0.83,
      runnerUpScore: 0.81,
      threshold: 0.7998,
      occurredAt: DateTime.now(),
      receivedAt: DateTime.now(),
    })
    const reported = await eventAt(1, { device })

    const page = await client.get('/admin/events').loginAs(operator)
    const rowOf = (id: number) =>
      page.text().match(new RegExp(`data-event-id="${id}"[\\s\\S]*?</tr>`))![0]
    assert.include(rowOf(identified.id), '0.83')
    assert.include(rowOf(identified.id), '(needed 0.80, next 0.81)')
    assert.notInclude(rowOf(reported.id), 'needed')
  })

  test('filters by decision, device and person', async ({ client, assert }) => {
    const auditor = await UserFactory.apply('auditor').create()
    const lobby = await DeviceFactory.apply('approved').merge({ name: 'Lobby east' }).create()
    const garage = await DeviceFactory.apply('approved').merge({ name: 'Garage' }).create()
    const ada = await PersonFactory.merge({ displayName: 'Ada Lovelace' }).create()
    const granted = await eventAt(5, { device: lobby, person: ada })
    const denied = await eventAt(4, { device: garage, decision: 'denied', reason: 'unknown_face' })
    const reported = await eventAt(3, {
      device: garage,
      decision: 'denied',
      reason: 'unknown_face',
      reportedName: 'Ada L.',
    })

    const idsFor = async (qs: Record<string, string>) => {
      const response = await client.get('/admin/events').qs(qs).loginAs(auditor)
      response.assertStatus(200)
      return [...response.text().matchAll(/data-event-id="(\d+)"/g)].map((match) =>
        Number(match[1])
      )
    }
    assert.deepEqual(await idsFor({ decision: 'denied' }), [reported.id, denied.id])
    assert.deepEqual(await idsFor({ device: 'lobby' }), [granted.id])
    assert.deepEqual(await idsFor({ person: 'ada' }), [reported.id, granted.id])
    assert.deepEqual(await idsFor({ person: 'ada', decision: 'granted', device: 'EAST' }), [
      granted.id,
    ])
    assert.deepEqual(await idsFor({ person: '%' }), [])

    const stream = await client.get('/admin/events').qs({ decision: 'granted' }).loginAs(auditor)
    assert.include(stream.text(), 'data-stream-url="/admin/events/stream?decision=granted"')
    const invalid = await client
      .get('/admin/events')
      .qs({ decision: 'maybe' })
      .loginAs(auditor)
      .redirects(0)
    invalid.assertStatus(302)
  })

  test('only signed-in operators see events and snapshots', async ({ client, assert }) => {
    const page = await client.get('/admin/events').redirects(0)
    page.assertStatus(302)
    const stream = await fetch(`${serverUrl}/admin/events/stream`, { redirect: 'manual' })
    assert.equal(stream.status, 302)
    await stream.body?.cancel()

    const bytes = await readFile(app.makePath('tests/fixtures/faces/penny.png'))
    const snapshotPath = await new MediaStore().saveSnapshot(bytes, 'png')
    const event = await eventAt(1, { snapshotPath })
    const anonymous = await client.get(`/admin/events/${event.id}/snapshot`).redirects(0)
    anonymous.assertStatus(302)

    const operator = await UserFactory.create()
    const list = await client.get('/admin/events').loginAs(operator)
    assert.include(list.text(), `/admin/events/${event.id}/snapshot`)
    const snapshot = await fetch(`${serverUrl}/admin/events/${event.id}/snapshot`, {
      headers: { cookie: await signIn(operator.email) },
    })
    assert.equal(snapshot.status, 200)
    assert.equal(snapshot.headers.get('content-type'), 'image/png')
    assert.isTrue(Buffer.from(await snapshot.arrayBuffer()).equals(bytes))

    const without = await eventAt(1)
    const missing = await client.get(`/admin/events/${without.id}/snapshot`).loginAs(operator)
    missing.assertStatus(404)
  })

  test('new events reach the open page over server-sent events, as rows', async ({
    client,
    assert,
    cleanup,
  }) => {
    const operator = await UserFactory.create()
    const device = await DeviceFactory.apply('approved').create()
    const cookie = await signIn(operator.email)
    const stream = await openStream(cookie)
    cleanup(() => stream.close())
    assert.equal(stream.response.status, 200)
    assert.equal(stream.response.headers.get('content-type'), 'text/event-stream; charset=utf-8')

    const feedback = await post(
      client,
      'clinetFeedback',
      { deviceName: device.name, deviceSN: device.serialNumber, faceName: 'Live Visitor' },
      'form',
      device
    )
    const [event] = await readEvents(stream.response, 1)
    assert.equal(event.event, 'access')
    assert.equal(Number(event.id), feedback.body().eventId)
    assert.equal(event.data.id, feedback.body().eventId)
    assert.match(
      event.data.html,
      new RegExp(`^<tr data-test="event-row" data-event-id="${event.data.id}"`)
    )
    assert.include(event.data.html, '“Live Visitor”')
    assert.include(event.data.html, device.name)
  })

  test('the stream keeps to the page filters and replays what a reconnecting page missed', async ({
    client,
    assert,
    cleanup,
  }) => {
    const operator = await UserFactory.create()
    const device = await DeviceFactory.apply('approved').create()
    const person = await PersonFactory.create()
    const cookie = await signIn(operator.email)
    const before = await eventAt(2, { device })
    const missed = await eventAt(1, { device, person })

    const replay = await openStream(cookie, '', { 'last-event-id': String(before.id) })
    cleanup(() => replay.close())
    const replayed = await readEvents(replay.response, 1)
    assert.deepEqual(
      replayed.map((event) => event.data.id),
      [missed.id]
    )

    const grantedOnly = await openStream(cookie, '?decision=granted')
    cleanup(() => grantedOnly.close())
    const stranger = await post(
      client,
      'clinetFeedback',
      { deviceName: device.name, deviceSN: device.serialNumber, faceName: 'Stranger' },
      'form',
      device
    )
    assert.include(stranger.body(), { code: 0, decision: 'denied' })
    assert.deepEqual(await readEvents(grantedOnly.response, 1, 800), [])
  })
})
