// Tiny DOM builder. Every string becomes a text node: nothing here ever parses HTML.

/**
 * @typedef {string | number | boolean | null | undefined} AttrValue
 * @typedef {Node | string | null | undefined | false} Child
 */

/**
 * Create an element. `class` sets className, `on*` keys with function values add listeners,
 * `true` sets a boolean attribute, `false`/null/undefined skip it.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, AttrValue | EventListener>} [attrs]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h (tag, attrs = {}, ...children) {
  const el = document.createElement(tag)
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue
    if (typeof value === 'function') el.addEventListener(key.slice(2), value)
    else if (key === 'class') el.className = String(value)
    else el.setAttribute(key, value === true ? '' : String(value))
  }
  append(el, children)
  return el
}

/**
 * @param {Element} parent
 * @param {(Child | Child[])[]} children
 */
export function append (parent, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue
    parent.append(typeof child === 'string' ? document.createTextNode(child) : child)
  }
}

/**
 * The element with this id, typed; throws when the page markup lacks it.
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} type
 * @returns {T}
 */
export function byId (id, type) {
  const el = document.getElementById(id)
  if (!(el instanceof type)) throw new Error(`#${id} is missing or not a ${type.name}`)
  return el
}
