'use strict'
// Helper process for the fleet scenario: the co-located web service, an Express app answering
// GET /health with a small JSON body, on a free loopback port (sent to the parent as
// { port }). Runs at nice 0 like any service; exits when the parent disconnects.
const express = require('express')

const app = express()
app.get('/health', (req, res) => res.json({ ok: true, uptime: process.uptime() }))
const server = app.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }))
// The client's keep-alive socket idles between rows for longer than Node's 5 s default; a
// server closing it then races the next probe (ECONNRESET, counted as a failed probe).
server.keepAliveTimeout = 0
process.on('disconnect', () => process.exit(0))
