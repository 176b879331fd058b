/*
 * On narrow screens the navigation folds away behind the header's menu
 * button (the stylesheet decides when); this opens and closes it. Without
 * JavaScript the button stays hidden and the navigation stays open above
 * the page.
 */
const toggle = document.querySelector('[data-nav-toggle]')
const nav = toggle && document.getElementById(toggle.getAttribute('aria-controls'))

if (toggle && nav) {
  const setOpen = (open) => {
    toggle.setAttribute('aria-expanded', String(open))
    document.body.classList.toggle('nav-open', open)
  }
  document.body.classList.add('nav-collapsible')
  toggle.hidden = false
  toggle.addEventListener('click', () => setOpen(toggle.getAttribute('aria-expanded') !== 'true'))
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && document.body.classList.contains('nav-open')) {
      setOpen(false)
      toggle.focus()
    }
  })
}
