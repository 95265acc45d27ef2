//! Go encoding/json decoding of request bodies into the api-server's generated openapi types,
//! with Go's error texts: the strict create of `Session` (§12.6) and the loose
//! `SessionPatchRequest` and friends.

use super::super::gobind;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Ty {
    Str,
    I32,
    F64,
    /// `*time.Time` (its own `UnmarshalJSON`).
    Time,
}

impl Ty {
    fn go(self) -> &'static str {
        match self {
            Ty::Str => "string",
            Ty::I32 => "int32",
            Ty::F64 => "float64",
            Ty::Time => "time.Time",
        }
    }
}

/// Every field of openapi `Session`, in struct order.
pub const SESSION_FIELDS: &[(&str, Ty)] = &[
    ("id", Ty::Str),
    ("kind", Ty::Str),
    ("href", Ty::Str),
    ("created_at", Ty::Time),
    ("updated_at", Ty::Time),
    ("name", Ty::Str),
    ("repo_url", Ty::Str),
    ("prompt", Ty::Str),
    ("created_by_user_id", Ty::Str),
    ("assigned_user_id", Ty::Str),
    ("workflow_id", Ty::Str),
    ("repos", Ty::Str),
    ("timeout", Ty::I32),
    ("llm_model", Ty::Str),
    ("llm_temperature", Ty::F64),
    ("llm_max_tokens", Ty::I32),
    ("parent_session_id", Ty::Str),
    ("bot_account_name", Ty::Str),
    ("resource_overrides", Ty::Str),
    ("environment_variables", Ty::Str),
    ("labels", Ty::Str),
    ("annotations", Ty::Str),
    ("project_id", Ty::Str),
    ("agent_id", Ty::Str),
    ("phase", Ty::Str),
    ("start_time", Ty::Time),
    ("completion_time", Ty::Time),
    ("sdk_session_id", Ty::Str),
    ("sdk_restart_count", Ty::I32),
    ("conditions", Ty::Str),
    ("reconciled_repos", Ty::Str),
    ("reconciled_workflow", Ty::Str),
    ("kube_cr_name", Ty::Str),
    ("kube_cr_uid", Ty::Str),
    ("kube_namespace", Ty::Str),
];

/// The 16 fields of openapi `SessionPatchRequest`.
pub const PATCH_FIELDS: &[(&str, Ty)] = &[
    ("name", Ty::Str),
    ("repo_url", Ty::Str),
    ("prompt", Ty::Str),
    ("assigned_user_id", Ty::Str),
    ("workflow_id", Ty::Str),
    ("repos", Ty::Str),
    ("timeout", Ty::I32),
    ("llm_model", Ty::Str),
    ("llm_temperature", Ty::F64),
    ("llm_max_tokens", Ty::I32),
    ("parent_session_id", Ty::Str),
    ("bot_account_name", Ty::Str),
    ("resource_overrides", Ty::Str),
    ("environment_variables", Ty::Str),
    ("labels", Ty::Str),
    ("annotations", Ty::Str),
];

