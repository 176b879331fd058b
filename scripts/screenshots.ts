/**
 * npm run screenshots [-- --port=3391 --redis-port=6418] [-- --kiosk-only]
 *
 * The admin pages as docs/screenshots/ shows them: every page at 1366 and
 * 390 pixels wide, in English and Chinese, as PNG files named
 * <page>-<width>-<language>.png, with an index (docs/screenshots/README.md);
 * and the terminal's kiosk screen (kiosk-*.png) fed by the agent's kiosk
 * server, which `--kiosk-only` shoots alone, without building a site.
 *
 * It builds a throwaway site of its own and removes it afterwards: a SQLite
 * database (tmp/screenshots.sqlite3) and storage folder
 * (tmp/screenshots-storage), a private redis-server, and the server
 * (bin/server.ts) with the recognition engine. Schedules, access groups and
 * terminals are written into the database before the server starts; people
 * are enrolled through the new-person form with photos of tests/fixtures;
 * the terminals then recognise some of them (faceIdentify, so that the
 * events have snapshots), report others (clinetFeedback) and send faces
 * that wait for review (regFace). Chromium is Debian's (/usr/bin/chromium,
 * or CHROMIUM_PATH). Needs the models (node ace models:build) and
 * redis-server.
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { createConnection } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { DatabaseSync } from 'node:sqlite'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright'
import sharp from 'sharp'
import { FacesApiClient } from '#terminal-client/faces_api_client'
import type { KioskState } from '#terminal-client/agent_contracts'
import { KioskServer } from '#terminal-client/kiosk/kiosk_server'
import {
  ace,
  approvedDevice,
  legacyEverything,
  migrate,
  sqliteNow,
  startServer,
  stopServer,
} from '../bench/support/bench_server.js'

const { values } = parseArgs({
  options: {
    'port': { type: 'string', default: '3391' },
    'redis-port': { type: 'string', default: '6418' },
    'kiosk-only': { type: 'boolean', default: false },
  },
})
const origin = `http://127.0.0.1:${values.port}`
const dbFile = 'screenshots.sqlite3'
const storageDir = 'tmp/screenshots-storage'
const outputDir = 'docs/screenshots'
const admin = {
  email: 'morgan.lee@example.com',
  password: 'screenshots-only-password',
  name: 'Morgan Lee',
}
const widths = [
  { width: 1366, height: 900 },
  { width: 390, height: 844 },
]
/** Long pages are cut here: enough for what a page is about, without megabytes of table. */
const maxHeight = 2000
const languages = [
  { locale: 'en', browser: 'en-US' },
  { locale: 'zh', browser: 'zh-CN' },
]

Object.assign(process.env, {
  DB_FILE: dbFile,
  STORAGE_DIR: storageDir,
  REDIS_HOST: '127.0.0.1',
  REDIS_PORT: values['redis-port'],
  LIMITER_STORE: 'memory',
  APP_URL: origin,
  LOG_LEVEL: 'warn',
  TZ: 'UTC',
})

const photo = (path: string) => readFile(`tests/fixtures/${path}`)

/** The demo staff: who they are, their groups, the photo enrolled and another one terminals see. */
const people = [
  {
    username: 'sheldon.cooper',
    name: 'Sheldon Cooper',
    department: 'Physics',
    card: '04A1B2C3',
    groups: ['Front desk', 'Laboratory'],
    photo: 'pairs/jim_parsons_sheldon1.png',
    seen: 'pairs/jim_parsons_sheldon2.png',
  },
  {
    username: 'leonard.hofstadter',
    name: 'Leonard Hofstadter',
    department: 'Physics',
    card: '04A1B2C4',
    groups: ['Front desk', 'Laboratory'],
    photo: 'pairs/johnny_galecki_leonard1.png',
    seen: 'pairs/johnny_galecki_leonard2.png',
  },
  {
    username: 'penny',
    name: 'Penny',
    department: 'Reception',
    card: '04A1B2C5',
    groups: ['Front desk'],
    photo: 'pairs/kaley_cuoco_penny1.png',
    seen: 'pairs/kaley_cuoco_penny2.png',
  },
  {
    username: 'howard.wolowitz',
    name: 'Howard Wolowitz',
    department: 'Engineering',
    card: '04A1B2C6',
    groups: ['Front desk', 'Server room'],
    photo: 'pairs/simon_helberg_howard1.png',
    seen: 'pairs/simon_helberg_howard2.png',
  },
  {
    username: 'raj.koothrappali',
    name: 'Rajesh Koothrappali',
    department: 'Astrophysics',
    card: '04A1B2C7',
    groups: ['Front desk', 'Night security'],
    photo: 'pairs/kunal_nayyar_raj1.png',
    seen: 'pairs/kunal_nayyar_raj2.png',
  },
  {
    username: 'amy.fowler',
    name: 'Amy Farrah Fowler',
    department: 'Neurobiology',
    card: '04A1B2C8',
    groups: ['Laboratory'],
    photo: 'pairs/mayim_bialik_amy2.png',
    seen: 'pairs/mayim_bialik_amy3.png',
  },
  {
    username: 'bernadette.r',
    name: 'Bernadette Rostenkowski',
    department: 'Microbiology',
    card: '04A1B2C9',
    groups: ['Laboratory'],
    photo: 'pairs/melissa_rauch_bernadette1.png',
    seen: 'pairs/melissa_rauch_bernadette2.png',
  },
  {
    username: 'stuart.bloom',
    name: 'Stuart Bloom',
    department: 'Reception',
    card: '04A1B2CA',
    groups: [],
    photo: 'pairs/kevin_sussman_stuart1.png',
    seen: 'pairs/kevin_sussman_stuart2.png',
  },
]

