import { inject } from '@adonisjs/core'
import Device from '#models/device'
import type { PluginKind } from '#plugin-host/contracts'
import { PluginHost } from '#plugin-host/plugin_host'
import { AuditTrail, type Actor } from '#services/audit_trail'
import { defaultOpenSeconds, doorSettingOf } from '#services/doors/door_setting'

/** The test buttons of each kind of instance. */
export const instanceTests = {
  gate: ['pulse', 'inputs'],
  reader: ['card'],
  light: ['on', 'off'],
  engine: [],
} as const satisfies Record<PluginKind, readonly string[]>

export type InstanceTest = (typeof instanceTests)[keyof typeof instanceTests][number]

/** How long "Read a card" waits for a card. */
export const cardWaitMs = 10_000

export type TestOutcome =
  | { ok: true; test: InstanceTest; answer: unknown }
  | { ok: false; test: InstanceTest; error: string }

/**
 * The Settings pages' test buttons: each goes through the running,
 * supervised instance (never a port of its own), answers with what the
 * driver said (or its error) and is audited.
 *
 * - gate `pulse`: opens for the open time of the first device whose door
 *   it is (else the default), then its state;
 * - gate `inputs`: the door contact and exit button as read now;
 * - reader `card`: the next card held to it within `cardWaitMs`;
 * - light `on` / `off`: switches it, then its state.
 */
@inject()
export class PluginInstanceTests {
  constructor(
    private host: PluginHost,
    private audit: AuditTrail
  ) {}

  /** Null when the instance is not in the plugins file or has no such test. */
  async run(actor: Actor, id: string, test: string): Promise<TestOutcome | null> {
    const instance = this.host.instance(id)
    const kind = instance?.kind
    if (!instance || !kind || !(instanceTests[kind] as readonly string[]).includes(test)) {
      return null
    }
    const known = test as InstanceTest
    let outcome: TestOutcome
    try {
      outcome = { ok: true, test: known, answer: await this.#answer(id, known) }
    } catch (error) {
      outcome = { ok: false, test: known, error: (error as Error).message }
    }
    await this.audit.record(actor, {
      action: 'plugin.test',
      subjectType: 'plugin_instance',
      subjectId: id,
      subjectLabel: `${id} (${instance.pluginId})`,
      after: outcome.ok
        ? { test: known, answer: outcome.answer as Record<string, unknown> }
        : { test: known, error: outcome.error },
    })
    return outcome
  }

  async #answer(id: string, test: InstanceTest): Promise<unknown> {
    switch (test) {
      case 'pulse': {
        const durationMs = (await this.#openSeconds(id)) * 1000
        return this.#gate(id).use(async (gate) => {
          await gate.open({ durationMs })
          return { durationMs, state: await gate.state() }
        })
      }
      case 'inputs':
        return this.#gate(id).use(async (gate) => {
          if (!gate.readInputs) throw new Error('This gate has no inputs to read')
          return gate.readInputs()
        })
      case 'card':
        return this.#card(id)
      case 'on':
      case 'off':
        return this.#light(id).use(async (light) => {
          await light.set({ on: test === 'on' })
          return light.state()
        })
    }
  }

  #gate(id: string) {
    return this.host.instance(id, 'gate')!
  }

  #light(id: string) {
    return this.host.instance(id, 'light')!
  }

  /** The open time of the first device (by name) whose door is the gate. */
  async #openSeconds(id: string) {
    const devices = await Device.query().orderBy('name')
    const setting = devices.map(doorSettingOf).find((door) => door?.gate === id)
    return setting?.openSeconds ?? defaultOpenSeconds
  }

  async #card(id: string) {
    const reader = this.host.instance(id, 'reader')!
    const abort = new AbortController()
    const timer = setTimeout(() => abort.abort(), cardWaitMs)
    try {
      const reads = await reader.use(async (driver) => driver.reads(abort.signal))
      for await (const read of reads) return { uid: read.uid, at: read.at }
    } finally {
      clearTimeout(timer)
      abort.abort()
    }
    throw new Error(`No card was held to the reader within ${cardWaitMs / 1000} s`)
  }
}
