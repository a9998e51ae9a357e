//! YAML text → a JSON value plus the source position of every node.
//!
//! We read the event stream of `saphyr-parser` ourselves instead of going
//! through a serde deserializer, because serde stops at the first error and
//! loses positions inside untagged enums. With the whole document as a JSON
//! value and a JSON-pointer → position map, every later check (the JSON
//! Schema, the semantic rules) can report *all* its errors, each at the
//! right `line:column`.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};
use serde_json::{Map, Number, Value};

/// A 1-based line and column in the source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

impl Pos {
    fn from_span(span: &Span) -> Self {
        Pos {
            line: span.start.line(),
            column: span.start.col() + 1,
        }
    }
}

/// Where a node stands: its value, and for a mapping entry, its key.
#[derive(Debug, Clone, Copy)]
pub struct NodePos {
    /// Position of the value.
    pub value: Pos,
    /// Position of the key, for a mapping entry.
    pub key: Option<Pos>,
}

/// JSON pointer (`/cloudtrail/kms`) → position.
#[derive(Debug, Default, Clone)]
pub struct Positions(HashMap<String, NodePos>);

impl Positions {
    /// The position of the node at `pointer`, or of its nearest ancestor that
    /// has one (a missing key is reported at the mapping that lacks it).
    /// Points at the key of a mapping entry: that is what users look for.
    pub fn key_or_value(&self, pointer: &str) -> Pos {
        let mut p = pointer.to_string();
        loop {
            if let Some(n) = self.0.get(&p) {
                return n.key.unwrap_or(n.value);
            }
            match p.rfind('/') {
                Some(i) => p.truncate(i),
                None => return Pos { line: 1, column: 1 },
            }
        }
    }

    /// The position of the value at `pointer` (or of its nearest ancestor).
    pub fn value(&self, pointer: &str) -> Pos {
        let mut p = pointer.to_string();
        loop {
            if let Some(n) = self.0.get(&p) {
                return n.value;
            }
            match p.rfind('/') {
                Some(i) => p.truncate(i),
                None => return Pos { line: 1, column: 1 },
            }
        }
    }
}

/// A YAML syntax error (or a construct we refuse), with its position.
#[derive(Debug, Clone)]
pub struct SyntaxError {
    /// Where.
    pub pos: Pos,
    /// What.
    pub message: String,
}

enum Frame {
    Map {
        pointer: String,
        map: Map<String, Value>,
        key: Option<(String, Pos)>,
        anchor: usize,
    },
    Seq {
        pointer: String,
        seq: Vec<Value>,
        anchor: usize,
    },
}

/// Escapes one JSON-pointer segment.
pub fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// The most values a document may hold once its aliases are expanded. A
/// baseline of a thousand accounts with overrides has a few tens of
/// thousands; a "billion laughs" file of a few hundred bytes would expand
/// to billions, and is refused when it passes this bound instead.
pub const MAX_VALUES: usize = 250_000;

/// The number of values (scalars, mappings, lists) in `v`.
fn count_values(v: &Value) -> usize {
    1 + match v {
        Value::Array(a) => a.iter().map(count_values).sum(),
        Value::Object(m) => m.values().map(count_values).sum(),
        _ => 0,
    }
}