const terminals = [
  { deviceName: 'Lobby east', serialNumber: 'FT2024A00017', groups: ['Front desk'] },
  { deviceName: 'Laboratory door', serialNumber: 'FT2024A00018', groups: ['Laboratory'] },
  {
    deviceName: 'Server room',
    serialNumber: 'FT2024A00019',
    groups: ['Server room', 'Night security'],
  },
]

/** Schedules, access groups, terminals and their grants, written before the server starts. */
function seedSite() {
  const sqlite = new DatabaseSync(`tmp/${dbFile}`)
  const now = sqliteNow()
  const insert = (sql: string, ...params: (string | number | null)[]) =>
    Number(sqlite.prepare(sql).run(...params).lastInsertRowid)
  const schedule = (name: string, description: string, windows: [number, number, number][]) => {
    const id = insert(
      'insert into schedules (name, description, created_at, updated_at) values (?, ?, ?, ?)',
      name,
      description,
      now,
      now
    )
    for (const [weekday, from, until] of windows) {
      insert(
        'insert into schedule_windows (schedule_id, weekday, starts_at_minute, ends_at_minute) values (?, ?, ?, ?)',
        id,
        weekday,
        from * 60,
        until * 60
      )
    }
    return id
  }
  const weekdays = [1, 2, 3, 4, 5]
  const office = schedule(
    'Office hours',
    'Monday to Friday, 07:00 to 19:00',
    weekdays.map((day) => [day, 7, 19])
  )
  insert(
    'insert into holidays (schedule_id, date, name) values (?, ?, ?)',
    office,
    '2026-12-25',
    'Christmas Day'
  )
  insert(
    'insert into holidays (schedule_id, date, name) values (?, ?, ?)',
    office,
    '2027-01-01',
    "New Year's Day"
  )
  const night = schedule(
    'Night shift',
    'Weeknights, 22:00 to 06:00',
    weekdays.flatMap((day) => [
      [day, 22, 24],
      [(day % 7) + 1, 0, 6],
    ])
  )
  const groups = new Map<string, number>()
  for (const [name, description, scheduleId] of [
    ['Front desk', 'Everyone who works in the building', office],
    ['Laboratory', 'Research staff', office],
    ['Server room', 'Engineering on call', null],
    ['Night security', 'Guards of the night shift', night],
  ] as const) {
    groups.set(
      name,
      insert(
        'insert into access_groups (name, description, schedule_id, created_at, updated_at) values (?, ?, ?, ?, ?)',
        name,
        description,
        scheduleId,
        now,
        now
      )
    )
  }
  sqlite.close()
  for (const terminal of terminals) approvedDevice(dbFile, terminal, legacyEverything)
  const after = new DatabaseSync(`tmp/${dbFile}`)
  for (const terminal of terminals) {
    const device = after
      .prepare('select id from devices where serial_number = ?')
      .get(terminal.serialNumber) as { id: number }
    for (const group of terminal.groups) {
      after
        .prepare('insert into access_group_devices (access_group_id, device_id) values (?, ?)')
        .run(groups.get(group)!, device.id)
    }
  }
  after
    .prepare(
      `insert into devices (name, serial_number, status, mode, required_factors, sync_revision,
         last_seen_address, config, created_at, updated_at)
       values ('Loading dock', 'FT2024A00020', 'pending', 'online', 'face', 0, '192.168.10.41', '{}', ?, ?)`
    )
    .run(now, now)
  after.close()
}

