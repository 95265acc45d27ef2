use super::*;

const P: &[Param] = &[
    Param { name: "project", kind: Kind::Name, required: false, description: "project" },
    Param { name: "session", kind: Kind::Name, required: true, description: "the session" },
    Param { name: "confirm", kind: Kind::Bool, required: false, description: "" },
    Param { name: "limit", kind: Kind::Int { min: 1, max: 1000 }, required: false, description: "" },
    Param { name: "sessions", kind: Kind::Names { max: 3 }, required: false, description: "" },
    Param { name: "repos", kind: Kind::Repos { max: 10 }, required: false, description: "" },
    Param { name: "status", kind: Kind::Enum(&["running", "failed"]), required: false, description: "" },
];

fn err(args: Value) -> String {
    parse(P, &args).unwrap_err().0
}

#[test]
fn valid_arguments_pass_and_read_back() {
    let a = parse(P, &json!({"session": "s-1", "confirm": true, "limit": 5, "project": ""})).unwrap();
    assert_eq!(
        (a.str("session"), a.flag("confirm"), a.int("limit"), a.str("project")),
        (Some("s-1"), true, Some(5), None)
    );
}

#[test]
fn every_error_names_the_argument() {
    assert_eq!(err(json!({})), "session is required: the session");
    let bare = [Param { name: "name", kind: Kind::SessionId, required: true, description: "" }];
    assert_eq!(parse(&bare, &json!({})).unwrap_err().0, "name is required");
    assert!(err(json!({"session": "A"})).starts_with("session \"A\" is invalid"));
    assert_eq!(
        err(json!({"session": "a", "confirm": "true"})),
        "confirm must be a boolean (true or false), not a string"
    );
    assert!(err(json!({"session": "a", "limit": 0})).starts_with("limit must be a whole number from 1 to 1000"));
    assert!(err(json!({"session": "a", "limit": 1e300})).starts_with("limit must be a whole number"));
    assert!(err(json!({"session": "a", "limit": 99999999999999999999u128})).starts_with("limit must be"));
    assert!(err(json!({"session": "a", "extra": 1})).starts_with("unknown argument \"extra\""));
    assert!(err(json!({"session": "a", "status": "RUN"})).contains("is not one of: running, failed"));
    assert_eq!(err(json!([1])), "arguments must be a JSON object, not an array");
}

#[test]
fn null_is_refused_never_a_default() {
    assert_eq!(
        err(json!({"session": "a", "confirm": null})),
        "confirm must be a boolean (true or false), not null; leave confirm out to use its default"
    );
    assert_eq!(err(json!({"session": null})), "session must be a string, not null");
    assert!(err(json!({"session": "a", "repos": [{"url": "https://g/x", "branch": null}]})).contains("not null"));
}

#[test]
fn bulk_lists_are_capped_and_distinct() {
    assert!(err(json!({"session": "a", "sessions": ["a", "b", "c", "d"]})).contains("more than the limit of 3"));
    assert!(err(json!({"session": "a", "sessions": ["a", "a"]})).contains("more than once"));
    assert!(err(json!({"session": "a", "sessions": []})).contains("at least one"));
    assert!(err(json!({"session": "a", "sessions": ["ok", "Bad"]})).starts_with("sessions[1] \"Bad\" is invalid"));
}

#[test]
fn repos_accept_strings_and_objects() {
    let a = parse(
        P,
        &json!({"session": "a", "repos": ["https://g/x.git", {"url": "git@github.com:o/y.git", "branch": "main"}]}),
    )
    .unwrap();
    assert_eq!(a.repos("repos")[1], Repo { url: "git@github.com:o/y.git".into(), branch: Some("main".into()) });
    assert!(err(json!({"session": "a", "repos": ["file:///etc/passwd"]})).contains("not a repository URL"));
    assert!(err(json!({"session": "a", "repos": ["ssh://-oProxyCommand=x/y"]})).contains("not a repository URL"));
    assert!(err(json!({"session": "a", "repos": [{"url": "https://g/x", "branch": "../x"}]})).contains("branch"));
    assert!(err(json!({"session": "a", "repos": [{"url": "https://g/x", "ref": "x"}]})).contains("unknown key"));
}

#[test]
fn schema_matches_the_declarations() {
    let s = schema(P);
    assert_eq!(s["required"], json!(["session"]));
    assert_eq!(s["properties"]["session"], json!({"type": "string", "description": "the session"}));
    assert_eq!(s["properties"]["sessions"]["maxItems"], json!(3));
    assert_eq!(s["properties"]["limit"], json!({"type": "integer", "minimum": 1, "maximum": 1000}));
    assert_eq!(s["properties"]["status"]["enum"], json!(["running", "failed"]));
    assert_eq!(s["properties"]["confirm"], json!({"type": "boolean"}), "no empty description, no default");
    assert_eq!(s["additionalProperties"], json!(false));
    let none = schema(&[]);
    assert_eq!(none, json!({"type": "object", "additionalProperties": false, "properties": {}}), "no empty required");
}
