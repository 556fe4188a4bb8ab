//! Writes JSON the way PowerShell 7's `ConvertTo-Json` does.
//!
//! PowerShell 7 serialises with Newtonsoft.Json, indented: two spaces per
//! level, `"Key": value`, empty objects as `{}`. Its default escaping turns
//! `"`, `\` and control characters into escapes (`\n`, `\u001f`, lower-case
//! hex) and also escapes U+0085, U+2028 and U+2029; every other character,
//! ASCII or not, is written as it is.
//!
//! The document is described by a borrowed [`Node`] tree so that passwords
//! are never copied into buffers that are not wiped: the output grows in a
//! `WipingString` and is returned as a [`Zeroizing`] string.

use std::fmt::{self, Write as _};

use serde_json_lenient::Value;
use zeroize::Zeroizing;

const INDENT: &str = "  ";

/// A JSON value to write, borrowing its text.
pub enum Node<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, already in JSON form.
    Number(String),
    /// A string, escaped on output.
    String(&'a str),
    /// An array.
    Array(Vec<Node<'a>>),
    /// An object, members in output order.
    Object(Vec<(&'a str, Node<'a>)>),
}

impl<'a> Node<'a> {
    /// The node for a parsed JSON value, keeping its member order.
    pub fn from_value(value: &'a Value) -> Node<'a> {
        match value {
            Value::Null => Node::Null,
            Value::Bool(flag) => Node::Bool(*flag),
            Value::Number(number) => Node::Number(number.to_string()),
            Value::String(text) => Node::String(text),
            Value::Array(items) => Node::Array(items.iter().map(Node::from_value).collect()),
            Value::Object(members) => Node::Object(
                members
                    .iter()
                    .map(|(key, value)| (key.as_str(), Node::from_value(value)))
                    .collect(),
            ),
        }
    }
}

/// How deep the members of `Profiles` sit in the config file.
pub(crate) const PROFILE_DEPTH: usize = 2;

/// The whole document: the indented JSON of `root` and a final newline.
pub fn write_document(root: &Node) -> Zeroizing<String> {
    let mut out = WipingString::with_capacity(4096);

    write_node(&mut out, root, 0);
    out.push('\n');
    out.into_inner()
}

/// One member of an object at `depth`, `"key": value`, as [`write_document`]
/// writes it there.
pub fn write_member(key: &str, value: &Node, depth: usize) -> Zeroizing<String> {
    let mut out = WipingString::with_capacity(320);

    write_string(&mut out, key);
    out.push_str(": ");
    write_node(&mut out, value, depth);
    out.into_inner()
}

/// The config file document `{"CurrentProfile": current, "Profiles": {...}}`
/// from the profiles' members as [`write_member`] wrote them at
/// [`PROFILE_DEPTH`]: the same text as [`write_document`] of the whole tree.
pub fn write_profiles_document(current: &str, members: &[&str]) -> Zeroizing<String> {
    let size = 64 + current.len() + members.iter().map(|m| m.len() + 8).sum::<usize>();
    let mut out = WipingString::with_capacity(size);

    out.push_str("{\n  \"CurrentProfile\": ");
    write_string(&mut out, current);
    out.push_str(",\n  \"Profiles\": ");
    if members.is_empty() {
        out.push_str("{}");
    } else {
        out.push('{');
        for (index, member) in members.iter().enumerate() {
            separate(&mut out, index, PROFILE_DEPTH);
            out.push_str(member);
        }
        new_line(&mut out, PROFILE_DEPTH - 1);
        out.push('}');
    }
    out.push_str("\n}\n");
    out.into_inner()
}

/// The compact JSON of `root`, as `ConvertTo-Json -Compress` writes it: no
/// white space between tokens, no final newline. Vault secrets hold this.
pub fn write_compact(root: &Node) -> Zeroizing<String> {
    let mut out = WipingString::with_capacity(256);

    write_compact_node(&mut out, root);
    out.into_inner()
}

fn write_compact_node(out: &mut WipingString, node: &Node) {
    match node {
        Node::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_compact_node(out, item);
            }
            out.push(']');
        }
        Node::Object(members) => {
            out.push('{');
            for (index, (key, value)) in members.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write_compact_node(out, value);
            }
            out.push('}');
        }
        scalar => write_node(out, scalar, 0),
    }
}

/// A growing string that wipes each buffer it outgrows, so no copy of its
/// content is left behind in freed memory.
struct WipingString(Zeroizing<String>);

impl WipingString {
    /// An empty string with room for `capacity` bytes.
    fn with_capacity(capacity: usize) -> WipingString {
        WipingString(Zeroizing::new(String::with_capacity(capacity)))
    }

    /// Appends `text`, moving to a bigger buffer first when needed.
    #[inline]
    fn push_str(&mut self, text: &str) {
        if self.0.len() + text.len() > self.0.capacity() {
            self.grow(text.len());
        }
        self.0.push_str(text);
    }

