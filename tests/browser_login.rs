//! `mcp-acp login --browser` against a hostile neighbour: the loopback callback takes exactly
//! the answer that carries this login's `state`. A callback without it, or with another one
//! (another local user's code), is answered 400 and the login keeps waiting; the right one
//! ends it, and the stored login is the one from that code. The provider's error with our
//! state ends it too.

mod common;

use common::idp::form;
use common::raw::get_url;
use common::*;
use std::io::{BufRead, BufReader, Lines, Read, Write};
use std::process::{Child, ChildStderr, Stdio};

fn setup() -> (AmbientEnv, FakeIdp) {
    let env = AmbientEnv::new();
    let idp = FakeIdp::start();
    idp.on_issue(env.api.token_acceptor());
    env.write_oidc(&idp.issuer());
    (env, idp)
}

/// `mcp-acp login amb --browser`, and the authorization URL it prints.
fn start(env: &AmbientEnv, idp: &FakeIdp) -> (Child, Lines<BufReader<ChildStderr>>, String) {
    let mut child = env
        .command()
        .args(["login", "amb", "--browser"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let prefix = format!("{}/protocol/openid-connect/auth?", idp.issuer());
    let url = loop {
        let line = lines.next().expect("the URL is printed").unwrap();
        if line.trim().starts_with(&prefix) {
            break line.trim().to_string();
        }
    };
    (child, lines, url)
}

#[test]
fn a_callback_without_this_logins_state_is_refused_and_the_login_waits_for_the_right_one() {
    let (env, idp) = setup();
    let (mut child, lines, url) = start(&env, &idp);
    let fields = form(url.split_once('?').unwrap().1);
    let (callback, state) = (&fields["redirect_uri"], &fields["state"]);
    assert_eq!(state.len(), 22, "{url}");
    // Another local user's code, sent to our loopback port: without a state, with another
    // one, with ours cut short, and with no query at all.
    let wrong = format!("{}x", &state[..state.len() - 1]);
    for attack in [
        format!("{callback}?code=stolen-code-Qw3rTy"),
        format!("{callback}?code=stolen-code-Qw3rTy&state=guessed-state"),
        format!("{callback}?code=stolen-code-Qw3rTy&state={wrong}"),
        format!("{callback}?code=stolen-code-Qw3rTy&state={}", &state[..10]),
        format!("{callback}?state=&code=stolen-code-Qw3rTy"),
        callback.to_string(),
    ] {
        let (status, _, body) = get_url(&attack);
        assert_eq!(status, 400, "{attack} was not refused: {body}");
        assert!(body.contains("not the answer to the login under way"), "{body}");
    }
    assert!(child.try_wait().unwrap().is_none(), "a refused callback ended the login");
    // Now the real browser: the provider sends it back with our state and its code.
    let (status, location, _) = get_url(&url);
    assert_eq!(status, 302);
    let location = location.unwrap();
    let code = form(location.split_once('?').unwrap().1)["code"].clone();
    let (status, _, body) = get_url(&location);
    assert_eq!((status, body.as_str()), (200, "Logged in to mcp-acp. You can close this tab."));
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    assert!(child.wait().unwrap().success(), "{rest:?}");
    let log = rest.join("\n");
    assert!(log.contains("Logged in to cluster amb as ada."), "{log}");
    assert_eq!(log.matches("refused a request to the login's callback without this login's state").count(), 6, "{log}");
    assert!(!log.contains("stolen-code"), "the refused code was logged: {log}");
    // The one code exchanged is the provider's, and the stored login is what it gave.
    let grants = idp.grants("authorization_code");
    assert_eq!(grants.len(), 1, "{grants:?}");
    assert_eq!(grants[0].form["code"], code);
    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(env.dir.path().join(".config/acp/tokens/amb.json")).unwrap())
            .unwrap();
    assert_eq!(stored["refresh_token"].as_str(), idp.issued_refresh().last().map(String::as_str));
    // Nothing more is accepted: the listener is gone with the login.
    assert!(
        std::net::TcpStream::connect(callback.strip_prefix("http://").unwrap().split('/').next().unwrap()).is_err()
    );
}

#[test]
fn the_providers_error_with_our_state_ends_the_login() {
    let (env, idp) = setup();
    let (mut child, lines, url) = start(&env, &idp);
    let fields = form(url.split_once('?').unwrap().1);
    let (status, _, _) = get_url(&format!("{}?error=access_denied", fields["redirect_uri"]));
    assert_eq!(status, 400, "an error without our state is not the provider's");
    let (status, _, body) =
        get_url(&format!("{}?error=access_denied&state={}", fields["redirect_uri"], fields["state"]));
    assert_eq!((status, body.as_str()), (200, "The login failed; see the terminal."));
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    assert!(!child.wait().unwrap().success(), "{rest:?}");
    assert!(rest.iter().any(|l| l.contains("access_denied")), "{rest:?}");
    assert!(idp.grants("authorization_code").is_empty());
    assert!(!env.dir.path().join(".config/acp/tokens/amb.json").exists());
}

/// A local process trickling one byte a second to the callback port does not hold the login
/// up: its connection is answered 408 after a few seconds and the real callback, sent on
/// another connection meanwhile, ends the login long before the trickler would have.
#[test]
fn a_connection_trickling_its_request_is_dropped_and_the_real_callback_gets_through() {
    use std::time::{Duration, Instant};
    let (env, idp) = setup();
    let (mut child, lines, url) = start(&env, &idp);
    let fields = form(url.split_once('?').unwrap().1);
    let port = fields["redirect_uri"].strip_prefix("http://").unwrap().split('/').next().unwrap().to_string();
    let began = Instant::now();
    let trickler = std::thread::spawn(move || {
        let mut tcp = std::net::TcpStream::connect(&port).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
        let (mut answer, mut buf) = (Vec::new(), [0u8; 512]);
        for b in b"GET /callback?state=xxxxxxxx" {
            if tcp.write_all(&[*b]).is_err() {
                break;
            }
            // The second between two bytes, spent watching for an answer.
            match tcp.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
                Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
                Err(_) => break,
            }
            if began.elapsed() >= Duration::from_secs(15) {
                break;
            }
        }
        String::from_utf8_lossy(&answer).into_owned()
    });
    std::thread::sleep(Duration::from_secs(6));
    let (status, location, _) = get_url(&url);
    assert_eq!(status, 302);
    let (status, _, body) = get_url(&location.unwrap());
    assert_eq!((status, body.as_str()), (200, "Logged in to mcp-acp. You can close this tab."));
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    assert!(child.wait().unwrap().success(), "{rest:?}");
    let took = began.elapsed();
    assert!(took < Duration::from_secs(14), "the login waited for the trickler: {took:?}");
    let log = rest.join("\n");
    assert!(log.contains("Logged in to cluster amb as ada."), "{log}");
    assert!(log.contains("did not send its request in time"), "{log}");
    assert_eq!(idp.grants("authorization_code").len(), 1);
    let answer = trickler.join().unwrap();
    assert!(answer.starts_with("HTTP/1.1 408 Request Timeout"), "{answer:?}");
}
