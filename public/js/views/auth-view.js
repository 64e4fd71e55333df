// Log in / register form. Errors appear next to the fields they concern, never as alerts.

import { byId } from '../lib/dom.js'
import { ApiError } from '../api.js'

/** @typedef {import('../types.js').Session} Session */
/** @typedef {import('../api.js').Api} Api */

/** @param {{ api: Api, onSession: (session: Session) => void }} deps */
export function createAuthView ({ api, onSession }) {
  const view = byId('auth-view', HTMLDivElement)
  const form = byId('auth-form', HTMLFormElement)
  const note = byId('auth-note', HTMLParagraphElement)
  const formError = byId('auth-error', HTMLParagraphElement)
  const fields = {
    username: byId('username', HTMLInputElement),
    password: byId('password', HTMLInputElement)
  }
  const fieldErrors = {
    username: byId('username-error', HTMLParagraphElement),
    password: byId('password-error', HTMLParagraphElement)
  }
  const buttons = [...form.querySelectorAll('button')]

  /** @param {'username' | 'password'} name @param {string} text */
  function setFieldError (name, text) {
    fieldErrors[name].textContent = text
    fields[name].setAttribute('aria-invalid', text ? 'true' : 'false')
  }

  function clearErrors () {
    setFieldError('username', '')
    setFieldError('password', '')
    formError.textContent = ''
  }

  /** @param {unknown} err @param {'login' | 'register'} action */
  function showError (err, action) {
    if (!(err instanceof ApiError)) {
      formError.textContent = 'Something went wrong. Please try again.'
      return
    }
    const perField = err.fieldErrors.filter((d) => d.path === 'username' || d.path === 'password')
    for (const d of perField) setFieldError(/** @type {'username' | 'password'} */ (d.path), d.message)
    if (err.code === 'username_taken') setFieldError('username', 'This username is taken. Choose another one, or log in.')
    else if (err.code === 'invalid_credentials') formError.textContent = 'Wrong username or password.'
    else if (err.status === 429) {
      formError.textContent = err.retryAfter
        ? `Too many attempts. Try again in ${Math.ceil(err.retryAfter)} seconds.`
        : 'Too many attempts. Please wait a moment and try again.'
    } else if (perField.length === 0) formError.textContent = err.message
    const firstInvalid = perField[0]?.path ?? (err.code === 'username_taken' ? 'username' : null)
    if (firstInvalid === 'username' || firstInvalid === 'password') fields[firstInvalid].focus()
    else if (action === 'login' && err.code === 'invalid_credentials') fields.password.select()
  }

  /** Catch the obvious before a round trip. @returns {boolean} */
  function checkFilled () {
    if (!fields.username.value.trim()) setFieldError('username', 'Enter your username.')
    if (!fields.password.value) setFieldError('password', 'Enter your password.')
    const missing = !fields.username.value.trim() ? fields.username : !fields.password.value ? fields.password : null
    missing?.focus()
    return !missing
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const submitter = /** @type {SubmitEvent} */ (event).submitter
    const action = submitter instanceof HTMLButtonElement && submitter.value === 'register' ? 'register' : 'login'
    clearErrors()
    if (!checkFilled()) return
    for (const b of buttons) b.disabled = true
    try {
      const username = fields.username.value.trim()
      const session = action === 'register'
        ? await api.register(username, fields.password.value)
        : await api.login(username, fields.password.value)
      fields.password.value = ''
      onSession(session)
    } catch (err) {
      showError(err, action)
    } finally {
      for (const b of buttons) b.disabled = false
    }
  })

  return {
    /** @param {string} [message] e.g. why the user was logged out */
    show (message = '') {
      clearErrors()
      note.textContent = message
      note.hidden = !message
      view.hidden = false
      document.title = 'Secure Chat'
      ;(fields.username.value ? fields.password : fields.username).focus()
    },
    hide () {
      view.hidden = true
    }
  }
}
