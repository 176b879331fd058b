/**
 * node --import=@poppinss/ts-exec scripts/production_smoke.ts --url=http://127.0.0.1:3359 \
 *   --email=admin@example.org --password=... --serial=SMOKE-0001 --device-name="Smoke gate" \
 *   --secret=fa1_... [--photo=tests/fixtures/faces/sheldon.png] \
 *   [--probe=tests/fixtures/pairs/jim_parsons_sheldon2.png]
 *
 * What a site checks after installing a production build, against the
 * running server: /health answers 200 with every check ok (the engine
 * running); the administrator signs in at /login; the approved device (its
 * credential from "node ace device:approve") gets a token and finds the
 * face in the photo with faceDetect; the photo is enrolled for a new person
 * through the person page, as an operator does; faceIdentify of another
 * photo of them (the probe) names that person with code 0 and a calibrated
 * score. Stops at the first check that fails and exits 1. Runs on Node 24
 * (node_modules/.bin/node); scripts/production_smoke.sh installs, starts
 * and stops the server around it.
 */
import { readFile } from 'node:fs/promises'
import { setTimeout } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { encodeBody, FacesApiClient } from '#terminal-client/faces_api_client'

const { values } = parseArgs({
  options: {
    'url': { type: 'string' },
    'email': { type: 'string' },
    'password': { type: 'string' },
    'serial': { type: 'string' },
    'device-name': { type: 'string' },
    'secret': { type: 'string' },
    'health-token': { type: 'string' },
    'photo': { type: 'string', default: 'tests/fixtures/faces/sheldon.png' },
    'probe': { type: 'string', default: 'tests/fixtures/pairs/jim_parsons_sheldon2.png' },
  },
})
for (const name of [
  'url',
  'email',
  'password',
  'serial',
  'device-name',
  'secret',
  'health-token',
] as const) {
  if (!values[name]) {
    console.error(`production_smoke: --${name} is required`)
    process.exit(2)
  }
}
const origin = values.url!
const person = { username: 'smoke-sheldon', displayName: 'Sheldon (smoke test)' }
/** How long every health check may take to turn ok, the engine's model loading included. */
const healthWaitMs = 60_000

class SmokeFailure extends Error {}

function expect(condition: unknown, message: string): asserts condition {
  if (!condition) throw new SmokeFailure(message)
}

/** A browser's cookies for this one server, enough for a session and its CSRF token. */
class Browser {
  #cookies = new Map<string, string>()

