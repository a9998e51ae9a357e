//! Errors of reading a baseline file: every problem with its place.

use std::fmt;
use std::path::PathBuf;

/// One problem in a baseline file, at `file:line:column`, with the key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file as the user named it.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The key path, like `accounts[0].id` (empty for the whole document).
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it, where we can tell.
    pub hint: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The file's own text (keys, values) is in the path and the
        // message: escaped, line breaks included (crate::text).
        use crate::text::printable;
        write!(
            f,
            "{}:{}:{}: ",
            printable(&self.file),
            self.line,
            self.column
        )?;
        if !self.path.is_empty() {
            write!(f, "{}: ", printable(&self.path))?;
        }
        f.write_str(&printable(&self.message))?;
        if let Some(hint) = &self.hint {
            write!(f, " ({})", printable(hint))?;
        }
        Ok(())
    }
}

/// Why a baseline could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The file could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than any baseline needs; it is not parsed.
    #[error("{} is {size} bytes; a baseline file is at most {max} bytes, so it was not read", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// [`crate::MAX_FILE_BYTES`].
        max: u64,
    },
    /// The file was read and is not a valid baseline; all problems found.
    #[error("{}", render(file, diagnostics))]
    Invalid {
        /// The file.
        file: String,
        /// Every problem found, in file order.
        diagnostics: Vec<Diagnostic>,
    },
}

fn render(file: &str, diagnostics: &[Diagnostic]) -> String {
    let n = diagnostics.len();
    let mut s = format!(
        "{file} is not a valid baseline ({n} error{})",
        if n == 1 { "" } else { "s" }
    );
    for d in diagnostics {
        s.push_str("\n  ");
        s.push_str(&d.to_string());
    }
    s
}
