use super::*;
use std::os::unix::fs::PermissionsExt;

const GOOD: &str = "
clusters:
  dev:
    server: https://gw.example.com/
    token: tok-config-123456
    default_project: team-a
    description: Dev
  prod:
    server: http://127.0.0.1:8081
    default_project: prod
default_cluster: dev
";

#[test]
fn parses_the_original_format_in_file_order() {
    let c = parse(GOOD, None).unwrap();
    assert_eq!(c.cluster_names(), ["dev", "prod"]);
    assert_eq!(c.default_cluster.as_deref(), Some("dev"));
    let dev = c.cluster("dev").unwrap();
    assert_eq!(dev.server.base(), "https://gw.example.com");
    assert_eq!(dev.description.as_deref(), Some("Dev"));
}

#[test]
fn token_comes_from_the_cluster_then_the_environment() {
    let env = Some(Secret::new("tok-env-abcdef".into()));
    let c = parse(GOOD, env).unwrap();
    let (t, src) = c.token_for(c.cluster("dev").unwrap()).unwrap();
    assert_eq!((t.expose(), src), ("tok-config-123456", TokenSource::ConfigFile));
    let (t, src) = c.token_for(c.cluster("prod").unwrap()).unwrap();
    assert_eq!((t.expose(), src), ("tok-env-abcdef", TokenSource::EnvVar));
    let c = parse(GOOD, None).unwrap();
    let err = c.token_for(c.cluster("prod").unwrap()).unwrap_err().to_string();
    assert_eq!(
        err,
        "No authentication token available for cluster 'prod'. Set `token` for it in clusters.yaml or set \
         the ACP_TOKEN environment variable."
    );
}

fn err_of(yaml: &str) -> String {
    parse(yaml, None).unwrap_err().to_string()
}

#[test]
fn rejects_kubernetes_api_urls_naming_the_cluster() {
    let e = err_of("clusters:\n  k8s:\n    server: https://api.x:6443\n    default_project: p\n");
    assert!(e.starts_with("cluster 'k8s': server: Direct Kubernetes API URLs"), "{e}");
    assert!(e.contains("public-api gateway URL"));
}

#[test]
fn rejects_bad_entries_with_the_rule() {
    let e = err_of("clusters:\n  a:\n    server: ftp://x\n    default_project: p\n");
    assert!(e.contains("must start with https:// or http://"), "{e}");
    let e = err_of("clusters:\n  a:\n    server: https://x\n    default_project: My_Proj\n");
    assert!(e.contains("cluster 'a': default_project \"My_Proj\" is invalid"), "{e}");
    let e = err_of("clusters:\n  a:\n    server: https://x\n");
    assert!(e.contains("default_project is required"), "{e}");
    let e = err_of("clusters:\n  a:\n    server: https://x\n    default_project: p\n    tokn: x\n");
    assert!(e.contains("unknown key \"tokn\""), "{e}");
    let e = err_of("clusters:\n  a:\n    server: 5\n    default_project: p\n");
    assert!(e.contains("server must be a string (found the number 5)"), "{e}");
    let e = err_of("clusters:\n  a:\n    server: https://x\n    default_project: p\n    token: \"a b\"\n");
    assert!(e.contains("token contains spaces") && !e.contains("a b"), "{e}");
}

#[test]
fn timeout_and_ca_cert_are_optional_and_checked() {
    let c = parse(GOOD, None).unwrap();
    assert_eq!(c.clusters[0].timeout.as_secs(), 30);
    let base = "clusters:\n  a:\n    server: https://x\n    default_project: p\n";
    let c = parse(&format!("{base}    timeout_seconds: 2\n    ca_cert: ca.pem\n"), None).unwrap();
    let cluster = &c.clusters[0];
    assert_eq!((cluster.timeout.as_secs(), cluster.tls.ca_cert.as_deref()), (2, Some(Path::new("ca.pem"))));
    for bad in ["0", "301", "-1", "1.5", "'10'"] {
        let e = err_of(&format!("{base}    timeout_seconds: {bad}\n"));
        assert!(e.contains("timeout_seconds must be a whole number from 1 to 300"), "{e}");
    }
}

