'use strict'
// The pools metrics() reports on, each under a label fixed when it registers: its name, or
// `name#2`, `name#3`, ... while that name is taken, so two pools never share a series and a
// pool's series never changes label. Held weakly; a pool leaves when it is closed, destroyed
// or garbage collected.
const registered = { pools: new Map(), processPools: new Map(), threadPools: new Map() } // label -> WeakRef
const gone = new FinalizationRegistry(({ kind, label }) => {
  const ref = registered[kind].get(label)
  if (ref !== undefined && ref.deref() === undefined) registered[kind].delete(label)
})

// Registers `object` under a label derived from `name`; returns a function that unregisters it.
function register(kind, object, name) {
  const map = registered[kind]
  let label = name
  for (let n = 2; map.has(label) && map.get(label).deref() !== undefined; n++) label = `${name}#${n}`
  map.set(label, new WeakRef(object))
  gone.register(object, { kind, label }, object)
  return () => {
    if (map.get(label)?.deref() === object) map.delete(label)
    gone.unregister(object)
  }
}

// [label, object] pairs of the pools still registered.
function live(kind) {
  const out = []
  for (const [label, ref] of registered[kind]) {
    const o = ref.deref()
    if (o === undefined) registered[kind].delete(label)
    else out.push([label, o])
  }
  return out
}

module.exports = { register, live }
