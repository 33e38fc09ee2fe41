//! The TG `show` grammar, parsed into a tree: `name [arg] {` opens a block, `}` closes it,
//! `key [value];` is a leaf whose value runs to the line's last `;` (`tests/data/tg/dn1_show.txt` is one).
//!
//! The parser is iterative with an explicit stack, and bounds the nesting it keeps, so no
//! input can exhaust the call stack, neither while parsing nor when the tree is dropped.

use std::borrow::Cow;

use super::text::excerpt;

/// Deepest nesting kept. Real dumps are under 10 levels deep; deeper blocks are skipped
/// whole (with a problem reported) so that recursion over the tree stays shallow.
const MAX_DEPTH: usize = 32;

/// One statement of the dump.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The first word: `ports` in `ports eth1 {`, `rssi` in `rssi -65;`, module prefix kept
    /// (`radio-bridge-tg-system:system`).
    pub key: String,
    /// The rest of the statement, trimmed: a block's title argument (`eth1`), a leaf's raw
    /// value (`-65`, `"London, Main St"`), possibly empty.
    pub rest: String,
    /// A block's statements; `None` for a leaf.
    pub children: Option<Vec<Node>>,
}

/// A leaf's value, as a lookup finds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Leaf<'a> {
    /// No leaf with that key.
    Missing,
    /// `key;`: the leaf is there, its value is not.
    Empty,
    /// The value, unquoted (a quoted `""` is an explicit empty value).
    Text(Cow<'a, str>),
}

impl Node {
    /// The first child statement with exactly this key.
    pub fn child(&self, key: &str) -> Option<&Node> {
        self.children.as_deref()?.iter().find(|n| n.key == key)
    }

    /// The child blocks, in order (leaves skipped).
    pub fn blocks(&self) -> impl Iterator<Item = &Node> {
        self.children
            .as_deref()
            .unwrap_or_default()
            .iter()
            .filter(|n| n.children.is_some())
    }

    /// The statement at `path` (keys of nested children, first match at each level).
    pub fn find(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |node, key| node.child(key))
    }

    /// The leaf value at `path`.
    pub fn leaf(&self, path: &[&str]) -> Leaf<'_> {
        match self.find(path) {
            Some(node) if node.children.is_none() => {
                if node.rest.is_empty() {
                    Leaf::Empty
                } else {
                    Leaf::Text(unquote(&node.rest))
                }
            }
            _ => Leaf::Missing,
        }
    }

    /// The block's title argument (`eth1` of `ports eth1 {`), when it has one.
    pub fn arg(&self) -> Option<&str> {
        (self.children.is_some() && !self.rest.is_empty()).then_some(self.rest.as_str())
    }
}

/// A parsed dump: its top-level statements and what did not fit the grammar.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tree {
    /// Top-level statements in order (`radio-bridge-tg-interfaces:interfaces { … }`, …).
    pub top: Vec<Node>,
    /// Grammar problems, one entry per kind (lines not understood, unbalanced braces, too
    /// deep), so that a garbage answer gives a few warnings, not one per line.
    pub problems: Vec<String>,
}

impl Tree {
    /// The top-level block whose key, without its module prefix, is `name` (`ip` finds
    /// `radio-bridge-tg-ip:ip`; a substring match would also find `…-tg-inventory`-like keys).
    pub fn section(&self, name: &str) -> Option<&Node> {
        self.top.iter().find(|n| {
            n.children.is_some() && n.key.rsplit(':').next().is_some_and(|local| local == name)
        })
    }
}

/// Parses a dump. Never fails: what does not fit the grammar is skipped and reported.
pub fn parse(dump: &str) -> Tree {
    let mut parser = Parser::default();
    for (index, line) in dump.lines().enumerate() {
        parser.line(index + 1, line);
    }
    parser.finish()
}

#[derive(Default)]
struct Parser {
    top: Vec<Node>,
    /// Open blocks, outermost first.
    open: Vec<Node>,
    /// Blocks opened beyond `MAX_DEPTH` and not yet closed (their content is dropped).
    skipping: usize,
    too_deep: bool,
    stray_closes: usize,
    not_understood: usize,
    first_not_understood: Option<(usize, String)>,
}

