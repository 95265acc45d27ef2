//! Emulation of gin's `ShouldBindJSON` into the gateway's `types.CreateSessionRequest`
//! (Go 1.25 encoding/json `Decoder.Decode` + validator `required` on `Task`), producing the
//! exact Go error texts: `EOF`, `unexpected EOF`, `invalid character ...`, `json: cannot
//! unmarshal ...`, `Key: 'CreateSessionRequest.Task' Error:...`.

/// The bound request (gateway `types.CreateSessionRequest`).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct CreateReq {
    pub task: String,
    pub model: String,
    /// `None` = nil slice (absent or `null`).
    pub repos: Option<Vec<Repo>>,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Repo {
    pub url: String,
    pub branch: String,
}

pub const TASK_REQUIRED: &str =
    "Key: 'CreateSessionRequest.Task' Error:Field validation for 'Task' failed on the 'required' tag";

/// Binds a POST body exactly as the gateway does; `Err` carries the Go error text.
pub fn bind_create(body: &[u8]) -> Result<CreateReq, String> {
    let value = decode_first_value(body)?;
    let mut req = CreateReq::default();
    let mut err: Option<String> = None;
    match &value {
        J::Obj(fields) => {
            for (key, v) in fields {
                match field_for(key, &["task", "model", "repos"]) {
                    Some("task") => store_string(v, &mut req.task, Some(("CreateSessionRequest", "task")), &mut err),
                    Some("model") => store_string(v, &mut req.model, Some(("CreateSessionRequest", "model")), &mut err),
                    Some("repos") => store_repos(v, &mut req.repos, &mut err),
                    _ => {}
                }
            }
        }
        J::Null => {}
        other => save(&mut err, other.kind(), None, "types.CreateSessionRequest"),
    }
    if let Some(e) = err {
        return Err(e);
    }
    if req.task.is_empty() {
        return Err(TASK_REQUIRED.to_string());
    }
    Ok(req)
}

// ---------------------------------------------------------------- unmarshal

/// Go matches keys exactly first, then case-insensitively.
fn field_for<'a>(key: &str, names: &[&'a str]) -> Option<&'a str> {
    names.iter().copied().find(|n| *n == key).or_else(|| names.iter().copied().find(|n| n.eq_ignore_ascii_case(key)))
}

fn save(err: &mut Option<String>, kind: &str, ctx: Option<(&str, &str)>, ty: &str) {
    if err.is_none() {
        *err = Some(match ctx {
            Some((st, field)) => {
                format!("json: cannot unmarshal {kind} into Go struct field {st}.{field} of type {ty}")
            }
            None => format!("json: cannot unmarshal {kind} into Go value of type {ty}"),
        });
    }
}

fn store_string(v: &J, dst: &mut String, ctx: Option<(&str, &str)>, err: &mut Option<String>) {
    match v {
        J::Str(s) => *dst = s.clone(),
        J::Null => {}
        other => save(err, other.kind(), ctx, "string"),
    }
}

fn store_repos(v: &J, dst: &mut Option<Vec<Repo>>, err: &mut Option<String>) {
    match v {
        J::Null => *dst = None,
        J::Arr(items) => {
            // Go reuses existing elements (no zeroing) and then truncates.
            let mut repos = dst.take().unwrap_or_default();
            for (i, item) in items.iter().enumerate() {
                if i >= repos.len() {
                    repos.push(Repo::default());
                }
                match item {
                    J::Obj(fields) => {
                        for (key, fv) in fields {
                            match field_for(key, &["url", "branch"]) {
                                Some("url") => store_string(fv, &mut repos[i].url, Some(("Repo", "repos.url")), err),
                                Some("branch") => {
                                    store_string(fv, &mut repos[i].branch, Some(("Repo", "repos.branch")), err)
                                }
                                _ => {}
                            }
                        }
                    }
                    J::Null => {}
                    other => save(err, other.kind(), Some(("CreateSessionRequest", "repos")), "types.Repo"),
                }
            }
            repos.truncate(items.len());
            *dst = Some(repos);
        }
        other => save(err, other.kind(), Some(("CreateSessionRequest", "repos")), "[]types.Repo"),
    }
}

// ---------------------------------------------------------------- scanner

/// A decoded JSON value (numbers are kept only as a kind).
#[derive(Debug)]
enum J {
    Null,
    Bool,
    Num,
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl J {
    fn kind(&self) -> &'static str {
        match self {
            J::Null => "null",
            J::Bool => "bool",
            J::Num => "number",
            J::Str(_) => "string",
            J::Arr(_) => "array",
            J::Obj(_) => "object",
        }
    }
}

const MAX_DEPTH: usize = 10_000;
const UNEXPECTED_EOF: &str = "unexpected EOF";

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

