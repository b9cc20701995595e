'use strict'
// The pools metrics() reports on. Held weakly: a pool that is garbage collected drops out.
const registered = { pools: new Set(), processPools: new Set() }

function register(kind, object) {
  registered[kind].add(new WeakRef(object))
}

function live(kind) {
  const out = []
  for (const ref of registered[kind]) {
    const o = ref.deref()
    if (o === undefined) registered[kind].delete(ref)
    else out.push(o)
  }
  return out
}

module.exports = { register, live }