/// Parses one YAML document.
pub fn load(text: &str) -> Result<(Value, Positions), SyntaxError> {
    let mut positions = Positions::default();
    // Each anchor's value and its number of values.
    let mut anchors: HashMap<usize, (Value, usize)> = HashMap::new();
    // Values so far, aliases expanded.
    let mut values: usize = 0;
    let too_many = |pos| SyntaxError {
        pos,
        message: format!(
            "the document expands to more than {MAX_VALUES} values through its aliases (`*name`); a baseline never needs that many: is this an alias bomb?"
        ),
    };
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<Value> = None;
    let mut documents = 0;

    for item in Parser::new_from_str(text) {
        let (event, span) = item.map_err(|e| SyntaxError {
            pos: Pos {
                line: e.marker().line(),
                column: e.marker().col() + 1,
            },
            message: e.info().to_string(),
        })?;
        let pos = Pos::from_span(&span);
        match event {
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(SyntaxError {
                        pos,
                        message: "a baseline file holds one YAML document; found a second (`---`)"
                            .into(),
                    });
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let is_str_tag = tag.as_ref().is_some_and(|t| t.suffix == "str");
                let value = if style == ScalarStyle::Plain && !is_str_tag {
                    resolve_plain(&text)
                } else {
                    Value::String(text.into_owned())
                };
                // A scalar in key position of a mapping is a key.
                if let Some(Frame::Map { map, key, .. }) = stack.last_mut()
                    && key.is_none()
                {
                    let name = match &value {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    if map.contains_key(&name) {
                        return Err(SyntaxError {
                            pos,
                            message: format!("duplicate key `{name}`"),
                        });
                    }
                    *key = Some((name, pos));
                    continue;
                }
                values += 1;
                if values > MAX_VALUES {
                    return Err(too_many(pos));
                }
                if anchor > 0 {
                    anchors.insert(anchor, (value.clone(), 1));
                }
                place(&mut stack, &mut root, &mut positions, value, pos)?;
            }
            Event::Alias(id) => {
                if let Some(Frame::Map { key: None, .. }) = stack.last() {
                    return Err(SyntaxError {
                        pos,
                        message: "an alias cannot be a mapping key".into(),
                    });
                }
                let (value, size) = anchors.get(&id).ok_or_else(|| SyntaxError {
                    pos,
                    message: "alias to an unknown anchor".into(),
                })?;
                // Counted before the copy is made: the bound holds memory too.
                values += size;
                if values > MAX_VALUES {
                    return Err(too_many(pos));
                }
                let value = value.clone();
                place(&mut stack, &mut root, &mut positions, value, pos)?;
            }
            Event::MappingStart(anchor, _) | Event::SequenceStart(anchor, _) => {
                values += 1;
                if values > MAX_VALUES {
                    return Err(too_many(pos));
                }
                let is_map = matches!(event, Event::MappingStart(..));
                let pointer = match stack.last() {
                    None => String::new(),
                    Some(Frame::Map { key: None, .. }) => {
                        return Err(SyntaxError {
                            pos,
                            message: "a mapping or list cannot be a mapping key".into(),
                        });
                    }
                    Some(Frame::Map {
                        pointer,
                        key: Some((k, kpos)),
                        ..
                    }) => {
                        let p = format!("{pointer}/{}", escape(k));
                        positions.0.insert(
                            p.clone(),
                            NodePos {
                                value: pos,
                                key: Some(*kpos),
                            },
                        );
                        p
                    }
                    Some(Frame::Seq { pointer, seq, .. }) => {
                        let p = format!("{pointer}/{}", seq.len());
                        positions.0.insert(
                            p.clone(),
                            NodePos {
                                value: pos,
                                key: None,
                            },
                        );
                        p
                    }
                };
                if pointer.is_empty() {
                    positions.0.insert(
                        String::new(),
                        NodePos {
                            value: pos,
                            key: None,
                        },
                    );
                }
                stack.push(if is_map {
                    Frame::Map {
                        pointer,
                        map: Map::new(),
                        key: None,
                        anchor,
                    }
                } else {
                    Frame::Seq {
                        pointer,
                        seq: Vec::new(),
                        anchor,
                    }
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                let (value, anchor) = match stack.pop() {
                    Some(Frame::Map { map, anchor, .. }) => (Value::Object(map), anchor),
                    Some(Frame::Seq { seq, anchor, .. }) => (Value::Array(seq), anchor),
                    None => unreachable!("the parser balances start and end events"),
                };
                if anchor > 0 {
                    let size = count_values(&value);
                    anchors.insert(anchor, (value.clone(), size));
                }
                attach(&mut stack, &mut root, value);
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
        }
    }
    Ok((root.unwrap_or(Value::Null), positions))
}

/// Places a scalar (or alias) value and records its position.
fn place(
    stack: &mut [Frame],
    root: &mut Option<Value>,
    positions: &mut Positions,
    value: Value,
    pos: Pos,
) -> Result<(), SyntaxError> {
    match stack.last() {
        None => {
            positions.0.insert(
                String::new(),
                NodePos {
                    value: pos,
                    key: None,
                },
            );
        }
        Some(Frame::Map {
            pointer,
            key: Some((k, kpos)),
            ..
        }) => {
            positions.0.insert(
                format!("{pointer}/{}", escape(k)),
                NodePos {
                    value: pos,
                    key: Some(*kpos),
                },
            );
        }
        Some(Frame::Seq { pointer, seq, .. }) => {
            positions.0.insert(
                format!("{pointer}/{}", seq.len()),
                NodePos {
                    value: pos,
                    key: None,
                },
            );
        }
        Some(Frame::Map { key: None, .. }) => unreachable!("keys are handled by the caller"),
    }
    attach(stack, root, value);
    Ok(())
}

/// Attaches a finished value to its parent.
fn attach(stack: &mut [Frame], root: &mut Option<Value>, value: Value) {
    match stack.last_mut() {
        None => *root = Some(value),
        Some(Frame::Map { map, key, .. }) => {
            let (k, _) = key.take().expect("a value in a mapping follows its key");
            map.insert(k, value);
        }
        Some(Frame::Seq { seq, .. }) => seq.push(value),
    }
}

/// Resolves a plain scalar by the YAML 1.2 core schema, with one deliberate
/// difference: digits with a leading zero stay a string, so an account id
/// like `012345678901` keeps its zero.
fn resolve_plain(s: &str) -> Value {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if digits.len() > 1 && digits.starts_with('0') {
            return Value::String(s.to_string());
        }
        if let Ok(n) = s.parse::<i64>() {
            return Value::Number(n.into());
        }
        if let Ok(n) = s.parse::<u64>() {
            return Value::Number(n.into());
        }
        return Value::String(s.to_string());
    }
    let looks_float = digits.bytes().any(|b| b.is_ascii_digit())
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'));
    if looks_float && let Some(n) = s.parse::<f64>().ok().and_then(Number::from_f64) {
        return Value::Number(n);
    }
    Value::String(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_point_at_keys_and_values() {
        let (v, p) = load("version: 1\ncloudtrail:\n  kms: create\nregions: [a, b]\n").unwrap();
        assert_eq!(v["cloudtrail"]["kms"], "create");
        assert_eq!(
            p.key_or_value("/cloudtrail/kms"),
            Pos { line: 3, column: 3 }
        );
        assert_eq!(p.value("/cloudtrail/kms"), Pos { line: 3, column: 8 });
        assert_eq!(
            p.value("/regions/1"),
            Pos {
                line: 4,
                column: 14
            }
        );
        // A missing key falls back to its parent.
        assert_eq!(
            p.key_or_value("/cloudtrail/name"),
            Pos { line: 2, column: 1 }
        );
    }

    #[test]
    fn account_id_with_leading_zero_stays_a_string() {
        let (v, _) = load("id: 012345678901\nn: 123456789012\nq: '7'\nb: yes\n").unwrap();
        assert_eq!(v["id"], "012345678901");
        assert_eq!(v["n"], 123456789012u64);
        assert_eq!(v["q"], "7");
        // YAML 1.2: `yes` is a string, not a boolean.
        assert_eq!(v["b"], "yes");
    }

    #[test]
    fn duplicate_keys_are_errors_at_the_second_key() {
        let e = load("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(e.pos, Pos { line: 3, column: 1 });
        assert!(e.message.contains("duplicate key `a`"), "{}", e.message);
    }

    /// Why: a 400-byte file of nested aliases ("billion laughs") expanded
    /// to gigabytes before it was bounded.
    #[test]
    fn an_alias_bomb_is_refused_quickly() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
        for (prev, name) in ["a", "b", "c", "d", "e", "f", "g", "h", "i"]
            .iter()
            .zip(["b", "c", "d", "e", "f", "g", "h", "i", "j"])
        {
            text.push_str(&format!("{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        assert!(text.len() < 600, "{}", text.len());
        let started = std::time::Instant::now();
        let e = load(&text).unwrap_err();
        assert!(e.message.contains("alias bomb"), "{}", e.message);
        // A generous bound: the expansion stops at MAX_VALUES values.
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn anchors_and_aliases_are_expanded() {
        let (v, _) = load("c: &c {name: x}\nd: *c\n").unwrap();
        assert_eq!(v["d"]["name"], "x");
    }
}
