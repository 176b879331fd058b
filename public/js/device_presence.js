/*
 * Devices going online and offline while a page is open. The element with
 * `data-presence-stream` names the server-sent stream; every element with
 * `data-presence="<device id>"` shows that device's state (badge, last
 * call, address), and on the dashboard an item with
 * `data-offline-device="<id>"` is listed only while the device is offline.
 * Without JavaScript the page shows the states as of loading.
 */
const origin = document.querySelector('[data-presence-stream]')

function show(device) {
  for (const element of document.querySelectorAll(`[data-presence="${device.id}"]`)) {
    element.dataset.online = String(device.online)
    const badge = element.querySelector('[data-presence-badge]')
    if (badge) {
      badge.textContent = device.online ? badge.dataset.online : badge.dataset.offline
      badge.className = `badge badge-${device.online ? 'online' : 'offline'}`
    }
    const seen = element.querySelector('[data-presence-seen]')
    if (seen) {
      seen.textContent = device.seen ?? seen.dataset.never
      seen.setAttribute('datetime', device.seenIso ?? '')
    }
    const address = element.querySelector('[data-presence-address]')
    if (address) address.textContent = device.address ?? ''
  }
  for (const item of document.querySelectorAll(`[data-offline-device="${device.id}"]`)) {
    item.hidden = device.online
  }
}

function countOffline() {
  const list = document.querySelector('[data-offline-list]')
  if (!list) return
  const offline = list.querySelectorAll('[data-offline-device]:not([hidden])').length
  for (const counter of document.querySelectorAll('[data-offline-count]')) {
    counter.textContent = String(offline)
  }
  document.querySelector('[data-offline-none]')?.toggleAttribute('hidden', offline > 0)
}

if (origin && 'EventSource' in window) {
  const source = new EventSource(origin.dataset.presenceStream)
  source.addEventListener('presence', (message) => {
    for (const device of JSON.parse(message.data)) show(device)
    countOffline()
  })
}
