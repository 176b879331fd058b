import { test } from '@japa/runner'
import { serviceSettingsProblems, serviceUnits, unitMarker } from '#services/systemd_units'

const settings = {
  name: 'faceaccess',
  user: 'faceaccess',
  appRoot: '/opt/faceaccess',
  worker: false,
}

test.group('systemd units', () => {
  test('the server alone, or with a worker beside it', ({ assert }) => {
    assert.deepEqual(
      serviceUnits(settings).map((unit) => unit.fileName),
      ['faceaccess.service']
    )
    const [server, worker] = serviceUnits({ ...settings, worker: true })
    assert.equal(worker.fileName, 'faceaccess-worker.service')
    for (const unit of [server, worker]) {
      assert.isTrue(unit.text.startsWith(unitMarker))
      assert.include(unit.text, '\nEnvironmentFile=/opt/faceaccess/.env\n')
      assert.include(unit.text, '\nWorkingDirectory=/opt/faceaccess\n')
      assert.include(unit.text, '\nUMask=0077\n')
    }
    assert.include(
      server.text,
      '\nExecStart=/opt/faceaccess/node_modules/.bin/node bin/server.js\n'
    )
    assert.include(
      worker.text,
      '\nExecStart=/opt/faceaccess/node_modules/.bin/node ace.js queue:work\n'
    )
    assert.notInclude(server.text, 'Environment=')
  })

  test('the memory allocator is set before .env is read, in the server and the worker', ({
    assert,
  }) => {
    const environment = { LD_PRELOAD: '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2' }
    for (const unit of serviceUnits({ ...settings, worker: true, environment })) {
      assert.include(
        unit.text,
        '\nEnvironment=LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2\nEnvironmentFile=/opt/faceaccess/.env\n'
      )
    }
  })

  test('names and paths that a unit would need quoted are refused', ({ assert }) => {
    assert.deepEqual(serviceSettingsProblems(settings), [])
    const problems = serviceSettingsProblems({
      name: 'Face Access',
      user: 'face$',
      appRoot: '/opt/face access',
      worker: false,
    })
    assert.lengthOf(problems, 3)
    assert.match(
      problems[2],
      /^The install folder \/opt\/face access has spaces or special characters/
    )
    assert.lengthOf(serviceSettingsProblems({ ...settings, appRoot: '/opt/%n' }), 1)
  })
})