#[test]
fn tokens_are_bearer_tokens_of_ten_characters_or_more() {
    let base = "clusters:\n  a:\n    server: https://x\n    default_project: p\n    token: ";
    for bad in ["'tok\"en-1234567'", "'tok\\en-1234567'", "'tok,en-1234567'", "'=abcdefghijk'", "abc12", "'123456789'"]
    {
        let e = err_of(&format!("{base}{bad}\n"));
        assert!(e.starts_with("cluster 'a': token "), "{bad}: {e}");
        assert!(!e.contains("en-123") && !e.contains("abc12") && !e.contains("12345"), "{bad}: {e}");
    }
    for good in ["sha256~AbC-123_xyz", "eyJhbGciOi.eyJzdWIi.c2ln+/==", "0123456789"] {
        assert!(parse(&format!("{base}'{good}'\n"), None).is_ok(), "{good}");
    }
}

#[test]
fn config_errors_never_show_a_token_wherever_it_was_put() {
    let token = "cfg-Tok3n-zQ8vW2xY7pL4";
    let at = |s: &str| s.replace("TOKEN", token);
    let cases = [
        // A bare YAML number: not a string, so nothing but registration hides it.
        (
            "clusters:\n  a:\n    server: https://x\n    default_project: p\n    token: 918273645546372819\n",
            "918273645546372819",
        ),
        // Pasted as a key, one line off.
        ("clusters:\n  a:\n    server: https://x\n    default_project: p\n    TOKEN: x\n", token),
        ("clusters:\n  TOKEN:\n    server: https://x\n", token),
        ("clusters:\n  a:\n    server: https://x\n    default_project: p\ndefault_cluster: TOKEN\n", token),
        // Fine token, another key wrong: the error must not carry it either.
        ("clusters:\n  a:\n    token: TOKEN\n    server: TOKEN\n    default_project: p\n", token),
        ("clusters:\n  a:\n    token: TOKEN\n    server: https://x\n    default_project: [TOKEN\n", token),
        // All of them at once: now that every problem is told, none may carry it.
        (
            "clusters:\n  TOKEN:\n    server: https://x\n  a:\n    token: TOKEN\n    server: TOKEN\n    TOKEN: x\n    \
             timeout_seconds: TOKEN\n    description: [TOKEN]\n    default_project: TOKEN\ndefault_cluster: TOKEN\n",
            token,
        ),
    ];
    for (yaml, secret) in cases {
        let e = parse(&at(yaml), None).unwrap_err();
        let each = e.diagnostics.iter().flat_map(|d| [d.to_string(), format!("{d:?}")]);
        for text in std::iter::once(e.to_string()).chain(each) {
            let shown = crate::redact::redact(&text);
            for piece in (0..=secret.len() - 10).map(|i| &secret[i..i + 10]) {
                assert!(!shown.contains(piece), "{yaml}: {shown}");
            }
        }
    }
}

#[test]
fn default_cluster_must_exist() {
    let e = err_of("clusters:\n  a:\n    server: https://x\n    default_project: p\ndefault_cluster: b\n");
    assert_eq!(e, "default_cluster 'b' not found in clusters: [\"a\"]");
}

#[test]
fn yaml_errors_carry_line_and_column() {
    let e = err_of("clusters:\n  a: [\n");
    assert!(e.starts_with("YAML error: ") && e.contains(" at line 3 column 1"), "{e}");
}

#[test]
fn empty_file_is_explained_with_an_example() {
    assert!(err_of("  \n").contains("default_cluster: dev"));
}

#[test]
fn missing_clusters_is_an_empty_configuration() {
    let c = parse("default_cluster:\n", None).unwrap();
    assert!(c.clusters.is_empty());
}

#[test]
fn blank_token_counts_as_no_token() {
    let c = parse("clusters:\n  a:\n    server: https://x\n    default_project: p\n    token: '  '\n", None).unwrap();
    assert!(c.clusters[0].token.is_none());
}

// Every problem at once.

fn diagnostics_of(yaml: &str) -> Vec<Diagnostic> {
    parse(yaml, None).unwrap_err().diagnostics
}

fn located(d: &Diagnostic) -> (Severity, Option<String>, Option<&'static str>) {
    (d.severity, d.cluster.as_ref().map(ToString::to_string), d.key)
}