  async request(
    path: string,
    init: { method?: string; body?: RequestInit['body']; type?: string } = {}
  ) {
    const headers: Record<string, string> = { accept: 'text/html' }
    if (this.#cookies.size) {
      headers.cookie = [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ')
    }
    if (init.type) headers['content-type'] = init.type
    const response = await fetch(new URL(path, origin), {
      method: init.method ?? 'GET',
      headers,
      body: init.body,
      redirect: 'manual',
    })
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';')
      const separator = pair.indexOf('=')
      this.#cookies.set(pair.slice(0, separator).trim(), pair.slice(separator + 1).trim())
    }
    return { status: response.status, location: response.headers.get('location'), response }
  }

  /** The CSRF token of the forms on a page. */
  async csrfToken(path: string) {
    const { status, response } = await this.request(path)
    const html = await response.text()
    expect(status === 200, `GET ${path} answered ${status}`)
    const token = /name=['"]_csrf['"] value=['"]([^'"]+)['"]/.exec(html)?.[1]
    expect(token, `GET ${path} has no CSRF field`)
    return token
  }

  /** A form of the page at `path`, filled in with `fields`, as the browser posts it. */
  async form(path: string, fields: Record<string, string>) {
    return new URLSearchParams({ ...fields, _csrf: await this.csrfToken(path) })
  }
}

const browser = new Browser()
const terminal = new FacesApiClient(origin, {
  deviceName: values['device-name']!,
  serialNumber: values.serial!,
  secret: values.secret!,
})
const photo = {
  data: await readFile(values.photo),
  filename: 'photo.png',
  contentType: 'image/png',
}
const probe = await readFile(values.probe)

const checks: [string, () => Promise<string>][] = [
  [
    'health',
    async () => {
      /* The engine loads its models after the server listens; until then a check warns. */
      const started = Date.now()
      for (;;) {
        const response = await fetch(new URL('/health', origin), {
          headers: { authorization: `Bearer ${values['health-token']}` },
        })
        const report = (await response.json()) as { checks: { name: string; status: string }[] }
        const states = report.checks.map((check) => `${check.name}: ${check.status}`).join(', ')
        const settled = report.checks.every((check) => check.status === 'ok')
        if (response.status === 200 && settled) {
          return `GET /health 200 after ${Date.now() - started} ms (${states})`
        }
        expect(
          Date.now() - started < healthWaitMs,
          `GET /health answered ${response.status} for ${healthWaitMs / 1000} s: ${states}`
        )
        await setTimeout(250)
      }
    },
  ],
  [
    'sign-in',
    async () => {
      const body = await browser.form('/login', {
        email: values.email!,
        password: values.password!,
      })
      const signedIn = await browser.request('/login', {
        method: 'POST',
        body,
        type: 'application/x-www-form-urlencoded',
      })
      expect(
        signedIn.status === 302 && signedIn.location === '/admin',
        `POST /login answered ${signedIn.status}, to ${signedIn.location}`
      )
      const dashboard = await browser.request('/admin')
      expect(dashboard.status === 200, `GET /admin after signing in answered ${dashboard.status}`)
      return `${values.email} signed in, GET /admin 200`
    },
  ],
  [
    'token',
    async () => {
      const token = await terminal.token()
      expect(/^[0-9a-f]{40}$/.test(token), `the token is ${token}`)
      return `${values.serial} got a token, signed with its credential`
    },
  ],
  [
    'faceDetect',
    async () => {
      const answer = await terminal.callWithToken('faceDetect', {}, { files: { image: photo } })
      expect(answer.code === 0, `faceDetect answered ${answer.code}: ${answer.message}`)
      expect(Number(answer.faces) >= 1, `faceDetect found ${answer.faces} faces`)
      return `code 0, ${answer.faces} face(s)`
    },
  ],
  [
    'enrolment',
    async () => {
      const created = await browser.request('/admin/people', {
        method: 'POST',
        type: 'application/x-www-form-urlencoded',
        body: await browser.form('/admin/people/new', {
          ...person,
          status: 'active',
          consentShown: '1',
          consentGiven: '1',
          consentTextVersion: 'smoke',
        }),
      })
      const id = /^\/admin\/people\/(\d+)\/edit$/.exec(created.location ?? '')?.[1]
      expect(
        created.status === 302 && id,
        `POST /admin/people answered ${created.status}, to ${created.location}`
      )

      const edit = `/admin/people/${id}/edit`
      const { body, contentType } = encodeBody(
        { _csrf: await browser.csrfToken(edit) },
        'multipart',
        { photo }
      )
      const uploaded = await browser.request(`/admin/people/${id}/faces`, {
        method: 'POST',
        body: new Uint8Array(body),
        type: contentType,
      })
      if (uploaded.status !== 302) {
        const html = await uploaded.response.text()
        const error = /data-test="error-photo"[^>]*>([^<]*)</.exec(html)?.[1]
        throw new SmokeFailure(`the photo upload answered ${uploaded.status}: ${error ?? ''}`)
      }
      expect(uploaded.location === edit, `the photo upload went to ${uploaded.location}`)
      const page = await browser.request(edit)
      const html = await page.response.text()
      const faces = html.match(/data-face-id=/g)?.length ?? 0
      expect(faces === 1, `the person page lists ${faces} faces`)
      return `${person.username} created with consent, photo enrolled on the person page`
    },
  ],
  [
    'faceIdentify',
    async () => {
      const answer = await terminal.faceIdentify(probe)
      expect(answer.code === 0, `faceIdentify answered ${answer.code}: ${answer.message}`)
      const named = answer.person as { username: string } | null
      const score = answer.score as number
      const threshold = answer.threshold as number
      expect(named?.username === person.username, `faceIdentify named ${named?.username}`)
      expect(
        score >= threshold && score <= 1,
        `the score ${score} is not a calibrated match over the threshold ${threshold}`
      )
      return `code 0, ${named.username}, score ${score.toFixed(3)} (threshold ${threshold.toFixed(3)}), ${answer.message}`
    },
  ],
]

let passed = 0
for (const [name, check] of checks) {
  try {
    console.log(`ok   ${name.padEnd(12)} ${await check()}`)
    passed++
  } catch (error) {
    const message = error instanceof SmokeFailure ? error.message : String(error)
    console.log(`FAIL ${name.padEnd(12)} ${message}`)
    break
  }
}
console.log(`checks: ${passed} of ${checks.length} passed`)
process.exit(passed === checks.length ? 0 : 1)
