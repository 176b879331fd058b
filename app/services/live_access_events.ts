import { PassThrough } from 'node:stream'
import { inject } from '@adonisjs/core'
import logger from '@adonisjs/core/services/logger'
import type AccessEvent from '#models/access_event'
import { AccessEventFeed } from '#services/access_event_feed'
import { AccessEventQuery, type AccessEventFilters } from '#services/access_event_query'

export type LiveOptions = {
  /** The browser's Last-Event-ID header when it reconnects: the last event the page has. */
  lastEventId?: string
  /** The event as the page shows it. */
  render: (event: AccessEvent) => Promise<string>
}

const keepAliveMs = 25_000
const rememberedIds = 1000

/**
 * A server-sent event stream of access events for one open events page:
 * each event recorded by any server process (announced over Redis) that
 * matches the page's filters, as the page's own table row. A page that
 * reconnects first gets what it missed. While Redis is away the stream
 * ends, and the browser reconnects a few seconds later (the `retry` line),
 * so that the page catches up on events nobody could announce meanwhile.
 */
@inject()
export class LiveAccessEvents {
  constructor(
    private feed: AccessEventFeed,
    private events: AccessEventQuery
  ) {}

  open(filters: AccessEventFilters, options: LiveOptions) {
    const stream = new PassThrough()
    const lastEventId = Number.parseInt(options.lastEventId ?? '', 10)
    const sent = new Set<number>()
    let queue = Promise.resolve()

    const open = () => !stream.destroyed && !stream.writableEnded
    const write = (text: string) => open() && stream.write(text)
    const send = async (event: AccessEvent) => {
      if (sent.has(event.id) || !open()) return
      sent.add(event.id)
      if (sent.size > rememberedIds) sent.delete(sent.values().next().value!)
      const data = JSON.stringify({ id: event.id, html: await options.render(event) })
      write(`id: ${event.id}\nevent: access\ndata: ${data}\n\n`)
    }
    const enqueue = (work: () => Promise<void>) => {
      queue = queue
        .then(work)
        .catch((error) => logger.warn({ err: error }, 'live access event not delivered'))
    }

    const unsubscribe = this.feed.subscribe(
      (notice) =>
        enqueue(async () => {
          const event = await this.events.find(notice.id, filters)
          if (event) await send(event)
        }),
      () => {
        write(': connected\n\n')
        if (!Number.isSafeInteger(lastEventId)) return
        enqueue(async () => {
          for (const event of await this.events.after(lastEventId, filters)) await send(event)
        })
      },
      () =>
        enqueue(async () => {
          if (open()) stream.end()
        })
    )
    const keepAlive = setInterval(() => write(': keep-alive\n\n'), keepAliveMs)
    stream.on('close', () => {
      clearInterval(keepAlive)
      void unsubscribe()
    })
    write('retry: 5000\n\n')
    return stream
  }
}
