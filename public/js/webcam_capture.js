/*
 * The camera beside a photo field (resources/views/pages/people/_camera.edge).
 * While the camera runs, a small frame of its picture goes to the server
 * about twice a second; the answer frames the faces the engine finds and
 * says what to change before the picture is taken. The picture taken goes
 * into the form's photo field as a JPEG file, so that the form sends it like
 * a chosen photo, marked photoSource=webcam.
 *
 * Browsers give pages the camera only in a secure context (HTTPS, or
 * http://localhost); elsewhere the panel says so and the photo field stays.
 */
const panel = document.querySelector('[data-camera]')
const form = panel?.closest('form')
const fileInput = form?.querySelector('input[type="file"][name="photo"]')

/** Frames sent for hints: small enough to be quick, large enough for the engine's checks. */
const frameWidth = 480
const frameEveryMs = 500

if (panel && form && fileInput && 'DataTransfer' in window) {
  const part = (name) => panel.querySelector(`[data-camera-${name}]`)
  const source = form.querySelector('[data-camera-source]')
  const video = part('video')
  const overlay = part('overlay')
  const hint = part('hint')
  const message = part('message')
  const live = part('live')
  const shot = part('shot')
  const still = part('still')
  const startButton = part('start')
  let stream = null
  let timer = null
  let sending = false
  let lastAnswer = null
  let stillUrl = null

  panel.hidden = false

  const say = (text) => {
    message.textContent = text
    message.hidden = !text
  }

  const stop = () => {
    clearTimeout(timer)
    timer = null
    stream?.getTracks().forEach((track) => track.stop())
    stream = null
    video.srcObject = null
    live.hidden = true
    startButton.hidden = false
  }

  const draw = () => {
    const width = video.clientWidth
    const height = video.clientHeight
    overlay.width = width
    overlay.height = height
    const context = overlay.getContext('2d')
    context.clearRect(0, 0, width, height)
    if (!lastAnswer?.faces?.length || !lastAnswer.width) return
    const scale = width / lastAnswer.width
    context.lineWidth = 3
    lastAnswer.faces.forEach((box, index) => {
      context.strokeStyle = index === 0 && lastAnswer.ready ? '#1a7f37' : '#d4a017'
      context.strokeRect(
        box.left * scale,
        box.top * scale,
        (box.right - box.left) * scale,
        (box.bottom - box.top) * scale
      )
    })
  }

  const grab = (width, quality) =>
    new Promise((resolve) => {
      const canvas = document.createElement('canvas')
      const ratio = Math.min(1, width / video.videoWidth)
      canvas.width = Math.round(video.videoWidth * ratio)
      canvas.height = Math.round(video.videoHeight * ratio)
      canvas.getContext('2d').drawImage(video, 0, 0, canvas.width, canvas.height)
      canvas.toBlob(resolve, 'image/jpeg', quality)
    })

  const preview = async () => {
    timer = setTimeout(preview, frameEveryMs)
    if (sending || !stream || video.readyState < 2) return
    sending = true
    try {
      const frame = await grab(frameWidth, 0.8)
      const body = new FormData()
      body.append('_csrf', form.querySelector('input[name="_csrf"]').value)
      body.append('frame', frame, 'frame.jpg')
      const response = await fetch(panel.dataset.previewUrl, {
        method: 'POST',
        body,
        headers: { Accept: 'application/json' },
        credentials: 'same-origin',
      })
      if (response.ok || response.status === 422) {
        lastAnswer = await response.json()
        hint.textContent = lastAnswer.hint
        hint.classList.toggle('ready', Boolean(lastAnswer.ready))
        draw()
      }
    } catch {
      // A frame that got no answer is followed by the next one.
    } finally {
      sending = false
    }
  }

  const start = async () => {
    say('')
    if (!window.isSecureContext || !navigator.mediaDevices?.getUserMedia) {
      say(panel.dataset.insecure.replace('{origin}', window.location.origin))
      return
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: { width: { ideal: 1280 }, height: { ideal: 720 } },
        audio: false,
      })
    } catch (error) {
      say(panel.dataset.unavailable.replace('{reason}', error.message || error.name))
      return
    }
    video.srcObject = stream
    await video.play().catch(() => undefined)
    lastAnswer = null
    hint.textContent = panel.dataset.waiting
    hint.classList.remove('ready')
    live.hidden = false
    shot.hidden = true
    startButton.hidden = true
    preview()
  }

  const take = async () => {
    if (!stream || video.readyState < 2) return
    const picture = await grab(video.videoWidth, 0.92)
    const file = new File([picture], `camera-${Date.now()}.jpg`, { type: 'image/jpeg' })
    const files = new DataTransfer()
    files.items.add(file)
    fileInput.files = files.files
    source.value = 'webcam'
    if (stillUrl) URL.revokeObjectURL(stillUrl)
    stillUrl = URL.createObjectURL(file)
    still.src = stillUrl
    shot.hidden = false
    stop()
  }

  startButton.addEventListener('click', start)
  part('take').addEventListener('click', take)
  part('stop').addEventListener('click', stop)
  part('retake').addEventListener('click', () => {
    fileInput.value = ''
    source.value = 'photo'
    shot.hidden = true
    start()
  })
  // A photo chosen by hand replaces the picture taken.
  fileInput.addEventListener('change', () => {
    source.value = 'photo'
    shot.hidden = true
  })
  window.addEventListener('resize', draw)
  window.addEventListener('pagehide', stop)
}