/// A JSON object with its keys in document order (duplicates kept).
struct Ordered(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Ordered, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Ordered;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Ordered, A::Error> {
                let mut out = Vec::new();
                while let Some(kv) = m.next_entry::<String, Value>()? {
                    out.push(kv);
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_map(V)
    }
}

pub fn go_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// `json.Unmarshal`'s syntax check, then the value; `Err` is Go's text.
pub fn go_parse(body: &[u8]) -> Result<Value, String> {
    if let Some(e) = gobind::unmarshal_syntax_error(body) {
        return Err(e);
    }
    serde_json::from_slice(body)
        .or_else(|_| serde_json::from_str(&String::from_utf8_lossy(body)))
        .map_err(|e| format!("fake cannot parse this JSON: {e}"))
}

fn ordered(body: &[u8]) -> Vec<(String, Value)> {
    serde_json::from_slice::<Ordered>(body)
        .or_else(|_| serde_json::from_str::<Ordered>(&String::from_utf8_lossy(body)))
        .map(|o| o.0)
        .unwrap_or_default()
}

/// How a struct field takes a value: `Ok(None)` for null, `Err((fatal, text))`.
fn store(v: &Value, ty: Ty, st: &str, field: &str) -> Result<Option<Value>, (bool, String)> {
    let type_err = |what: &str| {
        Err((false, format!("json: cannot unmarshal {what} into Go struct field {st}.{field} of type {}", ty.go())))
    };
    match (ty, v) {
        (_, Value::Null) => Ok(None),
        (Ty::Str, Value::String(_)) => Ok(Some(v.clone())),
        (Ty::I32, Value::Number(n)) => {
            let lit = n.to_string();
            let int = lit.strip_prefix('-').unwrap_or(&lit).bytes().all(|b| b.is_ascii_digit());
            match lit.parse::<i64>() {
                Ok(i) if int && i32::try_from(i).is_ok() => Ok(Some(v.clone())),
                _ => type_err(&format!("number {lit}")),
            }
        }
        (Ty::F64, Value::Number(n)) => {
            let lit = n.to_string();
            match lit.parse::<f64>() {
                Ok(f) if f.is_finite() => Ok(Some(v.clone())),
                _ => type_err(&format!("number {lit}")),
            }
        }
        (Ty::Time, Value::String(s)) => {
            if rfc3339_ok(s) {
                Ok(Some(v.clone()))
            } else {
                Err((
                    true,
                    format!("parsing time \"{s}\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"{s}\" as \"2006\""),
                ))
            }
        }
        (Ty::Time, _) => Err((true, "Time.UnmarshalJSON: input is not a JSON string".into())),
        (_, other) => type_err(go_kind(other)),
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.frac](Z|±hh:mm)`.
pub fn rfc3339_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let shape = |pat: &[u8], at: usize| {
        pat.iter().enumerate().all(|(i, p)| match (p, b.get(at + i)) {
            (b'd', Some(c)) => c.is_ascii_digit(),
            (p, Some(c)) => p == c,
            _ => false,
        })
    };
    if !shape(b"dddd-dd-ddTdd:dd:dd", 0) {
        return false;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    match b.get(i) {
        Some(b'Z') => i + 1 == b.len(),
        Some(b'+' | b'-') => shape(b"dd:dd", i + 1) && i + 6 == b.len(),
        _ => false,
    }
}

/// Decodes an object into `fields` as Go does (exact key match first, then
/// case-insensitive; later duplicates win). `strict`: unknown keys are an error.
/// Returns the set fields under their canonical names, null ones as `Value::Null`.
fn decode_fields(
    pairs: Vec<(String, Value)>,
    fields: &[(&'static str, Ty)],
    st: &str,
    strict: bool,
) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    let mut saved: Option<String> = None;
    for (key, v) in pairs {
        let found = fields
            .iter()
            .find(|(n, _)| *n == key)
            .or_else(|| fields.iter().find(|(n, _)| n.eq_ignore_ascii_case(&key)));
        let Some(&(name, ty)) = found else {
            if strict && saved.is_none() {
                saved = Some(format!("json: unknown field {}", serde_json::to_string(&key).unwrap_or_default()));
            }
            continue;
        };
        match store(&v, ty, st, name) {
            Ok(val) => {
                out.insert(name.to_string(), val.unwrap_or(Value::Null));
            }
            Err((true, e)) => return Err(e),
            Err((false, e)) => {
                saved.get_or_insert(e);
            }
        }
    }
    match saved {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// `Session.UnmarshalJSON` under `json.Unmarshal` (§12.6): the `<msg>` of
/// `Invalid request format: <msg>` on failure.
pub fn session_create(body: &[u8]) -> Result<Map<String, Value>, String> {
    let v = go_parse(body)?;
    match &v {
        Value::Object(m) if m.contains_key("name") => {}
        Value::Object(_) | Value::Null => return Err("no value given for required property name".into()),
        other => {
            return Err(format!(
                "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                go_kind(other)
            ));
        }
    }
    decode_fields(ordered(body), SESSION_FIELDS, "_Session", true)
}

/// Loose `json.Unmarshal` into a generated struct `ty_name` (e.g.
/// `openapi.SessionPatchRequest`): unknown keys ignored, null = absent (left out).
pub fn loose(body: &[u8], fields: &[(&'static str, Ty)], ty_name: &str) -> Result<Map<String, Value>, String> {
    let v = go_parse(body)?;
    match &v {
        Value::Object(_) => {}
        Value::Null => return Ok(Map::new()),
        other => return Err(format!("json: cannot unmarshal {} into Go value of type {ty_name}", go_kind(other))),
    }
    let st = ty_name.rsplit('.').next().unwrap_or(ty_name);
    let mut m = decode_fields(ordered(body), fields, st, false)?;
    m.retain(|_, v| !v.is_null());
    Ok(m)
}
