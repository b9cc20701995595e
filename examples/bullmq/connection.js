'use strict'
// The Redis connection both sides use: REDIS_URL, default redis://127.0.0.1:6379.
// maxRetriesPerRequest: null is what BullMQ asks of a worker's connection.
const url = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
module.exports = {
  connection: { host: url.hostname, port: Number(url.port || 6379), maxRetriesPerRequest: null },
  QUEUE: 'digests',
}
