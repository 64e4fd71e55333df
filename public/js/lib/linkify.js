// Message text → DOM: plain text nodes, with http(s) URLs turned into safe links.
// Nothing is ever parsed as HTML, and no other scheme (javascript:, data:, …) becomes a link.

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"]+/gi
const TRAILING_PUNCTUATION = /[.,;:!?'")\]}]+$/

/**
 * @param {string} candidate
 * @returns {string | null} the normalised href, or null when it is not a plain http(s) URL
 */
export function safeHref (candidate) {
  try {
    const url = new URL(candidate)
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null
  } catch {
    return null
  }
}

/**
 * Append `text` to `parent`, with links for http(s) URLs.
 * @param {Element} parent
 * @param {string} text
 */
export function appendLinkified (parent, text) {
  let last = 0
  for (const match of text.matchAll(URL_PATTERN)) {
    const start = match.index ?? 0
    // "see https://x.org/a." — the final dot (or a closing bracket) belongs to the sentence.
    const raw = match[0].replace(TRAILING_PUNCTUATION, '')
    const href = safeHref(raw)
    if (!href) continue
    if (start > last) parent.append(text.slice(last, start))
    const link = document.createElement('a')
    link.href = href
    link.target = '_blank'
    link.rel = 'noopener noreferrer'
    link.textContent = raw
    parent.append(link)
    last = start + raw.length
  }
  if (last < text.length) parent.append(text.slice(last))
}
