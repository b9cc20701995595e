//! `hostBudget` options → the arguments of `HostBudget::open`.

use std::path::PathBuf;

use napi_derive::napi;

use crate::errors::{Error, Result, invalid_value, out_of_range};
use offload_core::budget::host::MAX_SLOTS;

/// A host-wide CPU budget shared by every pool, in every process of this user on this host,
/// that names it.
#[napi(object, object_to_js = false)]
pub struct HostBudgetOptions {
    /// The budget's name: 1 to 64 of `A-Z a-z 0-9 . _ -`, not `.` or `..`.
    pub name: String,
    /// Tasks running at once across all its pools and processes. Every process using the budget
    /// must ask for the same number (or leave it out). Default: the count in force, or for a new
    /// budget `os.availableParallelism()`.
    pub slots: Option<f64>,
    /// The directory that holds the budget's directory; it must belong to this user with mode
    /// 0700 (created so if missing). Default: `$XDG_RUNTIME_DIR/offload`, else `/tmp/offload-<uid>`.
    pub dir: String,
}

/// What `HostBudget::open` needs, checked.
pub(crate) struct HostBudgetSpec {
    pub base: PathBuf,
    pub name: String,
    pub slots: Option<usize>,
}

impl TryFrom<HostBudgetOptions> for HostBudgetSpec {
    type Error = Error;

    fn try_from(o: HostBudgetOptions) -> Result<Self> {
        let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
        if o.name.is_empty()
            || o.name.len() > 64
            || !o.name.chars().all(ok)
            || o.name == "."
            || o.name == ".."
        {
            return Err(invalid_value(
                "property 'options.hostBudget.name'",
                format!(
                    "expected 1 to 64 of A-Z a-z 0-9 . _ -, received {:?}",
                    o.name
                ),
            ));
        }
        if !o.dir.starts_with('/') || o.dir.contains('\0') {
            return Err(invalid_value(
                "property 'options.hostBudget.dir'",
                format!("expected an absolute path, received {:?}", o.dir),
            ));
        }
        let slots = match o.slots {
            None => None,
            Some(s) if s.fract() == 0.0 && (1.0..=MAX_SLOTS as f64).contains(&s) => {
                Some(s as usize)
            }
            Some(s) => {
                return Err(out_of_range(
                    "options.hostBudget.slots",
                    format!("an integer >= 1 && <= {MAX_SLOTS}"),
                    s,
                ));
            }
        };
        Ok(Self {
            base: PathBuf::from(o.dir),
            name: o.name,
            slots,
        })
    }
}