#[test]
fn every_problem_in_every_cluster_is_reported_with_cluster_and_key() {
    let yaml = "clusters:
  a:
    server: ftp://x
    default_project: p
    timeout_seconds: 0
  ok:
    server: https://ok
    default_project: p
  b:
    server: https://x
    default_project: My_Proj
default_cluster: a
";
    let e = parse(yaml, None).unwrap_err();
    let found: Vec<_> = e.diagnostics.iter().map(located).collect();
    let error = Severity::Error;
    assert_eq!(
        found,
        [
            (error, Some("'a'".into()), Some("server")),
            (error, Some("'a'".into()), Some("timeout_seconds")),
            (error, Some("'b'".into()), Some("default_project")),
        ],
        "{e}"
    );
    assert!(e.diagnostics.iter().all(|d| d.origin == Origin::Content));
    assert!(e.diagnostics[0].message.starts_with("server: "), "{e}");
    assert_eq!(
        e.to_string(),
        "3 problems:\n\
         - cluster 'a': server: "
            .to_string()
            + e.diagnostics[0].message.strip_prefix("server: ").unwrap()
            + "\n- cluster 'a': timeout_seconds must be a whole number from 1 to 300 (found the number 0)\n\
               - cluster 'b': default_project \"My_Proj\" is invalid: default_project must be a DNS-1123 label: \
               1-63 characters, lowercase letters a-z, digits 0-9 and '-', starting and ending with a letter or digit"
    );
}

#[test]
fn an_entry_is_checked_completely_and_top_level_problems_are_added() {
    let e = diagnostics_of(
        "clusters:\n  a:\n    tokn: x\n    server: 5\n    token: abc12\n    description: [d]\n    ca_cert: 7\n  \
         5:\n    server: https://x\n    default_project: p\ndefault_cluster: 5\n",
    );
    let found: Vec<_> = e.iter().map(located).collect();
    let (error, a) = (Severity::Error, Some("'a'".to_string()));
    assert_eq!(
        found,
        [
            (error, a.clone(), None),
            (error, a.clone(), Some("server")),
            (error, a.clone(), Some("default_project")),
            (error, a.clone(), Some("token")),
            (error, a.clone(), Some("description")),
            (error, a, Some("ca_cert")),
            (error, None, Some("clusters")),
            (error, None, Some("default_cluster")),
        ]
    );
    assert_eq!(e[0].to_string(), format!("cluster 'a': unknown key \"tokn\" (allowed: {})", CLUSTER_KEYS.join(", ")));
    assert_eq!(e[6].message, "cluster names must be strings (found the number 5)");
}

#[test]
fn default_cluster_naming_an_entry_with_problems_is_not_also_missing() {
    let e = diagnostics_of("clusters:\n  a:\n    server: https://x\ndefault_cluster: a\n");
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].to_string(), "cluster 'a': default_project is required");
    // A `clusters` that is not a mapping says nothing about which names exist.
    let e = diagnostics_of("clusters: [a]\ndefault_cluster: a\n");
    assert_eq!(e.len(), 1, "{e:?}");
}

#[test]
fn a_single_problem_reads_as_it_always_has() {
    let y = |entry: &str| format!("clusters:\n  a:\n    server: https://x\n    default_project: p\n{entry}");
    let cases = [
        (y("default_cluster: b\n"), "default_cluster 'b' not found in clusters: [\"a\"]"),
        (y("default_cluster: 5\n"), "default_cluster must be a string (found the number 5)"),
        (
            y("    tokn: x\n"),
            "cluster 'a': unknown key \"tokn\" (allowed: server, token, default_project, description, api, timeout_seconds, ca_cert, read_only, allowed_projects, oidc, token_from, client_cert, client_key, pinned_spki_sha256)",
        ),
        (
            y("    token: abc12\n"),
            "cluster 'a': token is only 5 characters; real tokens are far longer, and one shorter than 10 could not be kept out of what this server prints",
        ),
        (
            y("    token: \"a b c d e f g\"\n"),
            "cluster 'a': token contains spaces, control or non-ASCII characters, which an HTTP header cannot carry; check that it was pasted whole",
        ),
        (
            y("    token: '=abcdefghijk'\n"),
            "cluster 'a': token is not a bearer token: it may hold only letters, digits and - . _ ~ + / (then = at the end); check that it was pasted whole, without quotes or a prefix",
        ),
        (
            y("    token: 918273645546372819\n"),
            "cluster 'a': token must be a string: put it in quotes (its value is not shown)",
        ),
        (
            y("    timeout_seconds: 0\n"),
            "cluster 'a': timeout_seconds must be a whole number from 1 to 300 (found the number 0)",
        ),
        (y("    description: 5\n"), "cluster 'a': description must be a string (found the number 5)"),
        (y("    ca_cert: [x]\n"), "cluster 'a': ca_cert must be a string (found a list)"),
        (
            "clusters:\n  a:\n    server: 5\n    default_project: p\n".into(),
            "cluster 'a': server must be a string (found the number 5)",
        ),
        ("clusters:\n  a:\n    default_project: p\n".into(), "cluster 'a': server is required"),
        (
            "clusters:\n  k8s:\n    server: https://api.x:6443\n    default_project: p\n".into(),
            "cluster 'k8s': server: Direct Kubernetes API URLs (port 6443) are not supported. Use the public-api gateway URL instead (e.g., https://public-api-ambient.apps.cluster.example.com).",
        ),
        (
            "clusters:\n  cfg-Tok3n-zQ8vW2xY7pL4:\n    server: https://x\n".into(),
            "cluster of 22 characters (not shown: it does not look like a name; is it a token?): default_project is required",
        ),
        ("clusters:\n  a: 5\n".into(), "cluster 'a': settings must be a mapping (found the number 5)"),
        (
            "clusters:\n  5:\n    server: https://x\n    default_project: p\n".into(),
            "cluster names must be strings (found the number 5)",
        ),
        ("clusters: [a]\n".into(), "`clusters` must be a mapping of name → settings (found a list)"),
        ("- a\n".into(), "the top level must be a mapping with `clusters` and `default_cluster`"),
        (
            "clusters:\n  a: [\n".into(),
            "YAML error: did not find expected node content at line 3 column 1, while parsing a flow node",
        ),
        (
            "  \n".into(),
            "the file is empty. Minimal example:\n\nclusters:\n  dev:\n    server: https://public-api-ambient.apps.cluster.example.com\n    default_project: my-project\n    token: <your token>        # or leave this out and set ACP_TOKEN\ndefault_cluster: dev",
        ),
    ];
    for (yaml, want) in cases {
        assert_eq!(err_of(&yaml), want, "{yaml}");
    }
}

