//! Lists (§12.7): `page`, `size`, `orderBy` and a subset of the tree-search-language
//! `search` (comparisons, `[not] like/ilike`, `[not] in (…)`, `is [not] null`, `not`, `and`,
//! `or`, parentheses), evaluated over the stored JSON objects with SQL NULL semantics.

use super::Trex;
use serde_json::{Map, Value};
use std::cmp::Ordering;

/// Columns of the `sessions` table (what `search` and `orderBy` may name).
pub const SESSION_COLUMNS: &[&str] = &[
    "id",
    "created_at",
    "updated_at",
    "deleted_at",
    "name",
    "repo_url",
    "prompt",
    "created_by_user_id",
    "assigned_user_id",
    "workflow_id",
    "repos",
    "timeout",
    "llm_model",
    "llm_temperature",
    "llm_max_tokens",
    "parent_session_id",
    "bot_account_name",
    "resource_overrides",
    "environment_variables",
    "labels",
    "annotations",
    "project_id",
    "agent_id",
    "phase",
    "start_time",
    "completion_time",
    "sdk_session_id",
    "sdk_restart_count",
    "conditions",
    "reconciled_repos",
    "reconciled_workflow",
    "kube_cr_name",
    "kube_cr_uid",
    "kube_namespace",
];

pub const PROJECT_COLUMNS: &[&str] = &[
    "id",
    "created_at",
    "updated_at",
    "deleted_at",
    "name",
    "description",
    "prompt",
    "labels",
    "annotations",
    "status",
];

const MAX_SIZE: i64 = 65500;

fn param<'a>(q: &'a [(String, String)], name: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// `{"kind":<kind>,"page","size","total","items"}` over `rows` (already filtered by project),
/// or the trex error. Rows come in insertion order, which is also the order without `orderBy`.
pub fn list(
    kind: &str,
    rows: Vec<&Map<String, Value>>,
    q: &[(String, String)],
    columns: &[&str],
) -> Result<String, Trex> {
    let int = |name: &str, default: i64| match param(q, name).map(str::trim) {
        None | Some("") => default,
        Some(v) => v.parse::<i64>().unwrap_or(0),
    };
    let page = int("page", 1);
    let mut size = int("size", 100);
    if !(0..=MAX_SIZE).contains(&size) {
        size = MAX_SIZE;
    }
    let mut order: Vec<(String, bool)> = Vec::new();
    if let Some(o) = param(q, "orderBy").filter(|o| !o.trim().is_empty()) {
        for item in o.split(',') {
            let item = item.trim();
            let parts: Vec<&str> = item.split(' ').collect();
            let bad = || Trex(400, 21, format!("bad order value '{item}'"));
            let desc = match parts.as_slice() {
                [_] => false,
                [_, d] if d.eq_ignore_ascii_case("asc") => false,
                [_, d] if d.eq_ignore_ascii_case("desc") => true,
                _ => return Err(bad()),
            };
            if parts[0].is_empty() {
                return Err(bad());
            }
            order.push((parts[0].to_string(), desc));
        }
    }
    let search = param(q, "search").map(str::trim).filter(|s| !s.is_empty());
    let expr = match search {
        None => None,
        Some(s) => Some(parse(s).map_err(|_| Trex(400, 21, format!("Failed to parse search query: {s}")))?),
    };
    let mut named: Vec<String> = order.iter().map(|(c, _)| c.clone()).collect();
    if let Some(e) = &expr {
        e.columns(&mut named);
    }
    if let Some(c) = named.iter().find(|c| !columns.contains(&c.as_str())) {
        return Err(Trex(
            500,
            9,
            format!("Unable to list resources: ERROR: column \"{c}\" does not exist (SQLSTATE 42703)"),
        ));
    }
    let mut rows: Vec<&Map<String, Value>> =
        rows.into_iter().filter(|r| expr.as_ref().is_none_or(|e| e.eval(r) == Some(true))).collect();
    rows.sort_by(|a, b| {
        order.iter().fold(Ordering::Equal, |acc, (c, desc)| acc.then_with(|| cmp_col(a.get(c), b.get(c), *desc)))
    });
    let total = rows.len();
    let offset = if page > 1 { ((page - 1) * size) as usize } else { 0 };
    let items: Vec<String> =
        rows.iter().skip(offset).take(size as usize).map(|r| Value::Object((*r).clone()).to_string()).collect();
    Ok(format!(
        "{{\"kind\":\"{kind}\",\"page\":{page},\"size\":{},\"total\":{total},\"items\":[{}]}}",
        items.len(),
        items.join(",")
    ))
}

