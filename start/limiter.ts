/*
|--------------------------------------------------------------------------
| Rate limits
|--------------------------------------------------------------------------
*/
import limiter from '@adonisjs/limiter/services/main'
import { signInLimiterStore } from '#services/sign_in_lockouts'

/**
 * Sign-in attempts: per address and per account, so that guessing from many
 * addresses against one account is slowed down as well. Counted in memory
 * while Redis is down (see `signInLimiterStore`).
 */
export const signInThrottle = limiter.define('sign_in', (ctx) => {
  return limiter
    .allowRequests(10)
    .every('1 minute')
    .blockFor('5 minutes')
    .usingKey(`ip_${ctx.request.ip()}`)
    .store(signInLimiterStore())
})

/**
 * The webcam preview's frames: two a second while the camera runs, per
 * operator, with room for a second tab; more than that is refused (429)
 * until the minute is over.
 */
export const facePreviewThrottle = limiter.define('face_preview', (ctx) => {
  return limiter
    .allowRequests(240)
    .every('1 minute')
    .usingKey(`user_${ctx.auth.user?.id ?? ctx.request.ip()}`)
})
