//! A checker for the subset of JSON Schema this server emits (input schemas from
//! `tools::params::schema`, the tools' output schemas). Shared by the unit tests and the fuzz
//! targets, so both hold our answers to the same reading of our own schemas.

use serde_json::Value;
use std::fmt;

/// A schema written as JSON text, with each string `"$N"` in it replaced by `parts[N]`.
/// Much less code than `json!`, which expands every node of a literal into code of its own
/// (the output schemas were 150 KiB of the binary that way). The texts are literals of this
/// crate, each parsed by a test (every tool's schema is rendered in `tools::tests`).
pub fn with(text: &str, mut parts: Vec<Value>) -> Value {
    let mut schema: Value = serde_json::from_str(text).unwrap_or_else(|e| {
        debug_assert!(false, "a schema literal is not JSON ({e}): {text}");
        Value::Object(Default::default())
    });
    if !parts.is_empty() {
        fill(&mut schema, &mut parts);
    }
    schema
}

fn fill(v: &mut Value, parts: &mut [Value]) {
    match v {
        Value::String(s) => {
            if let Some(part) = s.strip_prefix('$').and_then(|n| n.parse::<usize>().ok()).and_then(|n| parts.get_mut(n))
            {
                *v = std::mem::take(part);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| fill(i, parts)),
        Value::Object(map) => map.values_mut().for_each(|i| fill(i, parts)),
        _ => {}
    }
}

/// Where and how a value breaks a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch(pub String);

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Mismatch {}

pub struct Checker<'a> {
    /// Does the text match the regular expression? (The server has no regex engine; the fuzz
    /// targets bring one, unit tests may ignore patterns.)
    pub pattern: &'a dyn Fn(&str, &str) -> bool,
    /// Treat an object's undeclared properties as a mismatch even without
    /// `additionalProperties: false` (when the schema lists its properties).
    pub closed: bool,
}

fn is_integer(v: &Value) -> bool {
    v.as_i64().is_some() || v.as_u64().is_some() || v.as_f64().is_some_and(|f| f.is_finite() && f.fract() == 0.0)
}

fn fail<T>(message: String) -> Result<T, Mismatch> {
    Err(Mismatch(message))
}

