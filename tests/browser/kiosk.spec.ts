import { readFileSync } from 'node:fs'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import sharp from 'sharp'
import type { Page } from 'playwright'
import type { Guidance, PassageReason } from '#terminal-client/agent_contracts'
import { KioskServer } from '#terminal-client/kiosk/kiosk_server'

const strings = {
  en: JSON.parse(readFileSync(app.makePath('resources/lang/en/kiosk.json'), 'utf8')),
  zh: JSON.parse(readFileSync(app.makePath('resources/lang/zh/kiosk.json'), 'utf8')),
}

/** A camera frame: a fixture face, scaled to the size a camera would give. */
async function cameraFrame(width: number, height: number) {
  const { data } = await sharp(app.makePath('tests/fixtures/faces/sheldon.png'))
    .removeAlpha()
    .resize(width, height, { fit: 'cover' })
    .raw()
    .toBuffer({ resolveWithObject: true })
  return { width, height, data: new Uint8Array(data) }
}

async function photo() {
  return sharp(app.makePath('tests/fixtures/faces/sheldon.png')).resize(240, 240).jpeg().toBuffer()
}

/** Where the face box sits on the camera image, as fractions of the image. */
function faceBoxOnImage(page: Page) {
  return page.evaluate(() => {
    const doc = (globalThis as any).document
    const image = doc.querySelector('[data-test="frame"]').getBoundingClientRect()
    const box = doc.querySelector('[data-test="face-box"]').getBoundingClientRect()
    return {
      left: (box.left - image.left) / image.width,
      top: (box.top - image.top) / image.height,
      right: (box.right - image.left) / image.width,
      bottom: (box.bottom - image.top) / image.height,
    }
  })
}

function naturalWidth(page: Page) {
  return page
    .locator('[data-test="frame"]')
    .evaluate((image) => (image as unknown as { naturalWidth: number }).naturalWidth)
}

