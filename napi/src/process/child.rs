//! A child's handle (`NativeChild`) and the calls JS makes on it: pid, spawned, read, write,
//! kill, cancel, close. Each asynchronous call returns a promise the I/O thread settles
//! through the environment's channel.

use std::sync::Arc;

use napi::Env;
use napi::bindgen_prelude::{Either, External, Unknown};
use napi_derive::napi;

use crate::errors::{Result, TaskError, io_error};
use crate::options::process::parse_signal;
use crate::runtime::channel::{Completion, EnvScope, Settle};
use crate::runtime::deferred::Deferred;
use crate::runtime::input::Input as JsInput;
use crate::runtime::value::Value;
use offload_core::process::{Child, Source, Stream};

/// A child handle as JS holds it, inside an `External`; declared to napi for the typings.
#[napi]
pub struct NativeChild {
    pub(crate) child: Child,
    pub(crate) scope: Arc<EnvScope>,
}

/// Input bytes borrowed from a JS value: read only while its environment is alive, and the
/// value itself is held by the call's promise until the call settles.
pub(crate) struct Borrowed {
    pub(crate) input: JsInput,
    pub(crate) scope: Arc<EnvScope>,
}

impl Source for Borrowed {
    fn with_bytes(&self, f: &mut dyn FnMut(&[u8])) -> bool {
        let Some(_guard) = self.scope.borrow() else {
            return false;
        };
        f(self.input.as_slice());
        true
    }
}

type Done = Box<dyn FnOnce(std::result::Result<Value, TaskError>) + Send>;

impl NativeChild {
    /// A promise the I/O thread settles through the channel; `keep` is held until then.
    fn promise(
        &self,
        env: &Env,
        keep: &[&Unknown<'_>],
        start: impl FnOnce(Done),
    ) -> Result<Unknown<'static>> {
        let ((), promise) = Deferred::promise(env, keep, |deferred| {
            let scope = self.scope.clone();
            start(Box::new(move |result| {
                scope.post(Completion {
                    settle: Settle::Deferred(deferred),
                    result,
                })
            }));
            Ok(())
        })?;
        self.scope.begin(env);
        Ok(promise)
    }
}

#[napi]
pub fn process_pid(child: &External<NativeChild>) -> Option<i32> {
    child.child.pid()
}

/// Resolves with the child's pid once it has been spawned, or with null once it is known it
/// never will be (its report then says why).
#[napi]
pub fn process_spawned(env: Env, child: &External<NativeChild>) -> Result<Unknown<'static>> {
    child.promise(&env, &[], |done| {
        child.child.when_spawned(move |pid| {
            done(Ok(pid.map_or(Value::Null, |p| Value::Number(f64::from(p)))))
        })
    })
}

/// Sends `signal` (default: the child's `killSignal`), escalating to SIGKILL after
/// `forceKillAfter`; false if the child had already exited.
#[napi]
pub fn process_kill(child: &External<NativeChild>, signal: Either<String, f64>) -> Result<bool> {
    let sig = parse_signal("signal", signal)?;
    Ok(child.child.kill(sig))
}

/// Aborts the child (AbortSignal): `killSignal`, then SIGKILL; reported as cancelled.
#[napi]
pub fn process_cancel(child: &External<NativeChild>) {
    child.child.cancel();
}

/// The stream JS names by its descriptor number: 2 is stderr, anything else stdout.
fn stream_of(fd: u32) -> Stream {
    if fd == 2 {
        Stream::Stderr
    } else {
        Stream::Stdout
    }
}

/// The next chunk of the child's stdout (`stream` 1) or stderr (2): a Buffer, or null at end.
#[napi]
pub fn process_read(
    env: Env,
    child: &External<NativeChild>,
    stream: u32,
) -> Result<Unknown<'static>> {
    let which = stream_of(stream);
    child.promise(&env, &[], |done| {
        child.child.read(which, move |r| {
            done(match r {
                Ok(Some(chunk)) => Ok(Value::Bytes(chunk)),
                Ok(None) => Ok(Value::Null),
                Err(e) => Err(io_error(e)),
            })
        })
    })
}

/// Writes `data` to the child's stdin (read in place, kept alive until written).
#[napi]
pub fn process_write(
    env: Env,
    child: &External<NativeChild>,
    data: Unknown,
) -> Result<Unknown<'static>> {
    let input = JsInput::from_js(&env, &data, "chunk")?;
    let src = Box::new(Borrowed {
        input,
        scope: child.scope.clone(),
    });
    child.promise(&env, &[&data], |done| {
        child.child.write(src, move |r| {
            done(r.map(|()| Value::Undefined).map_err(io_error))
        })
    })
}

/// Stops reading the child's stdout (`stream` 1) or stderr (2) and closes our end.
#[napi]
pub fn process_close_output(child: &External<NativeChild>, stream: u32) {
    let which = stream_of(stream);
    child.child.close_output(which);
}

/// Closes the child's stdin after pending writes.
#[napi]
pub fn process_close_stdin(child: &External<NativeChild>) {
    child.child.close_stdin();
}