impl Checker<'_> {
    /// Does `v` satisfy `schema`? Keywords outside our subset are ignored (which can only make
    /// the check more lenient, never a false alarm); an unknown type name is a mismatch.
    pub fn check(&self, schema: &Value, v: &Value, at: &str) -> Result<(), Mismatch> {
        let num = |k: &str| schema.get(k).and_then(Value::as_u64);
        if let Some(branches) = schema.get("anyOf").and_then(Value::as_array)
            && !branches.iter().any(|s| self.check(s, v, at).is_ok())
        {
            return fail(format!("{at}: {v} matches no anyOf branch"));
        }
        if let Some(t) = schema.get("type") {
            let is = |t: &str| match t {
                "string" => v.is_string(),
                "boolean" => v.is_boolean(),
                "object" => v.is_object(),
                "array" => v.is_array(),
                "number" => v.is_number(),
                "integer" => is_integer(v),
                "null" => v.is_null(),
                _ => false,
            };
            let ok = match t {
                Value::String(t) => is(t),
                Value::Array(ts) => ts.iter().any(|t| t.as_str().is_some_and(is)),
                _ => false,
            };
            if !ok {
                return fail(format!("{at}: {v} is not of type {t}"));
            }
        }
        if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
            && !allowed.contains(v)
        {
            return fail(format!("{at}: {v} not in enum"));
        }
        if let Some(s) = v.as_str() {
            let len = s.chars().count() as u64; // JSON Schema counts characters
            if num("minLength").is_some_and(|m| len < m) || num("maxLength").is_some_and(|m| len > m) {
                return fail(format!("{at}: length {len} of {v} out of bounds"));
            }
            if let Some(p) = schema.get("pattern").and_then(Value::as_str)
                && !(self.pattern)(p, s)
            {
                return fail(format!("{at}: {v} does not match {p:?}"));
            }
        }
        if v.is_number() {
            let cmp = |b: &Value, f: fn(f64, f64) -> bool, g: fn(i64, i64) -> bool| match (v.as_i64(), b.as_i64()) {
                (Some(x), Some(b)) => g(x, b),
                _ => v.as_f64().zip(b.as_f64()).is_some_and(|(x, b)| f(x, b)),
            };
            let below = schema.get("minimum").is_some_and(|b| cmp(b, |x, b| x < b, |x, b| x < b));
            let above = schema.get("maximum").is_some_and(|b| cmp(b, |x, b| x > b, |x, b| x > b));
            if below || above {
                return fail(format!("{at}: {v} out of range"));
            }
        }
        if let Some(items) = v.as_array() {
            let n = items.len() as u64;
            if num("minItems").is_some_and(|m| n < m) || num("maxItems").is_some_and(|m| n > m) {
                return fail(format!("{at}: {n} items out of bounds"));
            }
            if schema.get("uniqueItems") == Some(&Value::Bool(true)) {
                for (i, item) in items.iter().enumerate() {
                    if items[..i].contains(item) {
                        return fail(format!("{at}: {item} repeated"));
                    }
                }
            }
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    self.check(item_schema, item, &format!("{at}[{i}]"))?;
                }
            }
        }
        if let Some(obj) = v.as_object() {
            let props = schema.get("properties").and_then(Value::as_object);
            for req in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
                if !req.as_str().is_some_and(|r| obj.contains_key(r)) {
                    return fail(format!("{at}: required {req} missing"));
                }
            }
            let closed =
                schema.get("additionalProperties") == Some(&Value::Bool(false)) || (self.closed && props.is_some());
            for (k, item) in obj {
                match props.and_then(|p| p.get(k)) {
                    Some(s) => self.check(s, item, &format!("{at}.{k}"))?,
                    None if closed => return fail(format!("{at}: undeclared property {k:?}")),
                    None => {}
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_keyword_can_fail() {
        let c = Checker { pattern: &|p, s| p == "^a$" && s == "a", closed: true };
        let ok = |schema: Value, v: Value| c.check(&schema, &v, "x").is_ok();
        assert!(ok(json!({"type": "string", "pattern": "^a$"}), json!("a")));
        assert!(!ok(json!({"type": "string", "pattern": "^a$"}), json!("b")));
        assert!(!ok(json!({"type": "integer"}), json!(1.5)));
        assert!(!ok(json!({"type": ["string", "null"]}), json!(1)));
        assert!(!ok(json!({"type": "no-such-type"}), json!(1)));
        assert!(!ok(json!({"enum": ["a"]}), json!("b")));
        assert!(!ok(json!({"maxLength": 1}), json!("ab")));
        assert!(!ok(json!({"minimum": 2}), json!(1)));
        assert!(!ok(json!({"maxItems": 1}), json!([1, 2])));
        assert!(!ok(json!({"uniqueItems": true}), json!([1, 1])));
        assert!(!ok(json!({"items": {"type": "string"}}), json!([1])));
        assert!(!ok(json!({"required": ["a"]}), json!({})));
        assert!(!ok(json!({"properties": {"a": {}}}), json!({"b": 1})), "closed");
        assert!(!ok(json!({"anyOf": [{"type": "string"}, {"type": "null"}]}), json!(1)));
        let open = Checker { pattern: &|_, _| true, closed: false };
        assert!(open.check(&json!({"properties": {"a": {}}}), &json!({"b": 1}), "x").is_ok());
        let e = open.check(&json!({"additionalProperties": false}), &json!({"b": 1}), "x");
        assert_eq!(e, Err(Mismatch("x: undeclared property \"b\"".into())));
    }
}