    /// Moves to a buffer with room for `more` bytes; the old one is wiped
    /// when the replaced `Zeroizing` drops.
    #[cold]
    fn grow(&mut self, more: usize) {
        let needed = self.0.len() + more;
        let mut bigger = String::with_capacity(needed.max(2 * self.0.capacity()));
        bigger.push_str(&self.0);
        self.0 = Zeroizing::new(bigger);
    }

    /// Appends one character.
    #[inline]
    fn push(&mut self, c: char) {
        self.push_str(c.encode_utf8(&mut [0; 4]));
    }

    /// The text written so far.
    fn into_inner(self) -> Zeroizing<String> {
        self.0
    }
}

impl fmt::Write for WipingString {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        self.push_str(text);
        Ok(())
    }
}

fn write_node(out: &mut WipingString, node: &Node, depth: usize) {
    match node {
        Node::Null => out.push_str("null"),
        Node::Bool(flag) => out.push_str(if *flag { "true" } else { "false" }),
        Node::Number(number) => out.push_str(number),
        Node::String(text) => write_string(out, text),
        Node::Array(items) => write_array(out, items, depth),
        Node::Object(members) => write_object(out, members, depth),
    }
}

fn write_array(out: &mut WipingString, items: &[Node], depth: usize) {
    if items.is_empty() {
        out.push_str("[]");
        return;
    }

    out.push('[');
    for (index, item) in items.iter().enumerate() {
        separate(out, index, depth + 1);
        write_node(out, item, depth + 1);
    }
    new_line(out, depth);
    out.push(']');
}

fn write_object(out: &mut WipingString, members: &[(&str, Node)], depth: usize) {
    if members.is_empty() {
        out.push_str("{}");
        return;
    }

    out.push('{');
    for (index, (key, value)) in members.iter().enumerate() {
        separate(out, index, depth + 1);
        write_string(out, key);
        out.push_str(": ");
        write_node(out, value, depth + 1);
    }
    new_line(out, depth);
    out.push('}');
}

/// A comma after the previous member, then a new line at `depth`.
fn separate(out: &mut WipingString, index: usize, depth: usize) {
    if index > 0 {
        out.push(',');
    }
    new_line(out, depth);
}

fn new_line(out: &mut WipingString, depth: usize) {
    out.push('\n');
    for _ in 0..depth {
        out.push_str(INDENT);
    }
}

/// A quoted string with Newtonsoft.Json's default escaping. Runs of
/// characters that need no escape are copied at once.
fn write_string(out: &mut WipingString, text: &str) {
    out.push('"');
    let mut plain_from = 0;
    for (at, c) in text.char_indices() {
        let escape = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            '\u{8}' => "\\b",
            '\u{c}' => "\\f",
            '\0'..='\u{1f}' | '\u{85}' | '\u{2028}' | '\u{2029}' => "",
            _ => continue,
        };
        out.push_str(&text[plain_from..at]);
        if escape.is_empty() {
            push_unicode_escape(out, c);
        } else {
            out.push_str(escape);
        }
        plain_from = at + c.len_utf8();
    }
    out.push_str(&text[plain_from..]);
    out.push('"');
}

fn push_unicode_escape(out: &mut WipingString, c: char) {
    // Writing to a WipingString cannot fail.
    let _ = write!(out, "\\u{:04x}", u32::from(c));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(text: &str) -> String {
        let mut out = WipingString::with_capacity(1);
        write_string(&mut out, text);
        out.into_inner().to_string()
    }

    #[test]
    fn escapes_like_newtonsoft() {
        assert_eq!(string("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(string("\n\r\t\u{8}\u{c}"), r#""\n\r\t\b\f""#);
        assert_eq!(string("\u{1}\u{1f}\u{7f}"), "\"\\u0001\\u001f\u{7f}\"");
        assert_eq!(string("\u{85}\u{2028}\u{2029}"), r#""\u0085\u2028\u2029""#);
        assert_eq!(string("Pä$$ wörd ✓ {}"), "\"Pä$$ wörd ✓ {}\"");
    }

    #[test]
    fn compact_output_has_no_white_space() {
        let root = Node::Object(vec![
            ("A", Node::String("x y")),
            ("B", Node::Object(vec![("C", Node::Null)])),
            (
                "D",
                Node::Array(vec![Node::Bool(false), Node::Object(vec![])]),
            ),
        ]);

        let text = write_compact(&root);

        assert_eq!(
            text.as_str(),
            r#"{"A":"x y","B":{"C":null},"D":[false,{}]}"#
        );
    }

    #[test]
    fn indents_two_spaces_and_writes_empty_containers_inline() {
        let root = Node::Object(vec![
            ("A", Node::String("x")),
            (
                "B",
                Node::Object(vec![("C", Node::Bool(true)), ("D", Node::Object(vec![]))]),
            ),
            ("E", Node::Array(vec![Node::Number("1".into()), Node::Null])),
            ("F", Node::Array(vec![])),
        ]);

        let text = write_document(&root);

        let expected = "{\n  \"A\": \"x\",\n  \"B\": {\n    \"C\": true,\n    \"D\": {}\n  },\n  \
                        \"E\": [\n    1,\n    null\n  ],\n  \"F\": []\n}\n";
        assert_eq!(text.as_str(), expected);
    }
}
