import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import limiter from '@adonisjs/limiter/services/main'
import Face from '#models/face'
import Person from '#models/person'
import { PersonFactory } from '#database/factories/person_factory'
import { UserFactory } from '#database/factories/user_factory'
import { resetTerminalState } from '#tests/helpers/terminal'
import { loopedClip } from '#tests/helpers/video_clips'

const clips = app.makePath('tmp', `video_browser_${process.pid}`)

test.group('Video registration in the browser', (group) => {
  group.setup(async () => {
    await mkdir(clips, { recursive: true })
    // Twelve seconds of the faces-dev clip: long enough to watch its progress.
    loopedClip(
      app.makePath('tests/fixtures/video/Lin-Manuel_Miranda_single_face.mp4'),
      join(clips, 'lin.mp4'),
      { seconds: 12 }
    )
    return () => rm(clips, { recursive: true, force: true })
  })
  group.each.setup(() => limiter.clear(['memory']))
  group.each.setup(() => resetTerminalState())
  group.each.teardown(async () => {
    await Person.query().where('username', 'like', 'video.browser%').delete()
    await resetTerminalState()
  })

  test('an upload on the person page shows its progress live, then the enrolled frames', async ({
    browserContext,
    visit,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const person = await PersonFactory.apply('consented')
      .merge({ username: 'video.browser', displayName: 'Lin-Manuel Miranda' })
      .create()
    await browserContext.loginAs(operator)

    const page = await visit(`/admin/people/${person.id}/edit`)
    await page.locator('#field-video').setInputFiles(join(clips, 'lin.mp4'))
    await page.getByRole('button', { name: 'Upload the video' }).click()
    await page.assertTextContains('body', 'The video is being read')
    await page.waitForURL(/#person-video$/)

    // Marks this page load: the progress below must come without a reload.
    await page.evaluate(() => ((globalThis as any).loadMark = 'before-progress'))
    await page.waitForFunction(
      () => {
        const counters = (globalThis as any).document.querySelector('[data-test="video-counters"]')
        return Number(/^\d+/.exec(counters?.textContent?.trim() ?? '')?.[0] ?? 0) > 0
      },
      undefined,
      { timeout: 60_000 }
    )
    await page.locator('[data-test="video-best-frame"]').first().waitFor({ timeout: 60_000 })
    assert.equal(await page.evaluate(() => (globalThis as any).loadMark), 'before-progress')
    assert.isTrue(
      await page
        .locator('[data-test="video-best-frame"]')
        .first()
        .evaluate((element) => {
          const image = element as unknown as { complete: boolean; naturalWidth: number }
          return image.complete && image.naturalWidth === 96
        }),
      'the thumbnail of a best frame so far loads'
    )

    // The page reloads itself when the job ends, showing the enrolled frames and faces.
    await page.locator('[data-test="video-enrolled-frame"]').first().waitFor({ timeout: 120_000 })
    await page.assertElementsCount('[data-test="video-enrolled-frame"]', 3)
    await page.assertTextContains('[data-test="video-status"]', 'Enrolled')
    await page.assertElementsCount('[data-test="face-row"]', 3)
    await page.assertTextContains('[data-test="person-faces"]', 'Video')
    assert.lengthOf(await Face.query().where('person_id', person.id).where('source', 'video'), 3)
  }).timeout(180_000)
})
