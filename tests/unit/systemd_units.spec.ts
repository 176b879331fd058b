import { test } from '@japa/runner'
import {
  serviceSettingsProblems,
  serviceUnits,
  terminalSettingsProblems,
  terminalUnit,
  unitMarker,
} from '#services/systemd_units'

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

  test('a terminal agent: terminal:run with its configuration, restarted whenever it ends, without .env', ({
    assert,
  }) => {
    const unit = terminalUnit({
      name: 'faceaccess',
      user: 'faceaccess',
      appRoot: '/opt/faceaccess',
      configFile: '/etc/faceaccess/terminal.json',
      dataDir: '/var/lib/faceaccess-terminal',
    })
    assert.equal(unit.fileName, 'faceaccess-terminal.service')
    assert.isTrue(unit.text.startsWith(unitMarker))
    const lines = unit.text.split('\n')
    for (const line of [
      'Description=FaceAccess terminal agent (/etc/faceaccess/terminal.json)',
      'After=network-online.target',
      'User=faceaccess',
      'WorkingDirectory=/opt/faceaccess',
      // Read when there is one: a terminal has no server .env.
      'EnvironmentFile=-/opt/faceaccess/.env',
      'ExecStart=/opt/faceaccess/node_modules/.bin/node ace.js terminal:run --config /etc/faceaccess/terminal.json',
      // Exit code 75 (an operator's "Restart agent") as much as a crash.
      'Restart=always',
      'SyslogIdentifier=faceaccess-terminal',
      'SupplementaryGroups=video dialout',
      'ReadWritePaths=/var/lib/faceaccess-terminal',
      'UMask=0077',
      'NoNewPrivileges=true',
      'PrivateTmp=true',
      'ProtectSystem=full',
      'WantedBy=multi-user.target',
    ]) {
      assert.include(lines, line)
    }
    // What would hide the camera, the serial ports or /sys/class/leds from the agent.
    for (const setting of [
      'PrivateDevices',
      'DevicePolicy',
      'ProtectKernelTunables',
      'ProtectSystem=strict',
      'Restart=on-failure',
      'redis-server',
    ]) {
      assert.notInclude(unit.text, setting)
    }
  })

  test('a terminal whose paths a unit would need quoted is refused', ({ assert }) => {
    const terminal = {
      name: 'faceaccess',
      user: 'faceaccess',
      appRoot: '/opt/faceaccess',
      configFile: '/etc/faceaccess/terminal.json',
      dataDir: '/var/lib/faceaccess',
    }
    assert.deepEqual(terminalSettingsProblems(terminal), [])
    const problems = terminalSettingsProblems({
      ...terminal,
      configFile: '/etc/face access/terminal.json',
      dataDir: '/var/lib/%i',
    })
    assert.deepEqual(
      problems.map((problem) => problem.split(' has ')[0]),
      ['The configuration file /etc/face access/terminal.json', "The agent's dataDir /var/lib/%i"]
    )
  })
})
