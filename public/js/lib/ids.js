// Message client ids. crypto.randomUUID() only exists in secure contexts, and this page is
// often opened as http://<LAN address>:8000, so build the id from getRandomValues() instead.

/** @returns {string} "c-" followed by 32 hex digits (128 random bits) */
export function newClientId () {
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  return 'c-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}
