import { SystemZone } from 'luxon'
import env from '#start/env'

const siteConfig = {
  /**
   * The site's time zone, an IANA name such as Asia/Shanghai: the pages
   * and the events export show times in it, the events page reads its
   * from/to in it, and schedules apply in it. The server's own by default.
   */
  timeZone: env.get('SITE_TIME_ZONE') ?? SystemZone.instance.name,
}

export default siteConfig