async function startRedis() {
  const server = spawn(
    'redis-server',
    ['--port', values['redis-port'], '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' }
  )
  for (let waited = 0; waited < 5000; waited += 100) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port: Number(values['redis-port']) })
      socket.once('connect', () => resolve(socket.end() && true))
      socket.once('error', () => resolve(false))
    })
    if (up) return server
    await sleep(100)
  }
  throw new Error(`redis-server did not answer on port ${values['redis-port']}`)
}

async function signIn(context: BrowserContext) {
  const page = await context.newPage()
  await page.goto('/login')
  await page.getByLabel(/Email|邮箱/).fill(admin.email)
  await page.getByLabel(/Password|密码/).fill(admin.password)
  await page.locator('form button[type="submit"]').click()
  await page.waitForURL('**/admin')
  return page
}

/** Each demo person through the new-person form, groups ticked and photo chosen, as an operator does it. */
async function enrolPeople(page: Page) {
  for (const person of people) {
    await page.goto('/admin/people/new')
    await page.locator('#field-username').fill(person.username)
    await page.locator('#field-displayName').fill(person.name)
    await page.locator('#field-cardNumber').fill(person.card)
    await page.locator('#field-department').fill(person.department)
    await page.locator('#field-consentGiven').check()
    await page.locator('#field-consentTextVersion').fill('2026-01')
    for (const group of person.groups) await page.getByLabel(group, { exact: true }).check()
    await page.locator('#field-photo').setInputFiles(`tests/fixtures/${person.photo}`)
    await page.locator('form[data-test="new-person"] button[type="submit"]').click()
    await page.waitForURL(/\/admin\/people(\/\d+\/edit)?$/)
    if (!page.url().endsWith('/edit')) {
      const errors = await page.locator('.field-error').allTextContents()
      throw new Error(`${person.photo} was not enrolled: ${errors.join(' ')}`)
    }
  }
}

/** What the terminals do over a morning: recognitions, reports and faces sent for review. */
async function terminalTraffic() {
  const [lobby, lab, serverRoom] = terminals.map(
    (terminal) =>
      new FacesApiClient(origin, {
        deviceName: terminal.deviceName,
        serialNumber: terminal.serialNumber,
      })
  )
  for (const person of people) await lobby.faceIdentify(await photo(person.seen))
  await lab.faceIdentify(await photo(people[0].seen))
  await lab.faceIdentify(await photo(people[2].seen))
  await serverRoom.faceIdentify(await photo(people[3].seen))
  await serverRoom.faceIdentify(await photo('pairs/kit_harington_01.jpg'))
  await lobby.faceIdentify(await photo('pairs/rose_leslie_01.jpg'))
  await lobby.clinetFeedback({ faceName: 'Amy Farrah Fowler', username: 'amy.fowler', score: 0.82 })
  await lab.clinetFeedback({ faceName: 'Penny', username: 'penny', score: 0.77 })
  await lobby.regFace({
    username: 'leonard.hofstadter',
    faceName: 'Leonard Hofstadter',
    photo: await photo('pairs/kevin_sussman_stuart3.png'),
  })
  await lobby.regFace({
    username: 'kit.visitor',
    faceName: 'Kit (visitor)',
    photo: await photo('pairs/kit_harington_02.jpg'),
  })
}

/** The pages to capture, by name; ids are the demo site's. */
async function pageList() {
  const sqlite = new DatabaseSync(`tmp/${dbFile}`, { readOnly: true })
  const id = (sql: string) => (sqlite.prepare(sql).get() as { id: number }).id
  const pages = {
    'dashboard': '/admin',
    'people': '/admin/people',
    'person-new': '/admin/people/new',
    'person': `/admin/people/${id("select id from people where username = 'sheldon.cooper'")}/edit`,
    'reviews': '/admin/reviews',
    'devices': '/admin/devices',
    'device': `/admin/devices/${id("select id from devices where serial_number = 'FT2024A00017'")}/edit`,
    'access-groups': '/admin/access-groups',
    'access-group': `/admin/access-groups/${id("select id from access_groups where name = 'Front desk'")}`,
    'schedules': '/admin/schedules',
    'schedule': `/admin/schedules/${id("select id from schedules where name = 'Office hours'")}`,
    'events': '/admin/events',
    'operators': '/admin/operators',
    'audit': '/admin/audit',
    'settings': '/admin/settings',
  }
  sqlite.close()
  return pages
}

