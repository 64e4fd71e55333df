// The part of autocannon's programmatic API the bench uses (the package ships no types).
declare module 'autocannon' {
  interface Request {
    method?: string
    path?: string
    headers?: Record<string, string>
    body?: string
    setupRequest?: (request: Request, context: Record<string, unknown>) => Request
  }
  interface Histogram { average: number, mean: number, stddev: number, min: number, max: number, p50: number, p90: number, p99: number }
  interface Options {
    url: string
    connections?: number
    pipelining?: number
    /** Seconds. */
    duration?: number
    headers?: Record<string, string>
    requests?: Request[]
  }
  interface Result {
    latency: Histogram
    requests: Histogram
    throughput: Histogram
    errors: number
    timeouts: number
    non2xx: number
    '2xx': number
    /** Seconds. */
    duration: number
  }
  function autocannon (options: Options): Promise<Result>
  export default autocannon
}
