/*
 * The terminal's screen. The agent's kiosk server pushes the whole state
 * on /events at every change; this page only draws it: the camera image
 * (fetched again from /frame.jpg as soon as the last one has shown), the
 * face box, guidance, the decision, an enrolment and how it ended, pairing
 * and connection, the clock.
 * The stream is reopened by itself whenever the agent restarts.
 */
const $ = (selector) => document.querySelector(selector)
const body = document.body
const languages = ['en', 'zh']
const locales = { en: 'en-GB', zh: 'zh-CN' }
const strings = {}
let state = null
let siteLanguage = null
let chosenLanguage = null

function language() {
  return chosenLanguage ?? state?.language ?? 'en'
}

function lookup(table, key) {
  return key.split('.').reduce((value, part) => value?.[part], table)
}

function t(key, values = {}) {
  const text = lookup(strings[language()], key) ?? lookup(strings.en, key) ?? key
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ''))
}

function show(element, visible) {
  element.hidden = !visible
}

let stringsLoaded = null
/** One load shared by every event waiting for it, so that they are drawn in the order they came. */
function loadStrings() {
  stringsLoaded ??= Promise.all(
    languages.map(async (code) => {
      const response = await fetch(`/lang/${code}.json`)
      if (!response.ok) throw new Error(`/lang/${code}.json: ${response.status}`)
      strings[code] = await response.json()
    })
  ).catch(() => {
    stringsLoaded = null
  })
  return stringsLoaded
}

function renderClock() {
  const now = new Date()
  const locale = locales[language()]
  $('[data-time]').textContent = new Intl.DateTimeFormat(locale, {
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(now)
  $('[data-date]').textContent = new Intl.DateTimeFormat(locale, {
    weekday: 'long',
    year: 'numeric',
    month: 'long',
    day: 'numeric',
  }).format(now)
}

function renderFace() {
  const box = $('[data-face]')
  const face = state?.face
  const size = state?.frameSize
  if (size) $('[data-frame-box]').style.setProperty('--ratio', String(size.width / size.height))
  show(box, Boolean(face && size))
  if (!face || !size) return
  box.style.left = `${(face.left / size.width) * 100}%`
  box.style.top = `${(face.top / size.height) * 100}%`
  box.style.width = `${((face.right - face.left) / size.width) * 100}%`
  box.style.height = `${((face.bottom - face.top) / size.height) * 100}%`
}

function renderResult() {
  const result = state?.result
  const panel = $('[data-result-panel]')
  show(panel, Boolean(result))
  body.dataset.result = result?.decision ?? ''
  if (!result) return
  $('[data-verdict]').textContent = t(result.decision)
  $('[data-name]').textContent = result.name ?? ''
  $('[data-reason]').textContent = t(`reasons.${result.reason}`)
  show($('[data-decided-by]'), result.decidedBy === 'terminal')
  const photo = $('[data-photo]')
  if (result.photoUrl) {
    if (photo.getAttribute('src') !== result.photoUrl) photo.src = result.photoUrl
    show(photo, true)
  } else {
    photo.removeAttribute('src')
    show(photo, false)
  }
}

/** Enrolment mode: whom, then how it ended; the usual guidance in between. */
function renderEnrolment() {
  const enrolment = state?.enrolment
  const title = $('[data-enrolment]')
  const outcome = $('[data-enrolment-outcome]')
  show(title, Boolean(enrolment))
  show(outcome, Boolean(enrolment?.outcome))
  body.dataset.enrolling = !enrolment
    ? ''
    : !enrolment.outcome
      ? 'waiting'
      : enrolment.outcome === 'enrolled'
        ? 'enrolled'
        : 'failed'
  if (!enrolment) return
  title.textContent = t(enrolment.outcome ? 'enrolment.done' : 'enrolment.title', {
    name: enrolment.name,
  })
  outcome.dataset.outcome = enrolment.outcome ?? ''
  outcome.textContent = enrolment.outcome ? t(`enrolment.outcomes.${enrolment.outcome}`) : ''
}

function render() {
  const code = language()
  document.documentElement.lang = code === 'zh' ? 'zh-CN' : 'en'
  document.title = t('title')
  for (const element of document.querySelectorAll('[data-text]')) {
    element.textContent = t(element.dataset.text)
  }
  $('[data-language-toggle]').textContent = t('language_toggle')
  renderClock()
  if (!state) return

  body.dataset.connection = state.connection
  $('[data-device-name]').textContent = state.deviceName
  $('[data-connection-label]').textContent = t(`connection.${state.connection}`)
  const backlog = $('[data-backlog]')
  show(backlog, state.backlog > 0)
  backlog.textContent = t('backlog', { count: state.backlog })

  const guidance = $('[data-guidance]')
  guidance.textContent = state.guidance ? t(`guidance.${state.guidance}`) : t('idle')
  guidance.dataset.guidance = state.guidance ?? ''
  show(guidance, !state.result && !state.enrolment?.outcome)
  renderResult()
  renderEnrolment()
  renderFace()

  show($('[data-pairing]'), state.connection === 'pairing')
  $('[data-pairing-code]').textContent = state.pairingCode ?? ''
  $('[data-pairing-hint]').textContent = t(state.pairingCode ? 'pairing_hint' : 'pairing_waiting')
  $('[data-serial]').textContent = state.serial ? t('serial', { serial: state.serial }) : ''
}

function receive(next) {
  if (next.language !== siteLanguage) {
    siteLanguage = next.language
    chosenLanguage = null
  }
  state = next
  render()
}

let retryMs = 1000
function connect() {
  const source = new EventSource('/events')
  source.onmessage = async (event) => {
    retryMs = 1000
    body.dataset.linked = 'true'
    const next = JSON.parse(event.data)
    await loadStrings()
    receive(next)
  }
  source.onerror = () => {
    body.dataset.linked = 'false'
    // A refused connection is retried by EventSource itself; an error answer closes it for good.
    if (source.readyState === EventSource.CLOSED) {
      setTimeout(connect, retryMs)
      retryMs = Math.min(retryMs * 2, 5000)
    }
  }
}

const frame = $('[data-frame]')
let frameTimer = null
function nextFrame(delayMs) {
  clearTimeout(frameTimer)
  frameTimer = setTimeout(() => {
    frame.src = `/frame.jpg?at=${Date.now()}`
  }, delayMs)
}
frame.addEventListener('load', () => {
  show(frame, true)
  show($('[data-no-camera]'), false)
  nextFrame(150)
})
frame.addEventListener('error', () => {
  show(frame, false)
  show($('[data-no-camera]'), true)
  nextFrame(1000)
})

$('[data-language-toggle]').addEventListener('click', () => {
  chosenLanguage = languages.find((code) => code !== language())
  render()
})

setInterval(renderClock, 1000)
connect()
nextFrame(0)