/** The whole page, down to `maxHeight`. */
async function shoot(page: Page, file: string) {
  const width = page.viewportSize()!.width
  const height = Math.min(
    Number(await page.evaluate('document.documentElement.scrollHeight')),
    maxHeight
  )
  await page.screenshot({
    path: `${outputDir}/${file}`,
    fullPage: true,
    clip: { x: 0, y: 0, width, height },
  })
}

async function capture(context: BrowserContext, pages: Record<string, string>, locale: string) {
  const files: string[] = []
  const page = await context.newPage()
  for (const size of widths) {
    await page.setViewportSize(size)
    for (const [name, path] of Object.entries(pages)) {
      await page.goto(path)
      await page.waitForLoadState('networkidle').catch(() => undefined)
      const file = `${name}-${size.width}-${locale}.png`
      await shoot(page, file)
      files.push(file)
    }
  }
  await page.close()
  return files
}

/** docs/screenshots/README.md: every picture, by page, width and language. */
async function writeIndex() {
  const written = await readdir(outputDir)
  const kiosk = written.filter((file) => file.startsWith('kiosk-')).sort()
  const files = written.filter((file) => file.endsWith('.png') && !kiosk.includes(file)).sort()
  const names = [...new Set(files.map((file) => file.replace(/-\d+-\w+\.png$/, '')))]
  const lines = [
    '# Screenshots of the admin pages',
    '',
    'Made by `npm run screenshots` (scripts/screenshots.ts) from a demo site it builds and removes:',
    'people enrolled through the new-person form with the photos of tests/fixtures, terminals that',
    'recognised them, faces waiting for review. Do not edit; run the script again.',
    '',
    '| page | 1366 px, English | 390 px, English | 1366 px, 中文 | 390 px, 中文 |',
    '| --- | --- | --- | --- | --- |',
    ...names.map(
      (name) =>
        `| ${name} | ` +
        ['1366-en', '390-en', '1366-zh', '390-zh']
          .map((variant) => `${name}-${variant}.png`)
          .map((file) => (files.includes(file) ? `[${file}](${file})` : '–'))
          .join(' | ') +
        ' |'
    ),
    '',
    "## The terminal's screen",
    '',
    "The kiosk page of the terminal agent, on a 7-inch screen (1024 × 600, and 600 × 1024 upright), fed by the agent's kiosk server:",
    '',
    ...kiosk.map((file) => `- [${file}](${file})`),
    '',
  ]
  await writeFile(`${outputDir}/README.md`, lines.join('\n'))
}

/** The terminal's screen in the states a person at the door meets, as the agent pushes them. */
async function shootKiosk(browser: Browser) {
  const kiosk = new KioskServer({
    port: 0,
    language: 'en',
    deviceName: 'Lobby east',
    serial: 'FA-2026-0042',
  })
  await kiosk.start()
  const fixture = 'tests/fixtures/pairs/jim_parsons_sheldon2.png'
  const { data, info } = await sharp(fixture)
    .removeAlpha()
    .resize(960, 720, { fit: 'contain', background: '#334155' })
    .raw()
    .toBuffer({ resolveWithObject: true })
  kiosk.frame({ width: info.width, height: info.height, data: new Uint8Array(data) })
  const photoUrl = kiosk.personPhoto(
    'sheldon.cooper',
    await sharp(`tests/fixtures/${people[0].photo}`).resize(320, 320).jpeg().toBuffer()
  )
  const face = { left: 330, top: 170, right: 630, bottom: 560 }
  const at = Date.now()
  const shots: [string, Partial<KioskState>, { width: number; height: number }?][] = [
    [
      'kiosk-granted-en.png',
      {
        connection: 'online',
        face,
        result: {
          decision: 'granted',
          reason: 'granted',
          name: people[0].name,
          photoUrl,
          at,
          decidedBy: 'server',
        },
      },
    ],
    [
      'kiosk-denied-zh.png',
      {
        language: 'zh',
        connection: 'online',
        face,
        result: {
          decision: 'denied',
          reason: 'outside_schedule',
          name: people[0].name,
          at,
          decidedBy: 'server',
        },
      },
    ],
    [
      'kiosk-offline.png',
      {
        language: 'en',
        connection: 'offline',
        backlog: 14,
        face,
        result: undefined,
        guidance: 'blink',
      },
    ],
    [
      'kiosk-guidance-portrait.png',
      { connection: 'online', backlog: 0, guidance: 'come_closer', face },
      { width: 600, height: 1024 },
    ],
    [
      'kiosk-pairing.png',
      { connection: 'pairing', pairingCode: '482 913', guidance: undefined, face: undefined },
    ],
  ]
  const page = await browser.newPage({ viewport: { width: 1024, height: 600 } })
  await page.goto(kiosk.url)
  for (const [file, state, viewport] of shots) {
    await page.setViewportSize(viewport ?? { width: 1024, height: 600 })
    kiosk.update(state)
    await page.waitForFunction((expected) => {
      const doc = (globalThis as any).document
      const frame = doc.querySelector('[data-test="frame"]')
      const portrait = doc.querySelector('[data-test="photo"]')
      return (
        doc.body.dataset.connection === expected &&
        frame.naturalWidth > 0 &&
        (portrait.hidden || portrait.complete)
      )
    }, state.connection)
    await page.waitForTimeout(300)
    await page.screenshot({ path: `${outputDir}/${file}` })
  }
  await page.close()
  await kiosk.stop()
  console.log(`kiosk: ${shots.length} pictures`)
}