/// SQL order: NULLs last ascending, first descending; numbers numerically; RFC 3339 times
/// by instant (fractions padded), other strings bytewise.
fn cmp_col(a: Option<&Value>, b: Option<&Value>, desc: bool) -> Ordering {
    let a = a.filter(|v| !v.is_null());
    let b = b.filter(|v| !v.is_null());
    let o = match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => cmp_values(x, y),
    };
    if desc { o.reverse() } else { o }
}

fn cmp_values(x: &Value, y: &Value) -> Ordering {
    if let (Some(a), Some(b)) = (num(x), num(y)) {
        return a.partial_cmp(&b).unwrap_or(Ordering::Equal);
    }
    text(x).cmp(&text(y))
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.to_string().parse().ok(),
        _ => None,
    }
}

/// String form for comparisons; RFC 3339 `Z` times get a 9-digit fraction so that they
/// compare by instant.
fn text(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if super::decode::rfc3339_ok(&s) && s.ends_with('Z') {
        let (main, frac) = s[..s.len() - 1].split_once('.').unwrap_or((&s[..s.len() - 1], ""));
        return format!("{main}.{frac:0<9}Z");
    }
    s
}

// ---------------------------------------------------------------- search

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(String),
    Op(String),
    LParen,
    RParen,
    Comma,
}

fn tokenize(s: &str) -> Result<Vec<Tok>, ()> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'(' | b')' | b',' => {
                out.push(match c {
                    b'(' => Tok::LParen,
                    b')' => Tok::RParen,
                    _ => Tok::Comma,
                });
                i += 1;
            }
            b'\'' => {
                let mut v = Vec::new();
                i += 1;
                loop {
                    match b.get(i) {
                        None => return Err(()),
                        Some(b'\'') if b.get(i + 1) == Some(&b'\'') => {
                            v.push(b'\'');
                            i += 2;
                        }
                        Some(b'\'') => break,
                        Some(&ch) => {
                            v.push(ch);
                            i += 1;
                        }
                    }
                }
                i += 1;
                out.push(Tok::Str(String::from_utf8(v).map_err(|_| ())?));
            }
            b'0'..=b'9' | b'-' => {
                let start = i;
                i += 1;
                while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                    i += 1;
                }
                out.push(Tok::Num(s[start..i].to_string()));
            }
            b'=' | b'!' | b'<' | b'>' | b'~' => {
                let two = s.get(i..i + 2).unwrap_or("");
                let op = if ["!=", "<>", "<=", ">=", "~=", "~!"].contains(&two) {
                    two
                } else if c == b'!' || c == b'~' {
                    return Err(());
                } else {
                    &s[i..i + 1]
                };
                i += op.len();
                out.push(Tok::Op(op.to_string()));
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'.') {
                    i += 1;
                }
                out.push(Tok::Ident(s[start..i].to_string()));
            }
            _ => return Err(()),
        }
    }
    Ok(out)
}

#[derive(Debug)]
enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Cmp(String, String, Tok),
    Like { col: String, pat: String, ci: bool },
    In(String, Vec<Tok>),
    IsNull(String),
}

struct P {
    toks: Vec<Tok>,
    i: usize,
}

