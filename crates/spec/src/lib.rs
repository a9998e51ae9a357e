//! The `baseline.yaml` schema: parsing, validation and the JSON Schema.
//!
//! This crate owns what a baseline file *is*: its types ([`model`]), how the
//! YAML text becomes them with every error at `file:line:column`
//! ([`parse`], [`load`]), and the JSON Schema editors use
//! ([`json_schema`]). It knows nothing of AWS SDKs or of plans.

#![warn(missing_docs)]

mod error;
pub mod model;
pub mod text;
mod validate;
mod yaml;

use std::path::Path;

pub use error::{Diagnostic, SpecError};
pub use model::*;
pub use validate::{
    check_bucket_name, is_account_id, is_kms_key_arn, is_ou_id, is_region, key_path,
};
pub use yaml::Pos;

/// Reads and validates a baseline file.
pub fn load(path: &Path) -> Result<Baseline, SpecError> {
    let text = read_bounded(path)?;
    parse(&text, &path.display().to_string())
}

/// [`load`] with `checks`; returns the warnings as well.
pub fn load_with(path: &Path, checks: &Checks) -> Result<(Baseline, Vec<Diagnostic>), SpecError> {
    let text = read_bounded(path)?;
    parse_with(&text, &path.display().to_string(), checks)
}

/// The largest baseline file read: a thousand accounts listed with
/// overrides fit in well under a megabyte.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Reads a baseline file, refusing one over [`MAX_FILE_BYTES`] before
/// reading it (and never reading more than that, should it grow).
pub fn read_bounded(path: &Path) -> Result<String, SpecError> {
    use std::io::Read;
    let read_err = |source| SpecError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let size = file.metadata().map_err(read_err)?.len();
    let too_large = |size| SpecError::TooLarge {
        path: path.to_path_buf(),
        size,
        max: MAX_FILE_BYTES,
    };
    if size > MAX_FILE_BYTES {
        return Err(too_large(size));
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|e| {
        read_err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("not UTF-8 text: {e}"),
        ))
    })
}

/// Parses and validates baseline text; `file` names it in messages.
///
/// All structural errors are reported at once; the semantic checks run
/// once the structure is sound, and report all of theirs.
pub fn parse(text: &str, file: &str) -> Result<Baseline, SpecError> {
    parse_with(text, file, &Checks::default()).map(|(b, _)| b)
}

/// The checks that depend on the day and on the command line.
#[derive(Debug, Clone, Default)]
pub struct Checks {
    /// Today, `YYYY-MM-DD` (UTC): exceptions are checked against it (an
    /// ended one is a warning, one more than a year ahead refused).
    /// `None`: not checked.
    pub today: Option<String>,
    /// `--allow-long-exceptions`: exceptions may end more than a year
    /// ahead.
    pub allow_long_exceptions: bool,
}

/// [`parse`] with `checks`; returns the warnings as well.
pub fn parse_with(
    text: &str,
    file: &str,
    checks: &Checks,
) -> Result<(Baseline, Vec<Diagnostic>), SpecError> {
    let invalid = |diagnostics| SpecError::Invalid {
        file: file.to_string(),
        diagnostics,
    };
    let (value, positions) = yaml::load(text).map_err(|e| {
        invalid(vec![Diagnostic {
            file: file.to_string(),
            line: e.pos.line,
            column: e.pos.column,
            path: String::new(),
            message: e.message,
            hint: None,
        }])
    })?;

    let mut report = validate::Report::new(file, &positions);
    validate::structure(&value, &mut report);
    if !report.diagnostics.is_empty() {
        return Err(invalid(report.finish()));
    }
    let baseline: Baseline = match serde_json::from_value(value) {
        Ok(b) => b,
        Err(e) => {
            // The schema is derived from the same types, so this means the
            // two disagree: still say where we were.
            return Err(invalid(vec![Diagnostic {
                file: file.to_string(),
                line: 1,
                column: 1,
                path: String::new(),
                message: e.to_string(),
                hint: None,
            }]));
        }
    };
    validate::meaning(&baseline, &mut report);
    if let Some(today) = &checks.today {
        validate::exception_days(&baseline, today, checks.allow_long_exceptions, &mut report);
    }
    if !report.diagnostics.is_empty() {
        return Err(invalid(report.finish()));
    }
    Ok((baseline, report.warnings))
}

/// The JSON Schema of `baseline.yaml` (draft 2020-12), as committed under
/// `schema/baseline.schema.json`.
pub fn json_schema() -> serde_json::Value {
    let generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    let schema = generator.into_root_schema_for::<Baseline>();
    let mut value = schema.to_value();
    // An optional key is "absent", not "null": `cloudtrail:` with nothing
    // after it is a mistake worth reporting, so drop the null schemars adds.
    strip_null(&mut value);
    if let Some(obj) = value.as_object_mut() {
        obj.insert(
            "$id".into(),
            "https://baseline.dev/schema/baseline.schema.json".into(),
        );
    }
    value
}

fn strip_null(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Object(obj) => {
            if let Some(Value::Array(types)) = obj.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let single = types.remove(0);
                    obj.insert("type".into(), single);
                }
            }
            let is_null = |s: &Value| s.get("type").is_some_and(|t| t == "null");
            if let Some(Value::Array(branches)) = obj.get_mut("anyOf")
                && branches.iter().any(is_null)
            {
                branches.retain(|b| !is_null(b));
                if branches.len() == 1 {
                    let only = branches.remove(0);
                    obj.remove("anyOf");
                    if let Value::Object(inner) = only {
                        for (k, val) in inner {
                            obj.entry(k).or_insert(val);
                        }
                    }
                }
            }
            obj.values_mut().for_each(strip_null);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_null),
        _ => {}
    }
}

/// [`json_schema`] as the pretty-printed text that is committed.
pub fn json_schema_text() -> String {
    let mut s = serde_json::to_string_pretty(&json_schema()).expect("a JSON value prints");
    s.push('\n');
    s
}
