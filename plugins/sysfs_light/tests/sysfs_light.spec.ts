import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from '@japa/runner'
import { createPluginHarness } from '#plugin-sdk'
import sysfsLight from '../plugin.js'
import SysfsLightSimulator from '../simulator.js'

test.group('Sysfs light', (group) => {
  let folder: string

  group.each.setup(async () => {
    folder = await mkdtemp(join(tmpdir(), 'sysfs-light-'))
    return () => rm(folder, { recursive: true, force: true })
  })

  test('an LED: brightness from the level, dark when off and after start', async ({ assert }) => {
    const simulator = new SysfsLightSimulator()
    const light = await createPluginHarness(sysfsLight, await simulator.start())
    await writeFile(join(simulator.folder, 'brightness'), '200\n')
    await light.start()
    assert.equal(await simulator.brightness(), 0)
    await light.call((driver) => driver.set({ on: true, level: 50 }))
    assert.equal(await simulator.brightness(), 128)
    await light.call((driver) => driver.set({ on: true, level: 0 }))
    assert.equal(await simulator.brightness(), 1, 'on is never dark')
    await light.call((driver) => driver.set({ on: false }))
    assert.equal(await simulator.brightness(), 0)
    const health = await light.health()
    assert.equal(health.status, 'ok')
    assert.equal(health.details?.brightness, '0')
    await simulator.stop()
  })

  test('a GPIO: set as an output, 1 for on, inverted when active low', async ({ assert }) => {
    await writeFile(join(folder, 'value'), '0\n')
    await writeFile(join(folder, 'direction'), 'in\n')
    const light = await createPluginHarness(sysfsLight, { path: folder, activeLow: true })
    await light.start()
    assert.equal(await readFile(join(folder, 'direction'), 'utf8'), 'out')
    assert.equal(await readFile(join(folder, 'value'), 'utf8'), '1\n', 'dark: high')
    await light.call((driver) => driver.set({ on: true, level: 30 }))
    assert.equal(await readFile(join(folder, 'value'), 'utf8'), '0\n')
    assert.deepEqual(await light.driver.state(), { on: true, level: 30, color: null })
  })

  test('a folder that is neither cannot start, and says why', async ({ assert }) => {
    const light = await createPluginHarness(sysfsLight, { path: folder })
    await assert.rejects(
      () => light.start(),
      /neither an LED \(no brightness file\) nor an exported GPIO/
    )
  })
})
