import { copyFile, mkdir, readFile, rm } from 'node:fs/promises'
import { dirname } from 'node:path'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import AuditLog from '#models/audit_log'
import Face from '#models/face'
import { PersonFactory } from '#database/factories/person_factory'
import { DeviceFactory } from '#database/factories/device_factory'
import { defaultEmbedder } from '#plugins/face_engine/embedder'
import { commandLineActor } from '#services/audit_trail'
import { FaceDbRevision } from '#faces/face_db_revision'
import { FaceReembedding } from '#faces/face_reembedding'
import { GalleryIndex } from '#faces/gallery_index'
import { addFace, grant, post, resetTerminalState, tokenFor } from '#tests/helpers/terminal'

/** A stored enrolment photo, as enrolment keeps it, from a fixture. */
async function storedPhoto(fixture: string) {
  const path = `tmp/storage/faces/test/${fixture}`
  await mkdir(dirname(app.makePath(path)), { recursive: true })
  await copyFile(app.makePath('tests/fixtures/pairs', fixture), app.makePath(path))
  return path
}

test.group('Re-embedding faces after a change of model', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())
  group.each.teardown(() =>
    rm(app.makePath('tmp/storage/faces/test'), { recursive: true, force: true })
  )

  test('faces of another model are redone from their photos and identified again; those without a photo are counted', async ({
    client,
    assert,
  }) => {
    const device = await DeviceFactory.apply('approved').create()
    const kit = await PersonFactory.merge({ username: 'kit' }).create()
    const nobody = await PersonFactory.merge({ username: 'no.photo' }).create()
    await grant([kit, nobody], [device])
    const old = await addFace(kit, { imagePath: await storedPhoto('kit_harington_01.jpg') })
    await addFace(nobody)
    const identify = async () => {
      const response = await post(
        client,
        'faceIdentify',
        { token: await tokenFor(client, device) },
        'multipart',
        device,
        {
          image: {
            data: await readFile(app.makePath('tests/fixtures/pairs/kit_harington_02.jpg')),
          },
        }
      )
      return response.body()
    }
    const gallery = await app.container.make(GalleryIndex)
    await gallery.forget()
    const before = await identify()
    assert.include(before, { decision: 'denied', reason: 'unknown_face', person: null })
    const revision = await new FaceDbRevision().current()

    const reembedding = await app.container.make(FaceReembedding)
    const report = await reembedding.run(commandLineActor())

    assert.deepInclude(report, {
      model: defaultEmbedder,
      reembedded: 1,
      withoutPhoto: 1,
      failed: [],
    })
    const redone = await Face.findOrFail(old.id)
    assert.include(redone.$attributes, { modelId: defaultEmbedder, dimension: 512 })
    await kit.refresh()
    assert.isAbove(Number(kit.revision), revision)
    assert.exists(await AuditLog.findBy('action', 'face.reembed'))

    const after = await identify()
    assert.include(after, { decision: 'granted' })
    assert.equal(after.person.username, 'kit')

    const again = await reembedding.run(commandLineActor())
    assert.include(again, { reembedded: 0, current: 1, withoutPhoto: 1 })
  })
})
