//! Outside text (a provider's answers, an issuer's discovery document, the redirect's
//! parameters) cannot forge what people see or what the log says: it shows literally in
//! messages, on one line in the log.

use serde_json::json;

use crate::support::app::{new_secret, TestApp};
use crate::support::process::AppProcess;
use crate::support::provider::{Endpoint, Fault};
use crate::support::world::{expect_error, expect_ok, World, COMMAND};

/// The characters that start a new line, or reorder what is shown, in a rendered message.
fn breaks_or_reorders(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{2424}')
        || matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[tokio::test]
async fn a_crafted_name_renders_no_heading_code_block_or_reordering() {
    let w = World::new().await;
    w.configure_custom_provider().await;
    w.connect(&w.alice).await;
    w.provider.set_userinfo(json!({
        "sub": "1",
        // A heading with U+2424, a code block, and a right-to-left override.
        "name": "\u{2424}SECURITY NOTICE\u{2424}===\u{2424}",
        "preferred_username": "Ada\u{2424}\u{2424}    code",
        "email": "evil\u{202E}moc.elpmaxe@ada\u{2028}\u{2029}",
    }));
    let info = expect_ok(&w.run(&w.alice, &format!("{COMMAND} info")).await);
    assert!(!info.contains(breaks_or_reorders), "{info:?}");
    assert!(
        info.contains("&#9252;SECURITY NOTICE&#9252;===&#9252;"),
        "U+2424 still shows, as its entity: {info:?}"
    );
}

/// `configure` by the fake provider's issuer.
fn by_issuer(w: &World) -> String {
    format!(
        "{COMMAND} configure --issuer {} --client-id {} --client-secret {}",
        w.provider.issuer(),
        w.provider.client_id(),
        w.provider.client_secret()
    )
}

#[tokio::test]
async fn a_discovery_document_reaches_admin_messages_only_escaped() {
    let w = World::new().await;
    let p = &w.provider;
    let phish = "[Re-verify your admin session](https://phish.example/)";
    let mut doc = p.discovery_document();
    doc["authorization_endpoint"] = json!(phish);
    p.set_discovery(Some(doc));
    let text = expect_error(&w.run(&w.sam, &by_issuer(&w)).await);
    assert!(text.contains("authorization_endpoint"), "{text}");
    assert!(!text.contains("]("), "no live link: {text}");
    assert!(!text.contains("https://phish"), "no autolink: {text}");
    assert!(w.mm.stored_oauth2_app().is_none());

    // An issuer that breaks out of its code span with U+2424.
    let mut doc = p.discovery_document();
    doc["issuer"] = json!("https://evil.example\u{2424}\u{2424}# Re-verify your admin session");
    p.set_discovery(Some(doc));
    let text = expect_error(&w.run(&w.sam, &by_issuer(&w)).await);
    assert!(text.contains("names the issuer"), "{text}");
    assert!(!text.contains(breaks_or_reorders), "{text:?}");

    // Configured while the document was good; every later `status` fetches it again.
    p.set_discovery(None);
    p.set_discovery(Some(p.discovery_document()));
    expect_ok(&w.run(&w.sam, &by_issuer(&w)).await);
    let mut doc = p.discovery_document();
    doc["authorization_endpoint"] = json!(phish);
    p.set_discovery(Some(doc));
    let status = expect_ok(&w.run(&w.sam, &format!("{COMMAND} status")).await);
    let line = status
        .lines()
        .find(|l| l.contains("Discovery"))
        .unwrap_or_else(|| panic!("a discovery line: {status}"));
    assert!(line.contains(":x:"), "{line}");
    assert!(!line.contains("]("), "no live link: {line}");
    assert!(!line.contains("https://phish"), "no autolink: {line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_and_provider_text_cannot_forge_a_log_line() {
    let secret = new_secret();
    let app = AppProcess::spawn(None, &secret, "info").await;
    let w = World::with_app(TestApp::external(&app.listen_url, &secret)).await;
    w.configure_custom_provider().await;

    let forged = "[2026-01-01T00:00:00Z INFO  hello_oauth2_rs] forged";
    // The redirect's `error_description` (`…/complete?error=x&error_description=a%0A[…`).
    w.provider
        .deny_authorization(&format!("a\n{forged} by the redirect\u{2028}\u{202E}"));
    assert!(!w.walk(&w.alice).await.completed());
    // A revocation refused with such a description, on the way out.
    w.provider.allow_authorization();
    w.connect(&w.alice).await;
    w.provider.fail_next(
        Endpoint::Revoke,
        Fault::Refused(format!("b\r\n{forged} by the provider")),
    );
    expect_ok(&w.run(&w.alice, &format!("{COMMAND} disconnect")).await);

    let log = app.stop().await;
    assert!(
        log.contains("forged by the redirect") && log.contains("forged by the provider"),
        "both were logged:\n{log}"
    );
    for line in log.lines() {
        assert!(
            !line.trim_start().starts_with("[2026-01-01"),
            "a forged line:\n{log}"
        );
        assert!(!line.contains(breaks_or_reorders), "{line:?}");
    }
}
