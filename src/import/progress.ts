// Progress of a long import on stderr: a bar redrawn in place on a terminal, a plain line every
// few seconds otherwise (a log file, a CI job), and the rate either way.

export interface Progress {
  update: (done: number, total: number) => void
  /** Ends the bar's line. */
  finish: () => void
}

const BAR = 28
const LINE_EVERY_MS = 5000
const REDRAW_EVERY_MS = 100

const count = (n: number): string => n.toLocaleString('en-US')

export function progressOn (stream: NodeJS.WriteStream, what: string, now: () => number = Date.now): Progress {
  const started = now()
  let last = stream.isTTY === true ? 0 : started
  let drawn = false
  let printed = -1
  let latest = { done: 0, total: 0 }

  const line = (): string => {
    const { done, total } = latest
    const seconds = Math.max((now() - started) / 1000, 0.001)
    const rate = Math.round(done / seconds)
    const left = rate > 0 && total > done ? ` · ${Math.ceil((total - done) / rate)} s left` : ''
    return `${count(done)}/${count(total)} ${what} · ${count(rate)}/s${left}`
  }

  return {
    update (done, total) {
      latest = { done, total }
      const t = now()
      if (stream.isTTY === true) {
        if (t - last < REDRAW_EVERY_MS && done < total) return
        const filled = total === 0 ? BAR : Math.round((done / total) * BAR)
        const percent = total === 0 ? 100 : Math.floor((done / total) * 100)
        stream.write(`\r\x1b[2K[${'█'.repeat(filled)}${'░'.repeat(BAR - filled)}] ${String(percent).padStart(3)}% ${line()}`)
        drawn = true
      } else {
        if (t - last < LINE_EVERY_MS) return
        stream.write(`${line()}\n`)
        printed = done
      }
      last = t
    },
    finish () {
      if (stream.isTTY === true) {
        if (drawn) stream.write('\n')
      } else if (latest.done > 0 && latest.done !== printed) {
        stream.write(`${line()}\n`)
      }
    }
  }
}
