//! The one escaping rule for text from outside (a baseline file, a saved
//! plan, an AWS answer) before it reaches a terminal, a report or a
//! message: every layer prints through it (docs/safety.md).

/// Text from outside (an AWS answer, a file) made safe to print: control
/// characters (NUL, escape sequences, line breaks, ...) are shown escaped
/// (`\u{1b}`, `\n`), so that no answer can move the cursor, recolour a
/// terminal, or add a line that looks like the tool's own; so are format
/// characters (Unicode category Cf: the bidirectional overrides of
/// "Trojan Source", zero-width characters) and noncharacters (U+FFFE,
/// U+FDD0…), which reorder or hide what a reader sees. Other characters,
/// Japanese account names included, are kept as they are. The one
/// escaping rule for text from outside (docs/safety.md).
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else if needs_escape(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// [`printable`] of each line: for text whose line breaks are its own
/// (an error message that lists one difference a line).
pub fn printable_lines(s: &str) -> String {
    s.split('\n')
        .map(|line| printable(line).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether a character is shown escaped by [`printable`].
pub fn needs_escape(c: char) -> bool {
    use unicode_general_category::{GeneralCategory, get_general_category};
    let n = c as u32;
    c.is_control()
        || get_general_category(c) == GeneralCategory::Format
        || (0xFDD0..=0xFDEF).contains(&n)
        || n & 0xFFFE == 0xFFFE
}