/// A private directory (0700) with a clusters.yaml (0600) holding `yaml`.
fn config_file(yaml: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let path = dir.path().join("clusters.yaml");
    write_private(&path, yaml);
    (dir, path)
}

fn write_private(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn load_err(path: &Path, acp_token: Option<&str>) -> ConfigError {
    load_with(path, acp_token.map(str::to_string)).unwrap_err()
}

#[test]
fn a_single_load_problem_reads_as_it_always_has() {
    let entry = "clusters:\n  dev:\n    server: https://x\n    default_project: p\n";
    let (dir, path) = config_file(entry);
    let (d, p) = (dir.path().display(), path.display());
    assert_eq!(
        load_err(&path, Some("abc")).to_string(),
        "ACP_TOKEN: token is only 3 characters; real tokens are far longer, and one shorter than 10 could not be kept out of what this server prints"
    );
    write_private(&path, &format!("{entry}    ca_cert: nope.pem\n"));
    assert_eq!(
        load_err(&path, None).to_string(),
        format!(
            "Invalid cluster configuration {p}: cluster 'dev': ca_cert {d}/nope.pem: cannot read it (no such file)"
        )
    );
    write_private(&dir.path().join("key.pem"), "not a certificate");
    write_private(&path, &format!("{entry}    ca_cert: key.pem\n"));
    assert_eq!(
        load_err(&path, None).to_string(),
        format!(
            "Invalid cluster configuration {p}: cluster 'dev': ca_cert {d}/key.pem: no PEM certificate (-----BEGIN CERTIFICATE-----) in it"
        )
    );
    std::fs::set_permissions(dir.path().join("key.pem"), std::fs::Permissions::from_mode(0o666)).unwrap();
    assert_eq!(
        load_err(&path, None).to_string(),
        format!(
            "Invalid cluster configuration {p}: cluster 'dev': Refusing to use ca_cert {d}/key.pem: its mode is 0666, so users other than you can write it and could make this server trust a certificate of theirs and read your token on its way. Fix it with: chmod 600 {d}/key.pem"
        )
    );
    write_private(&path, "clusters:\n  dev: [\n");
    assert_eq!(
        load_err(&path, None).to_string(),
        format!(
            "Invalid cluster configuration {p}: YAML error: did not find expected node content at line 3 column 1, while parsing a flow node"
        )
    );
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
    assert_eq!(
        load_err(&path, None).to_string(),
        format!(
            "Refusing to use {p}: its mode is 0666, so users other than you can write it and could point this server (and your token) at a server of theirs. Fix it with: chmod 600 {p}"
        )
    );
    std::fs::remove_file(&path).unwrap();
    assert_eq!(
        load_err(&path, None).to_string(),
        format!(
            "Cluster configuration not found: {p}\nCreate it with mode 0600 (or point ACP_CLUSTER_CONFIG at one). Minimal example:\n\n{EXAMPLE}"
        )
    );
}

#[test]
fn load_tells_file_environment_and_content_problems_together() {
    let (dir, path) = config_file(
        "clusters:\n  dev:\n    server: 5\n    default_project: p\n    ca_cert: nope.pem\n  ok:\n    server: https://x\n    \
         default_project: p\n    ca_cert: nope.pem\n",
    );
    let e = load_err(&path, Some("abc"));
    let found: Vec<_> = e.diagnostics.iter().map(|d| (d.origin, located(d))).collect();
    let (error, dev, ok) = (Severity::Error, Some("'dev'".to_string()), Some("'ok'".to_string()));
    assert_eq!(
        found,
        [
            (Origin::Environment, (error, None, Some("ACP_TOKEN"))),
            (Origin::Content, (error, dev.clone(), Some("server"))),
            (Origin::Content, (error, dev, Some("ca_cert"))),
            (Origin::Content, (error, ok, Some("ca_cert"))),
        ]
    );
    let text = e.to_string();
    let (p, d) = (path.display(), dir.path().display());
    assert!(text.starts_with(&format!("Invalid cluster configuration {p}: 4 problems:\n- ACP_TOKEN: token is only 3")));
    assert!(
        text.ends_with(&format!("\n- cluster 'ok': ca_cert {d}/nope.pem: cannot read it (no such file)")),
        "{text}"
    );
    assert_eq!(text.lines().count(), 5, "{text}");
    // The file unusable: the environment is still checked.
    std::fs::remove_file(&path).unwrap();
    let e = load_err(&path, Some("abc"));
    assert_eq!(e.diagnostics.iter().map(|d| d.origin).collect::<Vec<_>>(), [Origin::File, Origin::Environment]);
}

#[test]
fn warnings_come_back_as_diagnostics_and_are_not_logged_by_load() {
    let good = "clusters:\n  dev:\n    server: https://x\n    default_project: p\n    token: tok-warn-0123456789\n";
    let (dir, path) = config_file(good);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o750)).unwrap();
    let loaded = load_with(&path, None).unwrap();
    assert_eq!(loaded.config.cluster_names(), ["dev"]);
    let (p, d) = (path.display(), dir.path().display());
    let want = [
        format!("{p} has mode 0644: other users can read the tokens in it. Fix it with: chmod 600 {p}"),
        format!("{d} has mode 0750: it should be private. Fix it with: chmod 700 {d}"),
    ];
    assert_eq!(loaded.warnings.iter().map(ToString::to_string).collect::<Vec<_>>(), want);
    for w in &loaded.warnings {
        assert_eq!((w.severity, w.origin, &w.cluster, w.key), (Severity::Warning, Origin::File, &None, None));
    }
    // A file that is read but wrong: the warnings come with the error, which does not show them.
    write_private(&path, "clusters:\n  dev:\n    server: https://x\n");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let e = load_err(&path, None);
    assert_eq!(e.warnings().map(ToString::to_string).collect::<Vec<_>>(), want);
    assert_eq!(e.to_string(), format!("Invalid cluster configuration {p}: cluster 'dev': default_project is required"));
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
}

#[test]
fn load_resolves_ca_cert_against_the_files_directory() {
    let (dir, path) =
        config_file("clusters:\n  dev:\n    server: https://x\n    default_project: p\n    ca_cert: ca.pem\n");
    write_private(&dir.path().join("ca.pem"), "-----BEGIN CERTIFICATE-----\n");
    let loaded = load_with(&path, None).unwrap();
    assert_eq!(loaded.config.clusters[0].tls.ca_cert.as_deref(), Some(dir.path().join("ca.pem").as_path()));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn load_resolves_audit_log_against_the_files_directory() {
    let top = "clusters:\n  dev:\n    server: https://x\n    default_project: p\n";
    let (dir, path) = config_file(&format!("{top}audit_log: logs/audit.jsonl\n"));
    let loaded = load_with(&path, None).unwrap();
    assert_eq!(loaded.config.guard.audit_log, Some(dir.path().join("logs/audit.jsonl")));
    write_private(&path, &format!("{top}audit_log: /var/log/acp.jsonl\n"));
    let loaded = load_with(&path, None).unwrap();
    assert_eq!(loaded.config.guard.audit_log.as_deref(), Some(std::path::Path::new("/var/log/acp.jsonl")));
}
