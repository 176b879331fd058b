import { I18n } from '@adonisjs/i18n'
import i18nManager from '@adonisjs/i18n/services/main'
import { RequestValidator, type HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'

/**
 * Picks the page language: the operator's saved choice when signed in,
 * otherwise the browser's Accept-Language, otherwise English.
 */
export default class DetectUserLocaleMiddleware {
  static {
    RequestValidator.messagesProvider = (ctx) => ctx.i18n.createMessagesProvider()
  }

  protected async getRequestLocale(ctx: HttpContext) {
    if (await ctx.auth.check()) {
      const saved = ctx.auth.user!.locale
      if (i18nManager.supportedLocales().includes(saved)) return saved
    }
    return i18nManager.getSupportedLocaleFor(ctx.request.languages()) ?? i18nManager.defaultLocale
  }

  async handle(ctx: HttpContext, next: NextFn) {
    ctx.i18n = i18nManager.locale(await this.getRequestLocale(ctx))
    ctx.containerResolver.bindValue(I18n, ctx.i18n)
    if ('view' in ctx) {
      ctx.view.share({ i18n: ctx.i18n })
    }
    return next()
  }
}

declare module '@adonisjs/core/http' {
  export interface HttpContext {
    i18n: I18n
  }
}
