//! Answers that fit the model's context: the answer budget (`max_answer_tokens`), lists shown
//! a page at a time with the exact arguments of the next page, long fields cut with a marker
//! that says how to see more, and sessions shown concise or detailed.

use super::Output;
use super::params::{Kind, Param};
use crate::gateway::Session;
use crate::validate::parse_rfc3339;
use serde::Serialize;
use serde_json::{Map, Value};
use std::fmt::Write;

/// The estimate clients and this server use: a token is about four bytes.
pub const BYTES_PER_TOKEN: usize = 4;
/// Kept free when a tool fits its answer, for what is added after it (notices, the demo banner).
const RESERVE: usize = 1024;
/// Sessions a list shows when the caller gives no `limit`.
pub const DEFAULT_PAGE: usize = 20;

pub const RESPONSE_FORMAT: Param = Param::new(
    Kind::Enum(&["concise", "detailed"]),
    false,
    "concise (default): id, name, phase, age, one-line task; detailed: all fields",
);
pub const OFFSET: Param =
    Param::new(Kind::Int { min: 0, max: 100_000 }, false, "from the last line of the previous page");

/// How much of each session to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Concise,
    Detailed,
}

impl Format {
    pub fn of(arg: Option<&str>) -> Format {
        match arg {
            Some("detailed") => Format::Detailed,
            _ => Format::Concise,
        }
    }
}

/// Bytes `text` takes inside a JSON string.
fn escaped_len(text: &str) -> usize {
    let extra = |b: u8| match b {
        b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 1,
        0..=0x1f => 5,
        _ => 0,
    };
    text.len() + text.bytes().map(extra).sum::<usize>()
}

/// Bytes an output adds to the answer: its text (escaped) and its structured content.
pub fn wire_len(out: &Output) -> usize {
    escaped_len(&out.text) + out.structured.as_ref().map_or(0, |s| s.get().len())
}

/// The budget in bytes a tool fits its answer into.
pub fn room(budget: usize) -> usize {
    budget.saturating_sub(RESERVE)
}

/// The result that replaces an answer over the budget: what it would have cost, and how to
/// ask for less. A tool that changes things has already done so.
pub fn over_budget(bytes: usize, budget: usize, changed: bool) -> Output {
    let ran = match changed {
        true => " The call ran and its changes were made; only its report is too long.",
        false => "",
    };
    Output::failure(format!(
        "The answer would be about {} tokens, more than the answer budget of {} tokens \
         (max_answer_tokens in clusters.yaml, or ACP_MAX_ANSWER_TOKENS).{ran} Ask for less: a smaller \
         limit, response_format: concise, or narrower filters; or raise the budget.",
        bytes / BYTES_PER_TOKEN,
        budget / BYTES_PER_TOKEN
    ))
}

/// One page of a list: `shown` items from `offset`, of `total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub offset: usize,
    pub shown: usize,
    pub total: usize,
}

impl Page {
    /// The items shown (empty past the end).
    pub fn range(&self) -> std::ops::Range<usize> {
        let start = self.offset.min(self.total);
        start..(start + self.shown).min(self.total)
    }

    /// Items after this page.
    pub fn more(&self) -> usize {
        self.total.saturating_sub(self.offset + self.shown)
    }

    /// The arguments of the next page (`args` as given, with the next offset), if there is one.
    pub fn next(&self, args: &Map<String, Value>) -> Option<Map<String, Value>> {
        (self.more() > 0).then(|| {
            let mut next = args.clone();
            next.insert("offset".into(), Value::from(self.offset + self.shown));
            next
        })
    }

    /// End `out` with [`Page::line`], after a blank line, when there is one.
    pub fn close(&self, out: &mut String, tool: &str, noun: &str, args: &Map<String, Value>) {
        let line = self.line(tool, noun, args);
        if !line.is_empty() {
            let _ = writeln!(out, "\n{line}");
        }
    }

    /// The list's closing line: how many more there are and exactly how to get them.
    pub fn line(&self, tool: &str, noun: &str, args: &Map<String, Value>) -> String {
        match self.next(args) {
            Some(next) => format!(
                "Showing {}-{} of {}. {} more {noun}: call {tool} with {}",
                self.offset + 1,
                self.offset + self.shown,
                self.total,
                self.more(),
                Value::Object(next)
            ),
            None if self.offset >= self.total && self.offset > 0 => {
                format!("No {noun} at offset {}: there are {} in all.", self.offset, self.total)
            }
            None if self.offset > 0 => {
                format!("Showing {}-{} of {}: the end of the list.", self.offset + 1, self.total, self.total)
            }
            None => String::new(),
        }
    }
}

