// ESM entry for offload/worker: the same `serve` as the CommonJS one.
import worker from './serve.js'

export const { serve } = worker
export default worker
