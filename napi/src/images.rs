//! Entry points of the image capability (issue 15, in progress): `imageInfo` reads an image's
//! headers on the pool and hands back its fields as a list, which the JS layer names.

use napi::Env;
use napi::bindgen_prelude::{External, Unknown};
use napi_derive::napi;

use crate::errors::Result;
use crate::pool::NativePool;
use crate::runtime::input::Input;
use crate::runtime::value::Value;
use offload_core::images;

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
