//! A provider configured by its issuer alone (OpenID Connect Discovery, RFC 8414), every
//! way its discovery document can be unusable, and the RFC 9207 `iss` check at the end of
//! the flow.

use serde_json::{json, Value};

use crate::support::provider::{Endpoint, Fault};
use crate::support::world::{expect_error, expect_ok, World, COMMAND};

/// `configure` with the fake provider's issuer and client, plus `extra` flags; no provider
/// given: an issuer alone means the custom provider.
fn by_issuer(w: &World, issuer: &str, extra: &str) -> String {
    format!(
        "{COMMAND} configure --issuer {issuer} --client-id {} --client-secret {} {extra}",
        w.provider.client_id(),
        w.provider.client_secret()
    )
}

/// The authorize URL the app built for the last connect (the `/oauth2/connect` answer).
fn last_authorize_url(w: &World) -> url::Url {
    let call =
        w.mm.calls_to("/oauth2/connect")
            .pop()
            .expect("a connect URL");
    let data = call.response.as_ref().expect("a response")["data"].clone();
    url::Url::parse(data.as_str().expect("a URL string")).expect("a URL")
}

fn query(url: &url::Url, key: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

#[tokio::test]
async fn the_issuer_alone_gives_the_endpoints_and_scopes_and_the_flow_works() {
    let w = World::new().await;
    let p = &w.provider;
    let text = expect_ok(&w.run(&w.sam, &by_issuer(&w, p.issuer(), "")).await);
    assert!(text.contains("Custom OAuth2 server"), "{text}");
    assert!(text.contains(&w.mm.complete_url()), "{text}");
    assert_eq!(
        w.stored_oauth2_app().expect("stored"),
        json!({
            "remote_root_url": p.base_url(),
            "client_id": p.client_id(),
            "client_secret": p.client_secret(),
            "data": {
                "provider": "custom",
                "issuer": p.issuer(),
                "discovered": {
                    "auth_url": p.authorize_url(),
                    "token_url": p.token_url(),
                    "userinfo_url": p.userinfo_url(),
                    "revoke_url": p.revoke_url(),
                    "scopes": "openid profile email",
                    "iss_required": true
                }
            }
        })
    );

    // The provider sends `iss` (its issuer) with the code: the flow completes.
    w.connect(&w.alice).await;
    assert_eq!(
        query(&last_authorize_url(&w), "scope").as_deref(),
        Some("openid profile email")
    );
    let info = expect_ok(&w.run(&w.alice, &format!("{COMMAND} info")).await);
    assert!(info.contains("Provider User alice"), "{info}");
    let text = expect_ok(&w.run(&w.alice, &format!("{COMMAND} disconnect")).await);
    assert!(text.contains("revoked"), "{text}");

    // The form shows the issuer, and none of the discovered URLs as overrides.
    let form = w.run(&w.sam, &format!("{COMMAND} configure")).await;
    let fields = form["form"]["fields"].as_array().expect("fields").clone();
    let value = |name: &str| {
        fields
            .iter()
            .find(|f| f["name"] == name)
            .map(|f| f["value"].clone())
            .unwrap_or_else(|| panic!("no field {name}"))
    };
    assert_eq!(value("issuer"), json!(p.issuer()));
    assert_eq!(value("auth_url"), Value::Null);
    assert_eq!(value("scopes"), Value::Null);
}

#[tokio::test]
async fn explicit_urls_and_scopes_win_over_the_discovered_ones() {
    let w = World::new().await;
    let p = &w.provider;
    let elsewhere = "http://127.0.0.1:9/userinfo";
    let line = by_issuer(
        &w,
        p.issuer(),
        &format!("--userinfo-url {elsewhere} --scopes openid"),
    );
    expect_ok(&w.run(&w.sam, &line).await);
    let data = w.stored_oauth2_app().expect("stored")["data"].clone();
    assert_eq!(data["userinfo_url"], elsewhere);
    assert_eq!(data["scopes"], "openid");
    w.connect(&w.alice).await;
    assert_eq!(
        query(&last_authorize_url(&w), "scope").as_deref(),
        Some("openid")
    );
    // info goes to the explicit userinfo URL, where nothing listens.
    let text = expect_error(&w.run(&w.alice, &format!("{COMMAND} info")).await);
    assert!(text.contains("could not be reached"), "{text}");
    assert_eq!(p.counts().userinfo, 0);
}

#[tokio::test]
async fn the_rfc_8414_location_is_tried_when_openid_configuration_fails() {
    let w = World::new().await;
    w.provider
        .fail_next(Endpoint::Discovery, Fault::ServerError);
    expect_ok(&w.run(&w.sam, &by_issuer(&w, w.provider.issuer(), "")).await);
    let data = w.stored_oauth2_app().expect("stored")["data"].clone();
    assert_eq!(data["discovered"]["token_url"], w.provider.token_url());
}

/// Configures with an unusable document: the error, the field, and nothing stored.
async fn refused(w: &World, issuer: &str) -> String {
    let response = w.run(&w.sam, &by_issuer(w, issuer, "")).await;
    let text = expect_error(&response);
    assert!(
        text.starts_with("The configuration was not saved. Issuer: "),
        "{text}"
    );
    assert!(
        response["data"]["errors"]["issuer"].is_string(),
        "{response:#}"
    );
    assert!(w.stored_oauth2_app().is_none(), "nothing stored");
    assert!(w.mm.rest_calls_to("POST", "/oauth2/app").is_empty());
    assert!(!text.contains(&w.provider.client_secret()), "{text}");
    text
}

#[tokio::test]
async fn an_unusable_discovery_document_is_a_clear_error_and_stores_nothing() {
    let w = World::new().await;
    let p = &w.provider;
    let issuer = p.issuer().to_owned();
    let doc = p.discovery_document();

    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        let port = listener.local_addr().expect("address").port();
        drop(listener);
        format!("http://127.0.0.1:{port}")
    };
    let text = refused(&w, &closed).await;
    assert!(text.contains("could not be reached"), "{text}");

    let text = refused(&w, "http://auth.example.com").await;
    assert!(text.contains("must use https"), "{text}");

    p.set_discovery(Some(json!("<html>Sign in</html>")));
    let text = refused(&w, &issuer).await;
    assert!(text.contains("is not JSON"), "{text}");

    let mut big = doc.clone();
    big["padding"] = json!("x".repeat(70 * 1024));
    p.set_discovery(Some(big));
    let text = refused(&w, &issuer).await;
    assert!(text.contains("larger than 64 KiB"), "{text}");

    let mut other = doc.clone();
    other["issuer"] = json!("https://evil.example");
    p.set_discovery(Some(other));
    let text = refused(&w, &issuer).await;
    assert!(
        text.contains("names the issuer `https://evil.example`"),
        "{text}"
    );

    for key in ["authorization_endpoint", "token_endpoint"] {
        let mut missing = doc.clone();
        missing.as_object_mut().expect("an object").remove(key);
        p.set_discovery(Some(missing));
        let text = refused(&w, &issuer).await;
        assert!(text.contains(&format!("has no {key}")), "{text}");
    }

    p.set_discovery(None);
    let text = refused(&w, &issuer).await;
    assert!(
        text.contains("openid-configuration answered HTTP 404"),
        "{text}"
    );
    assert!(
        text.contains("oauth-authorization-server answered HTTP 404"),
        "{text}"
    );

    // A provider that never answers: only the app's own outbound timeout (2 s in tests)
    // can end the wait, within the test's bounded one. No clock to race on a busy machine.
    p.set_discovery(Some(doc));
    let _held = p.hold_next(Endpoint::Discovery);
    let text = refused(&w, &issuer).await;
    assert!(text.contains("did not answer in time"), "{text}");
}