/// The arguments a caller gave (those that are `Some`), as the next page repeats them.
pub fn given<const N: usize>(args: [(&str, Option<Value>); N]) -> Map<String, Value> {
    args.into_iter().filter_map(|(k, v)| Some((k.to_string(), v?))).collect()
}

/// Render the page of at most `limit` items from `offset`, shrinking it until the answer fits
/// `budget` bytes (one item is always shown: the caller has cut its long fields).
pub fn fit(budget: usize, total: usize, offset: usize, limit: usize, render: impl Fn(&Page) -> Output) -> Output {
    let mut shown = limit.min(total.saturating_sub(offset));
    loop {
        let page = Page { offset, shown, total };
        let out = render(&page);
        let size = wire_len(&out);
        if size <= room(budget) || shown <= 1 {
            return out;
        }
        // Shrink in proportion to the excess, by one at least.
        let scaled = (shown as u128 * room(budget) as u128 / size as u128) as usize;
        shown = scaled.clamp(1, shown - 1);
    }
}

/// The age of something created at `created` (RFC 3339), as `3d`, `5h`, `12m` or `40s`.
pub fn age(created: Option<&str>, now: i64) -> Option<String> {
    let secs = (now - parse_rfc3339(created?)?).max(0);
    Some(match secs {
        s if s >= 86_400 => format!("{}d", s / 86_400),
        s if s >= 3_600 => format!("{}h", s / 3_600),
        s if s >= 60 => format!("{}m", s / 60),
        s => format!("{s}s"),
    })
}

/// The first line of `text`, at most `max` characters, with `…` when anything was left out.
/// Secrets are removed before the cut, as [`crate::validate::clip`] does: a cut must not leave
/// a piece of a token behind that is too short to be recognised on the way out.
pub fn one_line(text: &str, max: usize) -> String {
    let first = text.trim().lines().next().unwrap_or_default().trim();
    if first.len() == text.trim().len() && first.chars().nth(max).is_none() {
        return first.to_string();
    }
    let first = crate::redact::redact(first);
    let mut line: String = first.chars().take(max).collect();
    line.push('…');
    line
}

/// `text` cut to `max` characters (secrets removed first), with a marker that says how long
/// it is and `how` to see it.
pub fn cut(text: &str, max: usize, how: &str) -> String {
    if text.chars().nth(max).is_none() {
        return text.to_string();
    }
    let text = crate::redact::redact(text);
    match text.char_indices().nth(max) {
        None => text.into_owned(),
        Some((at, _)) => format!("{}… [cut: {} characters in all; {how}]", &text[..at], text.chars().count()),
    }
}

/// A session as a list's concise form shows it: id, name, phase, age and a one-line task.
#[derive(Serialize)]
pub struct Brief<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    display_name: Option<&'a str>,
    status: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    age: Option<String>,
    task: String,
    /// Only where labels are what was asked for (the by-label list).
    #[serde(skip_serializing_if = "Option::is_none")]
    labels: Option<&'a std::collections::BTreeMap<String, String>>,
}