/** Chinese pages need a font with Chinese glyphs, or they show boxes. */
function assertChineseFont() {
  const fonts = spawnSync('fc-list', [':lang=zh'], { encoding: 'utf8' })
  if (fonts.status === 0 && fonts.stdout.trim() !== '') return
  console.error(
    'screenshots: no font with Chinese glyphs; install one (apt-get install fonts-noto-cjk)'
  )
  process.exit(1)
}

function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--hide-scrollbars',
    ],
  })
}

/** Only the kiosk pictures, replaced in place; the admin pages' pictures stay. */
async function kioskOnly() {
  assertChineseFont()
  await mkdir(outputDir, { recursive: true })
  for (const file of await readdir(outputDir)) {
    if (file.startsWith('kiosk-')) await rm(`${outputDir}/${file}`)
  }
  const browser = await launchBrowser()
  try {
    await shootKiosk(browser)
    await writeIndex()
  } finally {
    await browser.close()
  }
}

async function main() {
  assertChineseFont()
  await rm(`tmp/${dbFile}`, { force: true })
  await rm(storageDir, { recursive: true, force: true })
  await rm(outputDir, { recursive: true, force: true })
  await mkdir(outputDir, { recursive: true })
  migrate(dbFile)
  ace(dbFile, [
    'operator:create',
    admin.email,
    '--role=admin',
    `--password=${admin.password}`,
    `--name=${admin.name}`,
  ])
  seedSite()

  const redis = await startRedis()
  const server = await startServer({ port: values.port, dbFile, engine: 'engine' })
  const browser = await launchBrowser()
  try {
    const setup = await browser.newContext({
      baseURL: origin,
      locale: 'en-US',
      viewport: widths[0],
    })
    await enrolPeople(await signIn(setup))
    await setup.close()
    await terminalTraffic()

    const pages = await pageList()
    for (const language of languages) {
      const context = await browser.newContext({ baseURL: origin, locale: language.browser })
      const guest = await context.newPage()
      for (const size of widths) {
        await guest.setViewportSize(size)
        for (const [name, path] of [
          ['sign-in', '/login'],
          ['docs', '/docs'],
        ]) {
          await guest.goto(path)
          await shoot(guest, `${name}-${size.width}-${language.locale}.png`)
        }
      }
      await guest.close()
      const page = await signIn(context)
      const csrf = await page.locator('input[name="_csrf"]').first().inputValue()
      await page.request.post('/admin/account/locale', {
        form: { locale: language.locale, _csrf: csrf },
      })
      await page.close()
      const files = await capture(context, pages, language.locale)
      const phone = await context.newPage()
      await phone.setViewportSize(widths[1])
      await phone.goto('/admin')
      await phone.locator('[data-nav-toggle]').click()
      await shoot(phone, `menu-${widths[1].width}-${language.locale}.png`)
      await phone.close()
      console.log(`${language.locale}: ${files.length + 5} pictures`)
      await context.close()
    }
    await shootKiosk(browser)
    await writeIndex()
  } finally {
    await browser.close()
    await stopServer(server)
    redis.kill('SIGTERM')
    await rm(`tmp/${dbFile}`, { force: true })
    await rm(`tmp/${dbFile}-shm`, { force: true })
    await rm(`tmp/${dbFile}-wal`, { force: true })
    await rm(storageDir, { recursive: true, force: true })
  }
}

await (values['kiosk-only'] ? kioskOnly() : main())
