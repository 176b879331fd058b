import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import hash from '@adonisjs/core/services/hash'
import testUtils from '@adonisjs/core/services/test_utils'
import User from '#models/user'
import AuditLog from '#models/audit_log'
import { UserFactory } from '#database/factories/user_factory'
import { DeviceFactory } from '#database/factories/device_factory'
import { DeviceCredentials } from '#services/device_credentials'

/**
 * The kernel from the container runs commands in this process, against the
 * test database and inside the global transaction. Raw mode keeps their
 * output in memory for assertions instead of printing it.
 */
async function aceKernel() {
  const ace = await app.container.make('ace')
  ace.ui.switchMode('raw')
  return ace
}

test.group('Ace commands', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.teardown(async () => {
    const ace = await aceKernel()
    ace.ui.logger.flushLogs()
  })

  test('device:approve approves a device, prints its credential and records the command-line user', async ({
    assert,
  }) => {
    const device = await DeviceFactory.merge({ name: 'Lobby', serialNumber: 'SN-CLI-1' }).create()
    const ace = await aceKernel()

    const command = await ace.exec('device:approve', ['SN-CLI-1'])

    command.assertSucceeded()
    command.assertLogMatches(
      /Lobby \(SN-CLI-1\) is approved; it may call: recognition, database, feedback/
    )
    await device.refresh()
    assert.equal(device.status, 'approved')
    const secret = DeviceCredentials.secretOf(device)
    assert.match(secret!, /^fa1_/)
    command.assertLog(secret!)
    const entry = await AuditLog.findByOrFail('action', 'device.approve')
    assert.isNull(entry.userId)
    assert.match(entry.actor, /^cli:/)
    assert.deepEqual(entry.after, { status: 'approved' })
    assert.exists(await AuditLog.findBy('action', 'device.credential.issue'))
  })

  test('device:approve --legacy --allow pins the device to its last address and prints no secret', async ({
    assert,
  }) => {
    const device = await DeviceFactory.merge({
      serialNumber: 'SN-CLI-OLD',
      lastSeenAddress: '10.0.0.5',
    }).create()
    const ace = await aceKernel()

    const command = await ace.exec('device:approve', [
      'SN-CLI-OLD',
      '--legacy',
      '--allow=recognition,feedback',
    ])

    command.assertSucceeded()
    command.assertLogMatches(/is approved; it may call: recognition, feedback/)
    command.assertLogMatches(/only from 10\.0\.0\.5/)
    await device.refresh()
    assert.equal(device.status, 'approved')
    assert.isTrue(device.legacyMode)
    assert.equal(device.pinnedAddress, '10.0.0.5')
    assert.deepEqual(device.permissions, ['recognition', 'feedback'])
    assert.isFalse(device.hasCredential)
    const logs = command.logger.getLogs().map((log) => log.message)
    assert.notMatch(logs.join('\n'), /fa1_/)
    assert.exists(await AuditLog.findBy('action', 'device.access'))
  })

  test('device:approve --legacy needs an address for a device that never called', async ({
    assert,
  }) => {
    const device = await DeviceFactory.merge({ serialNumber: 'SN-CLI-NEW' }).create()
    const ace = await aceKernel()

    const command = await ace.exec('device:approve', ['SN-CLI-NEW', '--legacy'])

    command.assertExitCode(1)
    command.assertLogMatches(/has never called, so there is no address to pin it to/, 'stderr')
    await device.refresh()
    assert.equal(device.status, 'pending')
    assert.isFalse(device.legacyMode)
    assert.isNull(device.pinnedAddress)
    assert.isNull(device.permissions)
    assert.isFalse(device.hasCredential)
    assert.isNull(await AuditLog.query().first())
  })

  test('device:approve --address pins a legacy device to that address', async ({ assert }) => {
    const fresh = await DeviceFactory.merge({ serialNumber: 'SN-CLI-PIN' }).create()
    const legacy = await DeviceFactory.apply('legacy')
      .merge({ serialNumber: 'SN-CLI-MOVED' })
      .create()
    const ace = await aceKernel()

    const pinned = await ace.exec('device:approve', [
      'SN-CLI-PIN',
      '--legacy',
      '--address=10.0.0.9',
    ])
    const moved = await ace.exec('device:approve', ['SN-CLI-MOVED', '--address=10.0.0.9'])

    pinned.assertSucceeded()
    moved.assertSucceeded()
    pinned.assertLogMatches(/only from 10\.0\.0\.9/)
    for (const device of [fresh, legacy]) {
      await device.refresh()
      assert.equal(device.status, 'approved')
      assert.isTrue(device.legacyMode)
      assert.equal(device.pinnedAddress, '10.0.0.9')
      assert.deepEqual(device.allowed, ['recognition', 'database', 'feedback'])
      assert.isFalse(device.hasCredential)
    }
  })

  test('device:approve refuses a permission it does not know', async ({ assert }) => {
    const device = await DeviceFactory.merge({ serialNumber: 'SN-CLI-BOGUS' }).create()
    const ace = await aceKernel()

    const command = await ace.exec('device:approve', ['SN-CLI-BOGUS', '--allow=bogus'])

    command.assertExitCode(1)
    command.assertLogMatches(/Unknown permission bogus/, 'stderr')
    await device.refresh()
    assert.equal(device.status, 'pending')
    assert.isNull(device.permissions)
    assert.isNull(await AuditLog.query().first())
  })

  test('device:block blocks an approved device', async ({ assert }) => {
    const device = await DeviceFactory.apply('approved')
      .merge({ serialNumber: 'SN-CLI-2' })
      .create()
    const ace = await aceKernel()

    const command = await ace.exec('device:block', ['SN-CLI-2'])

    command.assertSucceeded()
    await device.refresh()
    assert.equal(device.status, 'blocked')
    assert.exists(await AuditLog.findBy('action', 'device.block'))
  })

  test('an unknown serial number is an error with exit code 1', async ({ assert }) => {
    const ace = await aceKernel()

    const approve = await ace.exec('device:approve', ['NO-SUCH-SERIAL'])
    const block = await ace.exec('device:block', ['NO-SUCH-SERIAL'])

    approve.assertExitCode(1)
    block.assertExitCode(1)
    approve.assertLogMatches(/No device has the serial number "NO-SUCH-SERIAL"/, 'stderr')
    assert.isNull(await AuditLog.query().first())
  })

  test('device:list shows every device with its status, mode, proof and permissions', async () => {
    await DeviceFactory.merge({ name: 'Lobby', serialNumber: 'SN-LOBBY' }).create()
    await DeviceFactory.apply('blocked').merge({ name: 'Dock', serialNumber: 'SN-DOCK' }).create()
    await DeviceFactory.apply('approved').merge({ name: 'Gate', serialNumber: 'SN-GATE' }).create()
    await DeviceFactory.apply('approved')
      .apply('legacy')
      .merge({ name: 'Old', serialNumber: 'SN-OLD', permissions: ['recognition'] })
      .create()
    const ace = await aceKernel()

    const command = await ace.exec('device:list', [])

    command.assertSucceeded()
    command.assertLogMatches(/Lobby.*SN-LOBBY.*pending.*online.*none yet.*never/)
    command.assertLogMatches(/Dock.*SN-DOCK.*blocked/)
    command.assertLogMatches(/Gate.*SN-GATE.*approved.*signed.*recognition, database, feedback/)
    command.assertLogMatches(/Old.*SN-OLD.*approved.*legacy from 127\.0\.0\.1.*recognition\b(?!,)/)
  })

  test('operator:create makes an account that signs in with its hashed password', async ({
    assert,
  }) => {
    const ace = await aceKernel()

    const command = await ace.exec('operator:create', [
      'Night.Shift@Example.com',
      '--role=auditor',
      '--password=correct horse battery staple',
      '--name=Night Shift',
    ])

    command.assertSucceeded()
    const user = await User.verifyCredentials(
      'night.shift@example.com',
      'correct horse battery staple'
    )
    assert.equal(user.role, 'auditor')
    assert.equal(user.fullName, 'Night Shift')
    assert.notEqual(user.password, 'correct horse battery staple')
    assert.isTrue(hash.isValidHash(user.password))
    const entry = await AuditLog.findByOrFail('action', 'operator.create')
    assert.match(entry.actor, /^cli:/)
    assert.equal(entry.subjectLabel, 'night.shift@example.com')
    assert.notProperty(entry.after, 'password')
  })

  test('operator:create asks for the role and password it was not given', async ({ assert }) => {
    const ace = await aceKernel()
    ace.prompt.trap('Role').replyWith('auditor')
    ace.prompt.trap('Password (at least 12 characters)').replyWith('a long enough secret')
    ace.prompt.trap('Repeat the password').replyWith('a long enough secret')

    const command = await ace.exec('operator:create', ['first@example.com'])

    command.assertSucceeded()
    const user = await User.verifyCredentials('first@example.com', 'a long enough secret')
    assert.equal(user.role, 'auditor')
    assert.equal(user.fullName, 'first')
  })

  test('operator:create refuses an email that is taken', async ({ assert }) => {
    await UserFactory.merge({ email: 'taken@example.com' }).create()
    const ace = await aceKernel()

    const command = await ace.exec('operator:create', [
      'Taken@example.com',
      '--role=operator',
      '--password=correct horse battery staple',
    ])

    command.assertExitCode(1)
    command.assertLogMatches(/already exists/, 'stderr')
    assert.lengthOf(await User.query().where('email', 'taken@example.com'), 1)
    assert.isNull(await AuditLog.findBy('action', 'operator.create'))
  })

  test('operator:create rejects a short password and an unknown role', async ({ assert }) => {
    const ace = await aceKernel()

    const command = await ace.exec('operator:create', [
      'new@example.com',
      '--role=owner',
      '--password=short',
    ])

    command.assertExitCode(1)
    command.assertLogMatches(/password field must have at least 12 characters/, 'stderr')
    command.assertLogMatches(/role/, 'stderr')
    assert.isNull(await User.findBy('email', 'new@example.com'))
  })
})