/// Go's `quoteChar`.
fn quote_char(c: u8) -> String {
    match c {
        b'\'' => "'\\''".into(),
        b'"' => "'\"'".into(),
        0x07 => "'\\a'".into(),
        0x08 => "'\\b'".into(),
        0x0c => "'\\f'".into(),
        b'\n' => "'\\n'".into(),
        b'\r' => "'\\r'".into(),
        b'\t' => "'\\t'".into(),
        0x0b => "'\\v'".into(),
        b'\\' => "'\\\\'".into(),
        c if c < 0x20 || c == 0x7f => format!("'\\x{c:02x}'"),
        c if (0x80..=0xa0).contains(&c) || c == 0xad => format!("'\\u{c:04x}'"),
        c => format!("'{}'", c as char),
    }
}

fn invalid(c: u8, context: &str) -> String {
    format!("invalid character {} {context}", quote_char(c))
}

/// `json.Decoder.Decode`: reads the first value; trailing data is ignored.
fn decode_first_value(b: &[u8]) -> Result<J, String> {
    let mut p = Parser { b, i: 0 };
    p.skip_ws();
    if p.i >= b.len() {
        return Err("EOF".into());
    }
    // Whatever follows the first value is never looked at (Go's stateEndTop reports scanEnd
    // to the Decoder even for `5x`).
    p.value()
}

/// `json.Unmarshal`'s syntax check (`checkValid`): `Some(Go's error text)` when `b` is not
/// exactly one JSON value (blanks around it allowed), `None` when it is.
pub fn unmarshal_syntax_error(b: &[u8]) -> Option<String> {
    const END: &str = "unexpected end of JSON input";
    let mut p = Parser { b, i: 0 };
    p.skip_ws();
    if p.i >= b.len() {
        return Some(END.into());
    }
    match p.value() {
        Err(e) if e == UNEXPECTED_EOF => Some(END.into()),
        Err(e) => Some(e),
        Ok(_) => {
            p.skip_ws();
            b.get(p.i).map(|&c| invalid(c, "after top-level value"))
        }
    }
}

/// Children of containers nested deeper than this are checked but not kept (only the
/// container's kind matters there), so no deep tree is ever built or dropped.
const KEEP_LEVELS: usize = 3;

