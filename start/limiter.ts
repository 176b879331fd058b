/*
|--------------------------------------------------------------------------
| Rate limits
|--------------------------------------------------------------------------
*/
import limiter from '@adonisjs/limiter/services/main'

/**
 * Sign-in attempts: per address and per account, so that guessing from many
 * addresses against one account is slowed down as well.
 */
export const signInThrottle = limiter.define('sign_in', (ctx) => {
  return limiter
    .allowRequests(10)
    .every('1 minute')
    .blockFor('5 minutes')
    .usingKey(`ip_${ctx.request.ip()}`)
})
