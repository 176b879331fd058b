import app from '@adonisjs/core/services/app'
import { configProvider } from '@adonisjs/core'
import { SessionCollection, type Session } from '@adonisjs/session'
import type { ResolvedSessionConfig } from '@adonisjs/session/types'
import type User from '#models/user'

let sessionConfig: Promise<ResolvedSessionConfig | null> | undefined

/**
 * The sessions an operator is signed in with, wherever their cookie was
 * copied to. The session store (the `sessions` table, or Redis) knows the
 * operator of each session signed in through the sign-in page, so that a
 * new password, a disabled account or an administrator's "sign out
 * everywhere" ends every one of them on the server. With `SESSION_DRIVER=
 * cookie` a session lives in the browser alone and none of this can be done.
 */
export class OperatorSessions {
  /** Records a session that has just signed in as the operator's. */
  async signedIn(session: Session, user: User) {
    if (session.supportsTagging()) await session.tag(String(user.id))
  }

  /**
   * Ends the operator's sessions, all but `keep` (the session of an
   * operator changing their own password stays signed in). Returns how many
   * were ended.
   */
  async end(user: User, keep?: string) {
    const sessions = await this.#collection()
    if (!sessions?.supportsTagging()) return 0
    const tagged = await sessions.tagged(String(user.id))
    const others = tagged.filter(({ id }) => id !== keep)
    for (const { id } of others) await sessions.destroy(id)
    return others.length
  }

  /**
   * A collection over a store made now, not the container's singleton: a
   * database store takes the connection (or a test's global transaction)
   * current when it is made.
   */
  async #collection() {
    sessionConfig ??= configProvider.resolve<ResolvedSessionConfig>(app, app.config.get('session'))
    const config = await sessionConfig
    return config ? new SessionCollection(config) : null
  }
}