#[tokio::test]
async fn a_code_from_another_issuer_is_refused_and_nothing_is_stored() {
    let w = World::new().await;
    expect_ok(&w.run(&w.sam, &by_issuer(&w, w.provider.issuer(), "")).await);

    for (iss, expected) in [
        (
            Some("https://evil.example"),
            "came from the issuer \"https://evil.example\"",
        ),
        // The document promised `iss` on every response.
        (None, "carries no `iss`"),
    ] {
        w.provider.set_iss(iss);
        let walk = w.walk(&w.alice).await;
        let complete = walk
            .complete
            .as_ref()
            .expect("the provider redirected back");
        assert_eq!(complete.status, 500, "{walk:#?}");
        assert!(complete.body.contains(expected), "{}", complete.body);
        assert!(w.stored_token(&w.alice).is_none());
    }
    assert!(w.mm.rest_calls_to("POST", "/oauth2/user").is_empty());
    assert_eq!(w.provider.counts().token, 0, "no code was exchanged");

    // Without an issuer configured there is nothing to compare `iss` with.
    w.configure_custom_provider().await;
    w.provider.set_iss(Some("https://evil.example"));
    w.connect(&w.alice).await;
}

/// A blank secret keeps the stored one only for the endpoints it went to: when the issuer's
/// document moves the token endpoint, re-submitting the same form (every URL blank) must
/// not send the old secret there.
#[tokio::test]
async fn a_moved_token_endpoint_needs_the_secret_again() {
    let w = World::new().await;
    let p = &w.provider;
    expect_ok(&w.run(&w.sam, &by_issuer(&w, p.issuer(), "")).await);
    let before = w.stored_oauth2_app().expect("stored");
    let same_form = format!(
        "{COMMAND} configure --issuer {} --client-id {}",
        p.issuer(),
        p.client_id()
    );
    // Unchanged: the blank secret keeps the stored one.
    expect_ok(&w.run(&w.sam, &same_form).await);
    assert_eq!(w.stored_oauth2_app().as_ref(), Some(&before));

    for (key, moved) in [
        (
            "token_endpoint",
            format!("{}/elsewhere/token", p.base_url()),
        ),
        (
            "revocation_endpoint",
            format!("{}/elsewhere/revoke", p.base_url()),
        ),
    ] {
        let mut doc = p.discovery_document();
        doc[key] = json!(moved);
        p.set_discovery(Some(doc));
        let response = w.run(&w.sam, &same_form).await;
        let text = expect_error(&response);
        assert!(text.contains("Client secret: required"), "{key}: {text}");
        assert!(
            response["data"]["errors"]["client_secret"].is_string(),
            "{response:#}"
        );
        assert_eq!(w.stored_oauth2_app().as_ref(), Some(&before), "{key}");
    }
    // With the secret given again, the new endpoints are stored.
    expect_ok(&w.run(&w.sam, &by_issuer(&w, p.issuer(), "")).await);
    let data = w.stored_oauth2_app().expect("stored")["data"].clone();
    assert_eq!(
        data["discovered"]["revoke_url"],
        json!(format!("{}/elsewhere/revoke", p.base_url()))
    );
}
