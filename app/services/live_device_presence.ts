import { PassThrough } from 'node:stream'
import { inject } from '@adonisjs/core'
import logger from '@adonisjs/core/services/logger'
import {
  DeviceOnlineStatus,
  type OnlineState,
  type PresenceSubject,
} from '#services/device_online_status'

export type PresenceOptions = {
  /** The devices the page shows, read again every minute. */
  devices: () => Promise<PresenceSubject[]>
  /** A device's state as the page's script applies it. */
  describe: (state: OnlineState) => Record<string, unknown>
}

const tickMs = 2000
const reloadEveryTicks = 30
const keepAliveMs = 25_000

/**
 * A server-sent event stream of the online state of the devices an open
 * page shows: all of them when it opens, then every two seconds those
 * whose state, last call or address changed. A device goes offline by
 * not calling, which no event announces, so the stream compares instead
 * of waiting for notices. While Redis is unavailable nothing changes on
 * the page: the devices' calls cannot be read, and showing them offline
 * would be wrong.
 */
@inject()
export class LiveDevicePresence {
  constructor(private status: DeviceOnlineStatus) {}

  open(options: PresenceOptions) {
    const stream = new PassThrough()
    const sent = new Map<number, string>()
    let devices: PresenceSubject[] = []
    let ticks = 0
    let timer: NodeJS.Timeout | null = null

    const open = () => !stream.destroyed && !stream.writableEnded
    const write = (text: string) => open() && stream.write(text)

    const tick = async () => {
      if (ticks++ % reloadEveryTicks === 0) devices = await options.devices()
      const sightings = await this.status.sightings()
      if (!sightings) return
      const changed: Record<string, unknown>[] = []
      for (const state of this.status.states(devices, sightings).values()) {
        const payload = options.describe(state)
        const text = JSON.stringify(payload)
        if (sent.get(state.id) === text) continue
        sent.set(state.id, text)
        changed.push(payload)
      }
      if (changed.length > 0) write(`event: presence\ndata: ${JSON.stringify(changed)}\n\n`)
    }
    const loop = () => {
      tick()
        .catch((error) => logger.warn({ err: error }, 'device presence not sent'))
        .finally(() => {
          if (open()) timer = setTimeout(loop, tickMs)
        })
    }

    const keepAlive = setInterval(() => write(': keep-alive\n\n'), keepAliveMs)
    stream.on('close', () => {
      clearInterval(keepAlive)
      if (timer) clearTimeout(timer)
    })
    write('retry: 5000\n\n')
    loop()
    return stream
  }
}