impl<'a> Brief<'a> {
    pub fn of(s: &'a Session, now: i64) -> Brief<'a> {
        Brief {
            id: &s.id,
            display_name: s.display_name.as_deref(),
            status: &s.status,
            age: age(s.created_at.as_deref(), now),
            task: one_line(&s.task, 100),
            labels: None,
        }
    }

    /// Its id on a line (as every list shows it), then the rest on one more.
    pub fn line(&self, out: &mut String) {
        let _ = write!(out, "- {}\n  {}", self.id, self.status);
        if let Some(age) = &self.age {
            let _ = write!(out, ", {age} old");
        }
        if let Some(name) = self.display_name {
            let _ = write!(out, ", \"{}\"", one_line(name, 60));
        }
        let task = match self.task.as_str() {
            "" => "(no task recorded)",
            t => t,
        };
        let _ = writeln!(out, ": {task}");
    }
}

/// A session in a list, in the format asked for.
#[derive(Serialize)]
#[serde(untagged)]
pub enum View<'a> {
    Concise(Brief<'a>),
    Detailed(Box<Session>),
}

/// Long fields of a session in a detailed list are cut here: one session's whole task is
/// what `acp_get_session` is for.
const LIST_FIELD_CHARS: usize = 2_000;

impl<'a> View<'a> {
    /// [`View::of`], with the labels in the concise form too.
    pub fn labelled(s: &'a Session, format: Format, now: i64) -> View<'a> {
        match View::of(s, format, now) {
            View::Concise(brief) => View::Concise(Brief { labels: Some(&s.labels), ..brief }),
            detailed => detailed,
        }
    }

    pub fn of(s: &'a Session, format: Format, now: i64) -> View<'a> {
        match format {
            Format::Concise => View::Concise(Brief::of(s, now)),
            Format::Detailed => {
                let how = "acp_get_session with response_format: detailed shows more";
                View::Detailed(Box::new(cut_fields(s, LIST_FIELD_CHARS, how)))
            }
        }
    }
}

impl View<'_> {
    /// The session's labels, where this view carries them (detailed, or [`View::labelled`]).
    pub fn labels(&self) -> Option<&std::collections::BTreeMap<String, String>> {
        match self {
            View::Concise(brief) => brief.labels,
            View::Detailed(s) => Some(&s.labels),
        }
    }

    /// The session as text: one line, or the detailed block.
    pub fn text(&self, out: &mut String) {
        match self {
            View::Concise(brief) => brief.line(out),
            View::Detailed(s) => {
                let _ = writeln!(out, "- {}", s.id);
                if let Some(name) = &s.display_name {
                    let _ = writeln!(out, "  Name: {name}");
                }
                super::render::describe_with(s, out, usize::MAX);
            }
        }
    }
}

/// A copy of `s` with its task, result and error cut to `max` characters each.
pub fn cut_fields(s: &Session, max: usize, how: &str) -> Session {
    let mut s = s.clone();
    s.task = cut(&s.task, max, how);
    for v in [&mut s.result, &mut s.error].into_iter().flatten() {
        *v = cut(v, max, how);
    }
    s
}

/// The longest of a session's task, result and error, in characters.
pub fn longest_field(s: &Session) -> usize {
    let len = |v: &str| v.chars().count();
    [Some(s.task.as_str()), s.result.as_deref(), s.error.as_deref()].into_iter().flatten().map(len).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn out(bytes: usize) -> Output {
        Output::failure("x".repeat(bytes))
    }

    #[test]
    fn a_page_shrinks_until_it_fits_and_says_what_is_left() {
        // 100 items of 1,000 bytes each in a budget of 20,000 bytes.
        let rendered = fit(20_000, 100, 10, 50, |p| out(p.shown * 1_000));
        assert!(wire_len(&rendered) <= room(20_000), "{}", wire_len(&rendered));
        assert!(rendered.text.len() >= 15_000, "shrunk too far: {}", rendered.text.len());
        let page = Page { offset: 10, shown: 18, total: 100 };
        let args = json!({"status": "running"}).as_object().unwrap().clone();
        assert_eq!(
            page.line("acp_list_sessions", "sessions", &args),
            "Showing 11-28 of 100. 72 more sessions: call acp_list_sessions with {\"offset\":28,\"status\":\"running\"}"
        );
        assert_eq!(Page { offset: 0, shown: 5, total: 5 }.line("t", "sessions", &args), "");
        assert!(
            Page { offset: 9, shown: 0, total: 5 }.line("t", "sessions", &args).starts_with("No sessions at offset 9")
        );
        // One item is shown even when it alone is over the budget.
        assert_eq!(fit(100, 3, 0, 3, |p| out(p.shown * 1_000)).text.len(), 1_000);
    }

    #[test]
    fn escaped_length_counts_what_json_adds() {
        assert_eq!(escaped_len("a\"b\n\u{1}"), serde_json::to_string("a\"b\n\u{1}").unwrap().len() - 2);
    }

    #[test]
    fn ages_one_lines_and_cuts() {
        let now = 1_795_564_800; // 2026-11-25T00:00:00Z
        assert_eq!(age(Some("2026-11-22T00:00:00Z"), now).as_deref(), Some("3d"));
        assert_eq!(age(Some("2026-11-24T19:00:00Z"), now).as_deref(), Some("5h"));
        assert_eq!(age(Some("not a time"), now), None);
        assert_eq!(one_line("  fix the build\nthen more", 100), "fix the build…");
        assert_eq!(one_line("short", 100), "short");
        assert_eq!(one_line("abcdef", 3), "abc…");
        assert_eq!(cut("héllo world", 5, "ask"), "héllo… [cut: 11 characters in all; ask]");
        assert_eq!(cut("short", 5, "ask"), "short");
    }
}
