/*
 * Live rows for the events page. The server renders each new event as the
 * page's own table row and sends it as a server-sent event; this inserts it
 * at the top and keeps the page at its length. Without JavaScript the page
 * is a plain list with a reload link.
 */
const table = document.querySelector('[data-live-events]')
const status = document.querySelector('[data-live-status]')

if (table && 'EventSource' in window) {
  const body = table.tBodies[0]
  const pageSize = Number(table.dataset.pageSize) || 50
  const source = new EventSource(table.dataset.streamUrl)

  source.addEventListener('open', () => {
    if (status) status.textContent = status.dataset.live
  })
  source.addEventListener('error', () => {
    if (status) status.textContent = status.dataset.reconnecting
  })
  source.addEventListener('access', (message) => {
    const { id, html } = JSON.parse(message.data)
    if (body.querySelector(`[data-event-id="${id}"]`)) return
    body.insertAdjacentHTML('afterbegin', html)
    while (body.rows.length > pageSize) body.deleteRow(-1)
    table.hidden = false
    document.querySelector('[data-live-empty]')?.remove()
  })
}
