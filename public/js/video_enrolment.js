/*
 * Video enrolments in progress on a person's page. Each element with
 * `data-video-enrolment` that is still queued or running follows its
 * enrolment (`data-video-id`) in the person's list at `data-status-url`
 * (JSON), polled about once a second: the counters and the best
 * frames so far are updated in place, and the page is reloaded once the
 * job has ended, to show the enrolled faces. Without JavaScript a reload
 * shows the same.
 */
const pollMs = 1000

function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (match, name) => String(values[name] ?? match))
}

function showBest(element, progress) {
  const holder = element.querySelector('[data-video-best]')
  const list = element.querySelector('[data-video-best-list]')
  if (!holder || !list) return
  const shown = [...list.querySelectorAll('img')].map((image) => image.getAttribute('src'))
  const wanted = progress.best.map((frame) => frame.thumbnail)
  if (shown.join('|') === wanted.join('|')) return
  list.replaceChildren(
    ...progress.best.map((frame) => {
      const item = document.createElement('li')
      const image = document.createElement('img')
      image.src = frame.thumbnail
      image.alt = fill(element.dataset.frameLabel, { at: frame.at })
      image.width = 96
      image.height = 96
      image.className = 'thumbnail'
      image.dataset.test = 'video-best-frame'
      item.append(image)
      return item
    })
  )
  holder.hidden = progress.best.length === 0
}

function follow(element) {
  const counters = element.querySelector('[data-video-counters]')
  const reload = element.querySelector('[data-video-reload]')
  if (reload) reload.hidden = true
  const poll = async () => {
    let progress
    try {
      const response = await fetch(element.dataset.statusUrl, {
        headers: { accept: 'application/json' },
        credentials: 'same-origin',
      })
      if (!response.ok) throw new Error(String(response.status))
      const { videos } = await response.json()
      progress = videos.find((video) => String(video.id) === element.dataset.videoId)
    } catch {
      setTimeout(poll, pollMs * 3)
      return
    }
    if (!progress || progress.finished) {
      window.location.reload()
      return
    }
    if (progress.status !== element.dataset.status) {
      element.dataset.status = progress.status
      const badge = element.querySelector('[data-video-status]')
      if (badge) {
        badge.textContent = badge.dataset[progress.status] ?? progress.status
        badge.className = 'badge badge-running'
      }
    }
    if (counters) {
      counters.textContent = fill(element.dataset.counters, {
        read: progress.framesRead,
        expected: progress.expectedFrames,
        faces: progress.framesWithFace,
      })
    }
    showBest(element, progress)
    setTimeout(poll, pollMs)
  }
  setTimeout(poll, pollMs)
}

for (const element of document.querySelectorAll('[data-video-enrolment]')) {
  if (element.dataset.status === 'queued' || element.dataset.status === 'running') follow(element)
}
