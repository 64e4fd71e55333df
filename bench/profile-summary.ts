// The top self-time functions of a V8 .cpuprofile (from `node --cpu-prof`): for each node,
// hitCount × the mean sampling interval, summed per function (callFrame name + url + line).
// Usage: node --import tsx bench/profile-summary.ts <file.cpuprofile | directory> [top=30]
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { pathToFileURL } from 'node:url'

interface CallFrame { functionName: string, url: string, lineNumber: number, columnNumber: number }
interface ProfileNode { id: number, callFrame: CallFrame, hitCount?: number }
interface CpuProfile { nodes: ProfileNode[], startTime: number, endTime: number, samples?: number[] }

export interface FunctionTime { name: string, where: string, ms: number, share: number }

/** Self time per function, largest first; `share` is of the whole profile (idle included). */
export function selfTimes (profile: CpuProfile): { total: number, functions: FunctionTime[] } {
  const hits = profile.nodes.reduce((sum, node) => sum + (node.hitCount ?? 0), 0)
  const totalMs = (profile.endTime - profile.startTime) / 1000
  const interval = hits === 0 ? 0 : totalMs / hits
  const byFunction = new Map<string, FunctionTime>()
  for (const node of profile.nodes) {
    if ((node.hitCount ?? 0) === 0) continue
    const { functionName, url, lineNumber } = node.callFrame
    const name = functionName === '' ? '(anonymous)' : functionName
    const where = url === '' ? '' : `${shorten(url)}:${lineNumber + 1}`
    const key = `${name} ${where}`
    const entry = byFunction.get(key) ?? { name, where, ms: 0, share: 0 }
    entry.ms += (node.hitCount ?? 0) * interval
    byFunction.set(key, entry)
  }
  const functions = [...byFunction.values()].sort((a, b) => b.ms - a.ms)
  for (const f of functions) f.share = totalMs === 0 ? 0 : f.ms / totalMs
  return { total: totalMs, functions }
}

/** node_modules/<pkg>/… or the path inside the project, instead of a long file URL. */
function shorten (url: string): string {
  const path = url.replace(/^file:\/\//, '')
  const modules = path.lastIndexOf('node_modules/')
  if (modules >= 0) return path.slice(modules + 'node_modules/'.length)
  const cwd = process.cwd()
  return path.startsWith(cwd) ? relative(cwd, path) : path
}

/** The newest .cpuprofile in a directory (or the file itself). */
export function newestProfile (path: string): string | null {
  if (!statSync(path).isDirectory()) return path
  const files = readdirSync(path).filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(path, f)).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)
  return files[0] ?? null
}

/** A printable table of the top functions, with busy (non-idle) shares too. */
export function formatTop (file: string, top = 30): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const { total, functions } = selfTimes(profile)
  const idle = functions.filter((f) => f.name === '(idle)').reduce((sum, f) => sum + f.ms, 0)
  const busy = total - idle
  const lines = [`${file}: ${(total / 1000).toFixed(1)} s profiled, ${(busy / 1000).toFixed(1)} s busy (not idle)`,
    '  self ms   % busy  function  (where)']
  for (const f of functions.filter((f) => f.name !== '(idle)').slice(0, top)) {
    lines.push(`${f.ms.toFixed(0).padStart(8)}  ${(busy === 0 ? 0 : (100 * f.ms) / busy).toFixed(1).padStart(6)}%  ${f.name}  ${f.where}`)
  }
  return lines.join('\n')
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const target = process.argv[2]
  if (target === undefined) {
    process.stderr.write('usage: profile-summary.ts <file.cpuprofile | directory> [top]\n')
    process.exit(2)
  }
  const file = newestProfile(target)
  if (file === null) {
    process.stderr.write(`no .cpuprofile in ${target}\n`)
    process.exit(1)
  }
  process.stdout.write(formatTop(file, Number(process.argv[3] ?? 30)) + '\n')
}
