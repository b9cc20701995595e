//! Entry points of the image capability (issue 15, in progress): `imageInfo` reads an image's
//! headers on the pool and hands back its fields as a list, which the JS layer names;
//! `transformImage` runs one whole pipeline on the pool and hands back the encoded bytes.

use napi::Env;
use napi::bindgen_prelude::{External, Unknown};
use napi_derive::napi;

use crate::errors::Result;
use crate::options::images::TransformOptions;
use crate::pool::NativePool;
use crate::runtime::input::Input;
use crate::runtime::value::Value;
use offload_core::images::{self, spec::TransformSpec};
use offload_core::kernels::KernelError;

/// `[format, width, height, orientation, hasAlpha, channels, space, bits, progressive, hasIcc,
/// hasExif]` of the image in `data`.
#[napi]
pub fn submit_image_info(
    env: Env,
    pool: &External<NativePool>,
    slot: u32,
    data: Unknown,
    priority: Option<String>,
    cancellable: bool,
) -> Result<Unknown<'static>> {
    let input = Input::from_js(&env, &data, "input")?;
    pool.run_kernel(
        &env,
        slot,
        priority,
        cancellable,
        [&data],
        [input],
        move |[d], _| {
            let i = images::probe(d)?;
            Ok(Value::List(vec![
                Value::Text(i.format.name().to_owned()),
                Value::Number(f64::from(i.width)),
                Value::Number(f64::from(i.height)),
                Value::Number(f64::from(i.orientation)),
                Value::Bool(i.has_alpha),
                Value::Number(f64::from(i.channels)),
                Value::Text(i.space.name().to_owned()),
                Value::Number(f64::from(i.bits)),
                Value::Bool(i.progressive),
                Value::Bool(i.has_icc),
                Value::Bool(i.has_exif),
            ]))
        },
    )
}

/// Runs `options` on the image in `data`: the encoded result, or with `info`
/// `[bytes, format, width, height, channels]`.
#[napi]
pub fn submit_transform_image(
    env: Env,
    pool: &External<NativePool>,
    slot: u32,
    data: Unknown,
    options: Option<TransformOptions>,
    info: bool,
    priority: Option<String>,
    cancellable: bool,
) -> Result<Unknown<'static>> {
    let spec = options
        .map(TransformSpec::try_from)
        .transpose()?
        .unwrap_or_default();
    let input = Input::from_js(&env, &data, "input")?;
    pool.run_kernel(
        &env,
        slot,
        priority,
        cancellable,
        [&data],
        [input],
        move |[d], t| {
            let out = images::transform(d, &spec, &|| t.is_cancelled()).map_err(|e| match e {
                None => KernelError::Cancelled,
                Some(e) => KernelError::Image(e),
            })?;
            if !info {
                return Ok(Value::Bytes(out.data));
            }
            Ok(Value::List(vec![
                Value::Bytes(out.data),
                Value::Text(out.format.name().to_owned()),
                Value::Number(f64::from(out.width)),
                Value::Number(f64::from(out.height)),
                Value::Number(f64::from(out.channels)),
            ]))
        },
    )
}