enum Frame {
    Arr(Vec<J>),
    Obj(Vec<(String, J)>, String),
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while self.i < self.b.len() && is_space(self.b[self.i]) {
            self.i += 1;
        }
    }
    /// Next byte, or `unexpected EOF`.
    fn peek(&self) -> Result<u8, String> {
        self.b.get(self.i).copied().ok_or_else(|| UNEXPECTED_EOF.to_string())
    }
    fn digits(&mut self) {
        while self.i < self.b.len() && self.b[self.i].is_ascii_digit() {
            self.i += 1;
        }
    }

    /// After `{` or `,` in an object: skips blanks, reads `"key"` and `:`.
    fn object_key(&mut self) -> Result<String, String> {
        self.skip_ws();
        let c = self.peek()?;
        if c != b'"' {
            return Err(invalid(c, "looking for beginning of object key string"));
        }
        let key = self.string()?;
        self.skip_ws();
        let c = self.peek()?;
        if c != b':' {
            return Err(invalid(c, "after object key"));
        }
        self.i += 1;
        Ok(key)
    }

    /// One complete value, iteratively (Go's scanner states and error texts).
    fn value(&mut self) -> Result<J, String> {
        let mut stack: Vec<Frame> = Vec::new();
        'begin: loop {
            self.skip_ws();
            let c = self.peek()?;
            let mut v = match c {
                b'{' | b'[' => {
                    self.i += 1;
                    if stack.len() + 1 > MAX_DEPTH {
                        return Err(invalid(c, "exceeded max depth"));
                    }
                    self.skip_ws();
                    if c == b'{' {
                        if self.peek()? == b'}' {
                            self.i += 1;
                            J::Obj(Vec::new())
                        } else {
                            let key = self.object_key()?;
                            stack.push(Frame::Obj(Vec::new(), key));
                            continue 'begin;
                        }
                    } else if self.peek()? == b']' {
                        self.i += 1;
                        J::Arr(Vec::new())
                    } else {
                        stack.push(Frame::Arr(Vec::new()));
                        continue 'begin;
                    }
                }
                b'"' => J::Str(self.string()?),
                b'-' | b'0'..=b'9' => self.number()?,
                b't' => self.literal("true", J::Bool)?,
                b'f' => self.literal("false", J::Bool)?,
                b'n' => self.literal("null", J::Null)?,
                _ => return Err(invalid(c, "looking for beginning of value")),
            };
            // stateEndValue: hand `v` to the enclosing container.
            loop {
                let keep = stack.len() <= KEEP_LEVELS;
                let Some(top) = stack.last_mut() else {
                    return Ok(v);
                };
                self.skip_ws();
                let c = self.peek()?;
                match top {
                    Frame::Arr(items) => {
                        if keep {
                            items.push(v);
                        }
                        match c {
                            b',' => {
                                self.i += 1;
                                continue 'begin;
                            }
                            b']' => {
                                self.i += 1;
                                let Some(Frame::Arr(items)) = stack.pop() else { unreachable!() };
                                v = J::Arr(items);
                            }
                            _ => return Err(invalid(c, "after array element")),
                        }
                    }
                    Frame::Obj(fields, key) => {
                        if keep {
                            fields.push((std::mem::take(key), v));
                        }
                        match c {
                            b',' => {
                                self.i += 1;
                                *key = self.object_key()?;
                                continue 'begin;
                            }
                            b'}' => {
                                self.i += 1;
                                let Some(Frame::Obj(fields, _)) = stack.pop() else { unreachable!() };
                                v = J::Obj(fields);
                            }
                            _ => return Err(invalid(c, "after object key:value pair")),
                        }
                    }
                }
            }
        }
    }

    fn literal(&mut self, word: &str, v: J) -> Result<J, String> {
        for &want in word.as_bytes() {
            let c = self.peek()?;
            if c != want {
                return Err(invalid(c, &format!("in literal {word} (expecting {})", quote_char(want))));
            }
            self.i += 1;
        }
        Ok(v)
    }

    fn number(&mut self) -> Result<J, String> {
        if self.b[self.i] == b'-' {
            self.i += 1;
        }
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => self.digits(),
            c => return Err(invalid(c, "in numeric literal")),
        }
        if self.b.get(self.i) == Some(&b'.') {
            self.i += 1;
            let c = self.peek()?;
            if !c.is_ascii_digit() {
                return Err(invalid(c, "after decimal point in numeric literal"));
            }
            self.digits();
        }
        if matches!(self.b.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek()?, b'+' | b'-') {
                self.i += 1;
            }
            let c = self.peek()?;
            if !c.is_ascii_digit() {
                return Err(invalid(c, "in exponent of numeric literal"));
            }
            self.digits();
        }
        Ok(J::Num)
    }

    /// Scans a string literal (at the opening quote) and decodes it the way Go's `unquote` does.
    fn string(&mut self) -> Result<String, String> {
        self.i += 1;
        let start = self.i;
        loop {
            let c = self.peek()?;
            self.i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let e = self.peek()?;
                    self.i += 1;
                    match e {
                        b'b' | b'f' | b'n' | b'r' | b't' | b'\\' | b'/' | b'"' => {}
                        b'u' => {
                            for _ in 0..4 {
                                let h = self.peek()?;
                                if !h.is_ascii_hexdigit() {
                                    return Err(invalid(h, "in \\u hexadecimal character escape"));
                                }
                                self.i += 1;
                            }
                        }
                        _ => return Err(invalid(e, "in string escape code")),
                    }
                }
                c if c < 0x20 => return Err(invalid(c, "in string literal")),
                _ => {}
            }
        }
        Ok(unquote(&self.b[start..self.i - 1]))
    }
}

fn getu4(s: &[u8]) -> Option<u32> {
    if s.len() < 6 || s[0] != b'\\' || s[1] != b'u' {
        return None;
    }
    u32::from_str_radix(std::str::from_utf8(&s[2..6]).ok()?, 16).ok()
}

/// Decodes the (already validated) inside of a string literal like Go: invalid UTF-8 bytes
/// and unpaired surrogates become U+FFFD, one per byte / escape.
fn unquote(s: &[u8]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'\\' {
            match s[i + 1] {
                b'u' => {
                    let r = getu4(&s[i..]).unwrap_or(0xfffd);
                    i += 6;
                    let pair = getu4(&s[i..]).filter(|r2| (0xdc00..0xe000).contains(r2));
                    if let (true, Some(r2)) = ((0xd800..0xdc00).contains(&r), pair) {
                        let c = 0x10000 + ((r - 0xd800) << 10) + (r2 - 0xdc00);
                        out.push(char::from_u32(c).unwrap_or('\u{fffd}'));
                        i += 6;
                        continue;
                    }
                    out.push(char::from_u32(r).unwrap_or('\u{fffd}'));
                }
                e => {
                    out.push(match e {
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        other => other as char,
                    });
                    i += 2;
                }
            }
        } else {
            let end = s[i..].iter().position(|&c| c == b'\\').map_or(s.len(), |p| i + p);
            for chunk in s[i..end].utf8_chunks() {
                out.push_str(chunk.valid());
                for _ in chunk.invalid() {
                    out.push('\u{fffd}');
                }
            }
            i = end;
        }
    }
    out
}
