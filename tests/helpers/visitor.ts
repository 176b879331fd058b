import env from '#start/env'

const serverUrl = `http://${env.get('HOST')}:${env.get('PORT')}`

/**
 * A browser as the server sees it, without one: a cookie jar over `fetch`
 * to the test server, which signs in through the sign-in form and posts
 * forms with the CSRF token of the page they are on. `copy` is someone who
 * copied this browser's cookies (the session cookie included).
 */
export class Visitor {
  #cookies = new Map<string, string>()

  constructor(private language = 'en') {}

  copy() {
    const copy = new Visitor(this.language)
    for (const [name, value] of this.#cookies) copy.#cookies.set(name, value)
    return copy
  }

  /** A page, without following a redirect. */
  async get(path: string) {
    return this.#fetch(path, { method: 'GET' })
  }

  /** Posts a form from `page` (for its CSRF token) to `action`; `_method` as the forms send it. */
  async submit(page: string, action: string, fields: Record<string, string> = {}) {
    const shown = await this.get(page)
    const html = await shown.text()
    const csrf = html.match(/name=['"]_csrf['"] value=['"]([^'"]+)['"]/)?.[1]
    if (!csrf) throw new Error(`${page} has no form with a CSRF token`)
    return this.#fetch(action, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'referer': new URL(page, serverUrl).href,
      },
      body: new URLSearchParams({ _csrf: csrf, ...fields }),
    })
  }

  async signIn(email: string, password = 'correct horse battery staple') {
    const response = await this.submit('/login', '/login', { email, password })
    if (response.headers.get('location') !== '/admin') {
      throw new Error(`${email} was not signed in (${response.status})`)
    }
    return response
  }

  async signOut() {
    return this.submit('/admin/account', '/logout')
  }

  /** Where a page sends this visitor: null when it is shown (200). */
  async sentFrom(path: string) {
    const response = await this.get(path)
    await response.arrayBuffer()
    return response.status === 200 ? null : response.headers.get('location')
  }

  async #fetch(path: string, init: RequestInit) {
    const response = await fetch(new URL(path, serverUrl), {
      ...init,
      redirect: 'manual',
      headers: {
        ...(init.headers as Record<string, string>),
        'accept': 'text/html',
        'accept-language': this.language,
        'cookie': [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; '),
      },
    })
    for (const cookie of response.headers.getSetCookie()) {
      const [pair, ...attributes] = cookie.split(';')
      const name = pair.slice(0, pair.indexOf('='))
      const expired = attributes.some((attribute) => /^\s*max-age=(0|-\d+)\s*$/i.test(attribute))
      if (expired) this.#cookies.delete(name)
      else this.#cookies.set(name, pair.slice(name.length + 1))
    }
    return response
  }
}
