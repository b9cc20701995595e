'use strict'
// The process pool's waiting tasks: FIFO within three priority levels (high, normal, low).
// A task cancelled while waiting is not searched for: it is marked and skipped when it reaches
// the front, and the arrays are compacted if such stale entries pile up, so a storm of aborted
// waiting tasks cannot grow them past what maxQueue allows.

// A FIFO with O(1) shift.
class Fifo {
  constructor() {
    this.items = []
    this.head = 0
  }

  push(x) { this.items.push(x) }

  shift() {
    const x = this.items[this.head]
    this.items[this.head++] = undefined
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return x
  }

  get length() { return this.items.length - this.head }
}

/** @typedef {{ settled: boolean, queued: boolean }} Queued */

class TaskQueue {
  #queues = [new Fifo(), new Fifo(), new Fifo()]
  #stale = 0 // settled tasks still in the arrays
  /** Tasks waiting (settled ones not counted). */
  length = 0

  /**
   * @param {Queued} task
   * @param {number} priority 0 (high), 1 (normal) or 2 (low)
   */
  push(task, priority) {
    this.#queues[priority].push(task)
    task.queued = true
    this.length++
  }

  /** The next waiting task by priority, then age; undefined if none. */
  next() {
    for (const q of this.#queues) {
      while (q.length > 0) {
        const task = q.shift()
        if (task.settled) { // cancelled while waiting; already uncounted
          this.#stale--
          continue
        }
        task.queued = false
        this.length--
        return task
      }
    }
    return undefined
  }

  /**
   * A task settled: if it was waiting, it no longer counts (it stays in its array until it
   * reaches the front).
   * @param {Queued} task
   */
  settled(task) {
    if (!task.queued) return
    task.queued = false
    this.length--
    if (++this.#stale > 1024 && this.#stale > this.length) this.#compact()
  }

  #compact() {
    for (let i = 0; i < this.#queues.length; i++) {
      const fresh = new Fifo()
      for (let q = this.#queues[i]; q.length > 0;) {
        const task = q.shift()
        if (!task.settled) fresh.push(task)
      }
      this.#queues[i] = fresh
    }
    this.#stale = 0
  }
}

module.exports = { TaskQueue }