impl Parser {
    fn line(&mut self, number: usize, line: &str) {
        let mut text = line.trim();
        // A line may close several blocks (`}}`, `};`) before anything else.
        while let Some(rest) = text.strip_prefix('}') {
            self.close();
            text = rest.trim_start_matches(';').trim_start();
        }
        if text.is_empty() {
            return;
        }
        if let Some(title) = text.strip_suffix('{') {
            self.open(statement(title, true));
        } else if let Some(body) = text.strip_suffix(';').filter(|b| !b.trim().is_empty()) {
            self.leaf(statement(body, false));
        } else {
            self.not_understood += 1;
            self.first_not_understood
                .get_or_insert_with(|| (number, excerpt(text)));
        }
    }

    fn open(&mut self, node: Node) {
        if self.skipping > 0 || self.open.len() >= MAX_DEPTH {
            self.skipping += 1;
            self.too_deep = true;
        } else {
            self.open.push(node);
        }
    }

    fn leaf(&mut self, node: Node) {
        if self.skipping == 0 {
            self.attach(node);
        }
    }

    fn close(&mut self) {
        if self.skipping > 0 {
            self.skipping -= 1;
        } else if let Some(node) = self.open.pop() {
            self.attach(node);
        } else {
            self.stray_closes += 1;
        }
    }

    fn attach(&mut self, node: Node) {
        match self.open.last_mut() {
            Some(parent) => parent.children.get_or_insert_with(Vec::new).push(node),
            None => self.top.push(node),
        }
    }

    fn finish(mut self) -> Tree {
        let unclosed = self.open.len() + self.skipping;
        self.skipping = 0;
        while let Some(node) = self.open.pop() {
            self.attach(node);
        }
        let mut problems = Vec::new();
        if let Some((line, text)) = &self.first_not_understood {
            problems.push(format!(
                "show: {} line(s) not understood, the first at line {line}: {text}",
                self.not_understood
            ));
        }
        if self.stray_closes > 0 {
            problems.push(format!("show: {} unmatched '}}'", self.stray_closes));
        }
        if unclosed > 0 {
            problems.push(format!("show: {unclosed} block(s) not closed"));
        }
        if self.too_deep {
            problems.push(format!(
                "show: blocks nested deeper than {MAX_DEPTH} levels skipped"
            ));
        }
        Tree {
            top: self.top,
            problems,
        }
    }
}

/// A statement's key and rest. A block gets an empty child list at once, so that an empty
/// block (`local-sector 1 {` + `}`) is still a block.
fn statement(text: &str, block: bool) -> Node {
    let text = text.trim();
    let (key, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    Node {
        key: key.to_owned(),
        rest: rest.trim().to_owned(),
        children: block.then(Vec::new),
    }
}

/// A value without its surrounding double quotes and backslash escapes.
fn unquote(raw: &str) -> Cow<'_, str> {
    let Some(inner) = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) else {
        return Cow::Borrowed(raw);
    };
    if !inner.contains('\\') {
        return Cow::Borrowed(inner);
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        out.push(if c == '\\' {
            chars.next().unwrap_or('\\')
        } else {
            c
        });
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_become_blocks_and_leaves() {
        let tree =
            parse("a:top {\n  ports eth1 {\n  }\n  name \"x \\\"y\\\"\";\n  flag;\n  v a;b;\n}}\n");
        let top = tree.section("top").expect("the section");
        let port = top.child("ports").expect("a block");
        assert_eq!(port.arg(), Some("eth1"));
        assert_eq!(port.children.as_deref(), Some(&[][..]));
        assert_eq!(top.leaf(&["name"]), Leaf::Text("x \"y\"".into()));
        assert_eq!(top.leaf(&["flag"]), Leaf::Empty);
        // The value runs to the line's last `;`, as in the reference.
        assert_eq!(top.leaf(&["v"]), Leaf::Text("a;b".into()));
        assert_eq!(top.leaf(&["ports"]), Leaf::Missing);
        assert_eq!(tree.problems, ["show: 1 unmatched '}'"]);
    }

    #[test]
    fn a_quoted_empty_value_is_a_value() {
        let tree = parse("s {\n location \"\";\n}\n");
        let s = tree.section("s").expect("the section");
        assert_eq!(s.leaf(&["location"]), Leaf::Text("".into()));
    }

    #[test]
    fn blocks_beyond_the_depth_limit_are_skipped_whole() {
        let deep = format!("{}k v;\n{}after v;\n", "b {\n".repeat(40), "}\n".repeat(40));
        let tree = parse(&deep);
        assert_eq!(tree.top.len(), 2);
        assert_eq!(tree.top[1].rest, "v");
        assert_eq!(
            tree.problems,
            [format!(
                "show: blocks nested deeper than {MAX_DEPTH} levels skipped"
            )]
        );
    }
}
