/*
 * The dashboard's live events. The server renders each new event as the
 * dashboard's own list item and sends it as a server-sent event; this
 * puts it at the top of the latest events, adds it to today's counts and
 * to its hour in the chart (drawn as the server draws it:
 * app/services/dashboard_service.ts, chartBars) and, for a denied event,
 * sounds an alert when the operator turned the sound on (remembered in
 * this browser). Without JavaScript the page is a snapshot as of loading.
 */
const list = document.querySelector('[data-dashboard-events]')
const status = document.querySelector('[data-live-status]')
const chart = document.querySelector('[data-hourly-chart]')
const soundToggle = document.querySelector('[data-alert-sound]')
const soundKey = 'faceaccess.dashboard.alert-sound'

let audio = null

/** Two short beeps, made here: the page loads no sound file. */
function beep() {
  audio ??= new AudioContext()
  void audio.resume()
  for (const start of [0, 0.25]) {
    const tone = audio.createOscillator()
    const volume = audio.createGain()
    tone.frequency.value = 880
    volume.gain.value = 0.2
    tone.connect(volume).connect(audio.destination)
    tone.start(audio.currentTime + start)
    tone.stop(audio.currentTime + start + 0.15)
  }
}

function soundOn() {
  return localStorage.getItem(soundKey) === 'on'
}

if (soundToggle) {
  const box = soundToggle.querySelector('input')
  box.checked = soundOn()
  soundToggle.hidden = false
  box.addEventListener('change', () => {
    localStorage.setItem(soundKey, box.checked ? 'on' : 'off')
    if (box.checked) beep()
  })
}

function redrawChart() {
  const plotHeight = Number(chart.dataset.plotHeight)
  const hours = [...chart.querySelectorAll('g[data-hour]')]
  const count = (hour) => Number(hour.dataset.granted) + Number(hour.dataset.denied)
  const busiest = Math.max(1, ...hours.map(count))
  for (const hour of hours) {
    const denied = Number(hour.dataset.denied)
    const total = Math.round((count(hour) / busiest) * plotHeight)
    const deniedHeight = Math.round((denied / busiest) * plotHeight)
    const [granted, refused] = hour.querySelectorAll('rect')
    granted.setAttribute('y', String(plotHeight - total))
    granted.setAttribute('height', String(total - deniedHeight))
    refused.setAttribute('y', String(plotHeight - deniedHeight))
    refused.setAttribute('height', String(deniedHeight))
    const from = `${hour.dataset.hour.padStart(2, '0')}:00`
    const until = `${String(Number(hour.dataset.hour) + 1).padStart(2, '0')}:00`
    hour.querySelector('title').textContent = chart.dataset.barTitle
      .replace('{from}', from)
      .replace('{until}', until)
      .replace('{total}', String(count(hour)))
      .replace('{denied}', String(denied))
  }
}

function addToToday(item) {
  if (item.dataset.day !== list.dataset.today) return
  const denied = item.dataset.decision === 'denied'
  for (const counter of document.querySelectorAll('[data-count]')) {
    if (counter.dataset.count === 'events' || (denied && counter.dataset.count === 'denied')) {
      counter.textContent = String(Number(counter.textContent) + 1)
    }
  }
  const hour = chart?.querySelector(`g[data-hour="${item.dataset.hour}"]`)
  if (hour) {
    const key = denied ? 'denied' : 'granted'
    hour.dataset[key] = String(Number(hour.dataset[key]) + 1)
    redrawChart()
  }
}

if (list && 'EventSource' in window) {
  const size = Number(list.dataset.size) || 10
  const source = new EventSource(list.dataset.streamUrl)
  // Today's counts start again at midnight: the page reloads then.
  const untilMidnight = Number(list.dataset.dayEndsAt) - Date.now()
  if (untilMidnight > 0) setTimeout(() => location.reload(), untilMidnight + 1000)

  source.addEventListener('open', () => {
    if (status) status.textContent = status.dataset.live
  })
  source.addEventListener('error', () => {
    if (status) status.textContent = status.dataset.reconnecting
  })
  source.addEventListener('access', (message) => {
    const { id, html } = JSON.parse(message.data)
    if (list.querySelector(`[data-event-id="${id}"]`)) return
    list.insertAdjacentHTML('afterbegin', html)
    while (list.children.length > size) list.lastElementChild.remove()
    document.querySelector('[data-feed-empty]')?.setAttribute('hidden', '')
    const item = list.firstElementChild
    addToToday(item)
    if (item.dataset.decision === 'denied' && soundOn()) beep()
  })
}