impl P {
    fn peek_kw(&self, kw: &str) -> bool {
        matches!(self.toks.get(self.i), Some(Tok::Ident(w)) if w.eq_ignore_ascii_case(kw))
    }
    fn kw(&mut self, kw: &str) -> bool {
        let yes = self.peek_kw(kw);
        if yes {
            self.i += 1;
        }
        yes
    }
    fn next(&mut self) -> Result<Tok, ()> {
        let t = self.toks.get(self.i).cloned().ok_or(())?;
        self.i += 1;
        Ok(t)
    }
    fn or(&mut self) -> Result<Expr, ()> {
        let mut e = self.and()?;
        while self.kw("or") {
            e = Expr::Or(Box::new(e), Box::new(self.and()?));
        }
        Ok(e)
    }
    fn and(&mut self) -> Result<Expr, ()> {
        let mut e = self.not()?;
        while self.kw("and") {
            e = Expr::And(Box::new(e), Box::new(self.not()?));
        }
        Ok(e)
    }
    fn not(&mut self) -> Result<Expr, ()> {
        if self.kw("not") {
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        if self.toks.get(self.i) == Some(&Tok::LParen) {
            self.i += 1;
            let e = self.or()?;
            return if self.next()? == Tok::RParen { Ok(e) } else { Err(()) };
        }
        self.comparison()
    }
    fn literal(&mut self) -> Result<Tok, ()> {
        match self.next()? {
            t @ (Tok::Str(_) | Tok::Num(_)) => Ok(t),
            Tok::Ident(w) if w.eq_ignore_ascii_case("true") || w.eq_ignore_ascii_case("false") => {
                Ok(Tok::Str(w.to_ascii_lowercase()))
            }
            _ => Err(()),
        }
    }
    fn comparison(&mut self) -> Result<Expr, ()> {
        let Tok::Ident(col) = self.next()? else {
            return Err(());
        };
        let col = col.to_ascii_lowercase();
        if ["and", "or", "not", "like", "ilike", "in", "is", "null"].iter().any(|k| col.eq_ignore_ascii_case(k)) {
            return Err(());
        }
        let neg = self.kw("not");
        let e = if self.kw("like") || self.peek_kw("ilike") {
            let ci = self.kw("ilike");
            let Tok::Str(pat) = self.next()? else {
                return Err(());
            };
            Expr::Like { col, pat, ci }
        } else if self.kw("in") {
            if self.next()? != Tok::LParen {
                return Err(());
            }
            let mut items = vec![self.literal()?];
            loop {
                match self.next()? {
                    Tok::Comma => items.push(self.literal()?),
                    Tok::RParen => break,
                    _ => return Err(()),
                }
            }
            Expr::In(col, items)
        } else if !neg && self.kw("is") {
            let neg = self.kw("not");
            if !self.kw("null") {
                return Err(());
            }
            let e = Expr::IsNull(col);
            return Ok(if neg { Expr::Not(Box::new(e)) } else { e });
        } else if !neg {
            let Tok::Op(op) = self.next()? else {
                return Err(());
            };
            if op.starts_with('~') {
                return Err(()); // parses in tsl, refused by the SQL walker: also …-21
            }
            return Ok(Expr::Cmp(col, op, self.literal()?));
        } else {
            return Err(());
        };
        Ok(if neg { Expr::Not(Box::new(e)) } else { e })
    }
}

fn parse(s: &str) -> Result<Expr, ()> {
    let mut p = P { toks: tokenize(s)?, i: 0 };
    let e = p.or()?;
    if p.i != p.toks.len() {
        return Err(());
    }
    Ok(e)
}

/// SQL `LIKE`: `%` any run, `_` one character, `\` escapes.
fn like(s: &[char], p: &[char]) -> bool {
    match p.first() {
        None => s.is_empty(),
        Some('%') => (0..=s.len()).any(|k| like(&s[k..], &p[1..])),
        Some('_') => !s.is_empty() && like(&s[1..], &p[1..]),
        Some('\\') if p.len() > 1 => s.first() == Some(&p[1]) && like(&s[1..], &p[2..]),
        Some(c) => s.first() == Some(c) && like(&s[1..], &p[1..]),
    }
}

fn lit_value(t: &Tok) -> Value {
    match t {
        Tok::Num(n) => serde_json::from_str(n).unwrap_or(Value::String(n.clone())),
        Tok::Str(s) | Tok::Ident(s) => Value::String(s.clone()),
        _ => Value::Null,
    }
}

impl Expr {
    fn columns(&self, out: &mut Vec<String>) {
        match self {
            Expr::And(a, b) | Expr::Or(a, b) => {
                a.columns(out);
                b.columns(out);
            }
            Expr::Not(a) => a.columns(out),
            Expr::Cmp(c, _, _) | Expr::Like { col: c, .. } | Expr::In(c, _) | Expr::IsNull(c) => out.push(c.clone()),
        }
    }

    /// Three-valued: `None` = SQL NULL.
    fn eval(&self, row: &Map<String, Value>) -> Option<bool> {
        let get = |c: &str| row.get(c).filter(|v| !v.is_null());
        match self {
            Expr::And(a, b) => match (a.eval(row), b.eval(row)) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            },
            Expr::Or(a, b) => match (a.eval(row), b.eval(row)) {
                (Some(true), _) | (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            },
            Expr::Not(a) => a.eval(row).map(|v| !v),
            Expr::IsNull(c) => Some(get(c).is_none()),
            Expr::Cmp(c, op, lit) => {
                let o = cmp_values(get(c)?, &lit_value(lit));
                Some(match op.as_str() {
                    "=" => o == Ordering::Equal,
                    "!=" | "<>" => o != Ordering::Equal,
                    "<" => o == Ordering::Less,
                    "<=" => o != Ordering::Greater,
                    ">" => o == Ordering::Greater,
                    _ => o != Ordering::Less,
                })
            }
            Expr::Like { col, pat, ci } => {
                let v = match get(col)? {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let (v, pat) = if *ci { (v.to_lowercase(), pat.to_lowercase()) } else { (v, pat.clone()) };
                Some(like(&v.chars().collect::<Vec<_>>(), &pat.chars().collect::<Vec<_>>()))
            }
            Expr::In(c, items) => {
                let v = get(c)?;
                Some(items.iter().any(|t| cmp_values(v, &lit_value(t)) == Ordering::Equal))
            }
        }
    }
}
