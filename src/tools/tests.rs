use super::*;
use crate::gateway::Session;
use crate::gateway::memory::MemoryApi;
use serde_json::json;

/// Enough of JSON Schema for our output schemas: type (one or several), properties,
/// required, items, enum, minItems/maxItems.
fn conforms(schema: &Value, v: &Value, path: &str) -> Result<(), String> {
    let type_ok = |t: &str| match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => v.is_u64() || v.is_i64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        _ => false,
    };
    match &schema["type"] {
        Value::String(t) if !type_ok(t) => return Err(format!("{path}: {v} is not {t}")),
        Value::Array(ts) if !ts.iter().any(|t| type_ok(t.as_str().unwrap_or(""))) => {
            return Err(format!("{path}: {v} is none of {ts:?}"));
        }
        _ => {}
    }
    if let Some(allowed) = schema["enum"].as_array() {
        if !allowed.contains(v) {
            return Err(format!("{path}: {v} not in {allowed:?}"));
        }
    }
    if let (Some(props), Some(obj)) = (schema["properties"].as_object(), v.as_object()) {
        for key in schema["required"].as_array().into_iter().flatten() {
            if !obj.contains_key(key.as_str().unwrap()) {
                return Err(format!("{path}: missing required {key}"));
            }
        }
        for (k, value) in obj {
            let sub = props.get(k).ok_or_else(|| format!("{path}: undeclared property {k}"))?;
            conforms(sub, value, &format!("{path}.{k}"))?;
        }
    }
    if let Some(items) = v.as_array() {
        if let Some(max) = schema["maxItems"].as_u64() {
            if items.len() as u64 > max {
                return Err(format!("{path}: more than {max} items"));
            }
        }
        if let Some(min) = schema["minItems"].as_u64() {
            if (items.len() as u64) < min {
                return Err(format!("{path}: fewer than {min} items"));
            }
        }
        for (i, item) in items.iter().enumerate() {
            conforms(&schema["items"], item, &format!("{path}[{i}]"))?;
        }
    }
    Ok(())
}

fn context() -> Context {
    let config = crate::config::parse(
        "clusters:\n  dev:\n    server: https://gw.example.com\n    token: tok-unit-abcdef\n    default_project: p\n  two:\n    server: https://gw2.example.com\n    default_project: q\ndefault_cluster: dev\n",
        None,
    )
    .unwrap();
    let mut api = MemoryApi::default();
    let session = |id: &str| Session {
        id: id.into(),
        status: "Stopped".into(),
        task: "t".into(),
        model: Some("m".into()),
        created_at: Some("2026-01-01T00:00:00Z".into()),
        completed_at: Some("2026-01-02T00:00:00Z".into()),
        result: None,
        error: None,
    };
    api.sessions.extend(["s1", "s2", "s3"].map(|id| ("p".to_string(), session(id))));
    Context::with_config(config, Box::new(api))
}

#[test]
fn every_tool_result_conforms_to_its_output_schema() {
    let cases = [
        ("acp_list_sessions", json!({"status": "stopped", "limit": 2})),
        ("acp_get_session", json!({"session": "s1"})),
        ("acp_create_session", json!({"initial_prompt": "x", "dry_run": true, "repos": ["https://g/x/y"]})),
        ("acp_create_session", json!({"initial_prompt": "x", "model": "m", "timeout": 900})),
        ("acp_delete_session", json!({"session": "s1", "dry_run": true})),
        ("acp_delete_session", json!({"session": "s1"})),
        ("acp_bulk_delete_sessions", json!({"sessions": ["s2", "zz"], "confirm": true})),
        ("acp_bulk_delete_sessions", json!({"sessions": ["s3"], "dry_run": true})),
        ("acp_list_clusters", json!({})),
        ("acp_whoami", json!({})),
        ("acp_switch_cluster", json!({"cluster": "two"})),
        ("acp_whoami", json!({})),
    ];
    let mut ctx = context();
    for (name, args) in cases {
        let tool = find(name).unwrap();
        let out = call(&mut ctx, tool, &args);
        let raw = out.structured.unwrap_or_else(|| panic!("{name} {args}: no structured content: {}", out.text));
        let data: Value = serde_json::from_str(raw.get()).unwrap();
        let schema = (tool.output_schema)();
        conforms(&schema, &data, name).unwrap_or_else(|e| panic!("{name} {args}: {e}\n{data}"));
    }
}

#[test]
fn the_validator_can_fail() {
    let schema = sessions::listing_schema();
    assert!(conforms(&schema, &json!({"cluster": "c"}), "x").is_err());
    let bad = json!({"cluster": "c", "project": "p", "sessions": [{"id": 1}], "returned_by_gateway": 0, "may_have_more": false, "filters": {}});
    assert!(conforms(&schema, &bad, "x").unwrap_err().contains("sessions[0]"));
}

#[test]
fn tool_names_are_unique_and_schemas_closed() {
    for (i, t) in TOOLS.iter().enumerate() {
        assert!(TOOLS[..i].iter().all(|o| o.name != t.name), "{}", t.name);
        assert_eq!(params::schema(t.params)["additionalProperties"], json!(false));
        assert_eq!((t.output_schema)()["type"], json!("object"));
    }
}