test.group('Kiosk page', (group) => {
  let server: KioskServer
  group.each.setup(async () => {
    server = new KioskServer({
      port: 0,
      language: 'en',
      deviceName: 'Lobby east',
      serial: 'FA-0042',
    })
    await server.start()
    return () => server.stop()
  })

  test('granted: the verdict, the name and the photo, in English and in Chinese', async ({
    visit,
    assert,
  }) => {
    const photoUrl = server.personPhoto('person-7', await photo())
    server.update({
      connection: 'online',
      result: {
        decision: 'granted',
        reason: 'granted',
        name: 'Sheldon Cooper',
        photoUrl,
        at: Date.now(),
        decidedBy: 'server',
      },
    })
    const page = await visit(`${server.url}/`)
    await page.assertTextContains('[data-test="verdict"]', 'Welcome')
    await page.assertTextContains('[data-test="name"]', 'Sheldon Cooper')
    await page.assertTextContains('[data-test="reason"]', 'Access granted')
    await page.assertTextContains('[data-test="connection"]', 'Online')
    await page.assertNotVisible('[data-test="decided-by"]')
    await page.assertNotVisible('[data-test="guidance"]')
    await page.waitForFunction(
      () => (globalThis as any).document.querySelector('[data-test="photo"]').naturalWidth === 240
    )
    assert.equal(await page.locator('body').getAttribute('data-result'), 'granted')

    server.update({ language: 'zh' })
    await page.assertTextContains('[data-test="verdict"]', '欢迎')
    await page.assertTextContains('[data-test="reason"]', '允许通行')
    await page.assertTextContains('[data-test="connection"]', '在线')
    assert.equal(await page.locator('html').getAttribute('lang'), 'zh-CN')
  })

  test('denied: every reason in words, in both languages, and who decided it', async ({
    visit,
  }) => {
    const page = await visit(`${server.url}/`)
    const reasons: PassageReason[] = [
      'unknown_face',
      'not_authorized',
      'outside_schedule',
      'suspended',
      'expired',
      'spoof',
      'unknown_card',
    ]
    for (const language of ['en', 'zh'] as const) {
      for (const reason of reasons) {
        server.update({
          language,
          result: { decision: 'denied', reason, at: Date.now(), decidedBy: 'terminal' },
        })
        await page.assertTextContains('[data-test="verdict"]', strings[language].denied)
        await page.assertTextContains('[data-test="reason"]', strings[language].reasons[reason])
      }
      await page.assertTextContains('[data-test="decided-by"]', strings[language].decided_here)
    }
    await page.assertTextContains('[data-test="reason"]', '卡片无法识别')
    server.update({ language: 'en', result: undefined })
    await page.assertNotVisible('[data-test="result"]')
    await page.assertTextContains('[data-test="guidance"]', 'Look at the camera to pass')
  })

  test('guidance: every instruction, in both languages', async ({ visit }) => {
    const page = await visit(`${server.url}/`)
    const all: Guidance[] = [
      'come_closer',
      'step_back',
      'look_at_camera',
      'hold_still',
      'too_dark',
      'blink',
      'turn_head',
      'present_card',
      'one_at_a_time',
    ]
    for (const language of ['en', 'zh'] as const) {
      for (const guidance of all) {
        server.update({ language, guidance })
        await page.assertTextContains(
          '[data-test="guidance"]',
          strings[language].guidance[guidance]
        )
      }
    }
    server.update({ language: 'en', guidance: 'come_closer' })
    await page.assertTextContains('[data-test="guidance"]', 'Come closer')
    server.update({ guidance: 'present_card' })
    await page.assertTextContains('[data-test="guidance"]', 'Present your card')
    server.update({ guidance: 'one_at_a_time' })
    await page.assertTextContains('[data-test="guidance"]', 'One person at a time')
  })

  test('pairing: the code in big digits and the serial, until the terminal is paired', async ({
    visit,
    assert,
  }) => {
    server.update({ connection: 'pairing' })
    const page = await visit(`${server.url}/`)
    await page.assertVisible('[data-test="pairing"]')
    await page.assertTextContains('[data-test="pairing"]', 'Connecting to the server')
    server.update({ pairingCode: '482 913' })
    await page.assertTextContains('[data-test="pairing-code"]', '482 913')
    await page.assertTextContains('[data-test="serial"]', 'Serial number FA-0042')
    await page.assertTextContains('[data-test="connection"]', 'Pairing')
    const size = await page
      .locator('[data-test="pairing-code"]')
      .evaluate((element) =>
        Number.parseFloat((globalThis as any).getComputedStyle(element).fontSize)
      )
    assert.isAtLeast(size, 80, 'readable from two metres on a 600-pixel-high screen')

    server.update({ language: 'zh' })
    await page.assertTextContains('[data-test="pairing"]', '配对此终端')
    await page.assertTextContains('[data-test="serial"]', '序列号 FA-0042')
    server.update({ connection: 'online', pairingCode: undefined })
    await page.assertNotVisible('[data-test="pairing"]')
  })

  test('offline: deciding here, with the decisions waiting to be sent', async ({ visit }) => {
    server.update({ connection: 'online' })
    const page = await visit(`${server.url}/`)
    await page.assertNotVisible('[data-test="backlog"]')
    server.update({ connection: 'offline', backlog: 12 })
    await page.assertTextContains('[data-test="connection"]', 'Offline — deciding here')
    await page.assertTextContains('[data-test="backlog"]', '12 to send')
    server.update({ language: 'zh' })
    await page.assertTextContains('[data-test="connection"]', '离线 — 本机判定')
    await page.assertTextContains('[data-test="backlog"]', '12 条待发送')
    server.update({ connection: 'online', backlog: 0 })
    await page.assertTextContains('[data-test="connection"]', '在线')
    await page.assertNotVisible('[data-test="backlog"]')
  })

  test('the language toggle switches the screen until the site chooses another language', async ({
    visit,
  }) => {
    server.update({ connection: 'online', guidance: 'hold_still' })
    const page = await visit(`${server.url}/`)
    await page.assertTextContains('[data-test="guidance"]', 'Hold still')
    await page.locator('[data-test="language"]').click()
    await page.assertTextContains('[data-test="guidance"]', '请保持不动')
    await page.assertTextContains('[data-test="language"]', 'English')
    server.update({ guidance: 'blink' })
    await page.assertTextContains('[data-test="guidance"]', '请眨眨眼')
    server.update({ language: 'zh' })
    server.update({ language: 'en' })
    await page.assertTextContains('[data-test="guidance"]', 'Blink')
  })

  test('the camera image follows the frames and the face box follows the face', async ({
    visit,
    assert,
  }) => {
    const page = await visit(`${server.url}/`)
    await page.assertVisible('[data-test="camera"]')
    await page.assertTextContains('[data-test="camera"]', 'No camera image')

    server.frame(await cameraFrame(640, 480))
    server.update({ face: { left: 160, top: 120, right: 320, bottom: 360 } })
    await page.waitForFunction(
      () => (globalThis as any).document.querySelector('[data-test="frame"]').naturalWidth === 640,
      undefined,
      { timeout: 10_000 }
    )
    await page.assertVisible('[data-test="face-box"]')
    await page.assertNotVisible('[data-test="camera"] .no-camera')
    let box = await faceBoxOnImage(page)
    assert.closeTo(box.left, 0.25, 0.02)
    assert.closeTo(box.top, 0.25, 0.02)
    assert.closeTo(box.right, 0.5, 0.02)
    assert.closeTo(box.bottom, 0.75, 0.02)

    server.frame(await cameraFrame(480, 640))
    server.update({ face: { left: 240, top: 320, right: 480, bottom: 640 } })
    await page.waitForFunction(
      () => (globalThis as any).document.querySelector('[data-test="frame"]').naturalWidth === 480,
      undefined,
      { timeout: 10_000 }
    )
    await page.waitForFunction(() => {
      const doc = (globalThis as any).document
      const image = doc.querySelector('[data-test="frame"]').getBoundingClientRect()
      return Math.abs(image.width / image.height - 0.75) < 0.02
    })
    box = await faceBoxOnImage(page)
    assert.closeTo(box.left, 0.5, 0.02)
    assert.closeTo(box.top, 0.5, 0.02)
    assert.closeTo(box.right, 1, 0.02)
    assert.closeTo(box.bottom, 1, 0.02)
    assert.equal(await naturalWidth(page), 480)

    server.update({ face: undefined })
    await page.assertNotVisible('[data-test="face-box"]')
  })

  test('the page finds the agent again after it restarts', async ({ visit }) => {
    server.update({ connection: 'online' })
    const page = await visit(`${server.url}/`)
    await page.assertTextContains('[data-test="device-name"]', 'Lobby east')
    await page.assertNotVisible('[data-test="lost"]')

    const port = Number(new URL(server.url).port)
    await server.stop()
    await page.assertVisible('[data-test="lost"]')
    await page.assertTextContains('[data-test="lost"]', 'Waiting for the terminal')

    server = new KioskServer({ port, language: 'zh', deviceName: 'Lobby west' })
    await server.start()
    server.update({ connection: 'offline', guidance: 'come_closer' })
    await page.assertTextContains('[data-test="device-name"]', 'Lobby west')
    await page.assertTextContains('[data-test="guidance"]', '请靠近一点')
    await page.assertNotVisible('[data-test="lost"]')
  })
})
