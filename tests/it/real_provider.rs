//! The app against a real authorization server (panva/oidc-provider, `oidc-server.mjs`)
//! and a real browser (headless Chromium, `browser-walk.mjs`), with the Mattermost
//! emulator in between: what the fake provider and the Rust browser walk take on trust.
//!
//! The provider issues access tokens that live [`ACCESS_TOKEN_TTL`]. The app refreshes any
//! token expiring within 60 s, so here every `info` refreshes first (and, the provider
//! rotating refresh tokens, every refresh spends the previous refresh token).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use crate::support::app::{new_secret, TestApp};
use crate::support::e2e::{browser_walk, Consent, OidcServer, WalkResult};
use crate::support::mattermost::{Mattermost, User, COMPLETED_TEXT};
use crate::support::util::{query_value, within};
use crate::support::world::{expect_ok, kind, open_token, opened_token, COMMAND};

/// The provider's access-token lifetime: short, so a test can wait past it.
const ACCESS_TOKEN_TTL: Duration = Duration::from_secs(3);

/// The scopes the app asks for when configured by issuer (the admin leaves scopes blank):
/// `openid` for userinfo, `profile` and `email` for the claims.
const SCOPES: &str = "openid profile email";

/// The emulator and the app, installed, with a real OIDC provider whose one client
/// redirects to the emulator's complete URL. The provider is not configured in the app yet.
struct RealWorld {
    mm: Mattermost,
    oidc: OidcServer,
    sam: User,
    alice: User,
    bob: User,
    app: TestApp,
}

impl RealWorld {
    async fn start() -> Self {
        let mm = Mattermost::start().await;
        let sam = mm.create_user("sam.admin", "system_admin system_user");
        let alice = mm.create_user("alice", "system_user");
        let bob = mm.create_user("bob", "system_user");
        let app = TestApp::spawn(&new_secret()).await;
        let message = within(
            "install",
            mm.install(&app.manifest_url(), &app.secret, &sam),
        )
        .await
        .unwrap_or_else(|e| panic!("install failed: {e}"));
        assert!(message.starts_with("Installed app"), "{message}");
        let oidc = OidcServer::start(&mm.complete_url(), ACCESS_TOKEN_TTL).await;
        Self {
            mm,
            oidc,
            sam,
            alice,
            bob,
            app,
        }
    }

    async fn run(&self, user: &User, line: &str) -> Value {
        within(line, self.mm.command(user, line))
            .await
            .unwrap_or_else(|e| panic!("the client refused {line:?}: {e}"))
    }

    /// Configures the provider as an admin would: the bare `configure` command opens the
    /// form, filled in with the issuer and the client only, and submitted. The endpoints
    /// come from the provider's own discovery document.
    async fn configure_through_the_form(&self) {
        let response = self.run(&self.sam, &format!("{COMMAND} configure")).await;
        assert_eq!(kind(&response), "form", "{response:#}");
        let form = &response["form"];
        let fields = form["fields"].as_array().expect("the form has fields");
        let names: Vec<&str> = fields.iter().filter_map(|f| f["name"].as_str()).collect();
        assert_eq!(
            names,
            [
                "provider",
                "issuer",
                "client_id",
                "client_secret",
                "auth_url",
                "token_url",
                "userinfo_url",
                "revoke_url",
                "scopes",
                "calendar_url"
            ]
        );
        // The select's value is the option object, as the webapp submits it.
        let custom = fields[0]["options"]
            .as_array()
            .expect("provider options")
            .iter()
            .find(|o| o["value"] == "custom")
            .cloned()
            .expect("a custom option");
        let e = &self.oidc.endpoints;
        let mut values = Map::new();
        values.insert("provider".into(), custom);
        for (name, value) in [
            ("issuer", &e.issuer),
            ("client_id", &self.oidc.client_id),
            ("client_secret", &self.oidc.client_secret),
        ] {
            values.insert(name.into(), json!(value));
        }
        let response = within(
            "the configure form's submit",
            self.mm.submit_form(&self.sam, form, Value::Object(values)),
        )
        .await;
        let text = expect_ok(&response);
        assert!(text.contains(&self.mm.complete_url()), "{text}");
        assert!(!text.contains(&self.oidc.client_secret), "{text}");
        assert_eq!(
            crate::support::world::opened_oauth2_app(
                self.mm.stored_oauth2_app().expect("the client was stored"),
                &self.app.token_keys
            ),
            json!({
                "remote_root_url": e.issuer,
                "client_id": self.oidc.client_id,
                "client_secret": self.oidc.client_secret,
                "data": {
                    "provider": "custom",
                    "issuer": e.issuer,
                    "discovered": {
                        "auth_url": e.authorization_endpoint,
                        "token_url": e.token_endpoint,
                        "userinfo_url": e.userinfo_endpoint,
                        "revoke_url": e.revocation_endpoint,
                        "scopes": SCOPES,
                        "iss_required": true
                    }
                }
            })
        );
    }

    /// `connect` as `user`: the target of the Markdown link it answers with.
    async fn connect_link(&self, user: &User) -> String {
        let text = expect_ok(&self.run(user, &format!("{COMMAND} connect")).await);
        let link = text
            .split_once("](")
            .and_then(|(_, rest)| rest.strip_suffix(')'))
            .unwrap_or_else(|| panic!("connect answered no Markdown link: {text}"));
        assert_eq!(link, self.mm.connect_url(), "{text}");
        link.to_owned()
    }

    /// `user` follows `link` in Chromium, signs in at the provider and grants or denies.
    async fn walk(&self, user: &User, link: &str, consent: Consent, shot: &str) -> WalkResult {
        let walk = browser_walk(
            &self.mm.login_url(&user.username),
            link,
            &user.username,
            consent,
            &self.mm.complete_url(),
            shot,
        )
        .await;
        assert!(
            walk.final_url.starts_with(&self.mm.complete_url()),
            "{walk:#?}"
        );
        walk
    }
}

fn secret(token: &Value, key: &str) -> String {
    token[key]
        .as_str()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| panic!("the stored token has no {key}"))
        .to_owned()
}

fn unix_now() -> i64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970");
    i64::try_from(now.as_secs()).expect("a sane clock")
}

/// Asserts that introspection calls `token` an active token of `login`'s for our client;
/// returns its `exp`.
async fn assert_active(oidc: &OidcServer, token: &str, login: &str, what: &str) -> i64 {
    let doc = oidc.introspect(token).await;
    assert_eq!(doc["active"], true, "{what} should be active: {doc}");
    assert_eq!(doc["sub"], login, "{what}: {doc}");
    assert_eq!(doc["client_id"], json!(oidc.client_id), "{what}: {doc}");
    doc["exp"].as_i64().unwrap_or(i64::MAX)
}

/// The provider's own error events (bad requests from the app would show up here).
fn oauth_errors(oidc: &OidcServer) -> Vec<String> {
    oidc.log()
        .into_iter()
        .filter(|l| l.contains(".error:") || l.contains("server_error"))
        .collect()
}

#[tokio::test]
async fn a_real_provider_and_browser_connect_refresh_and_revoke() {
    let rw = RealWorld::start().await;
    rw.configure_through_the_form().await;
    let (mm, oidc, alice) = (&rw.mm, &rw.oidc, &rw.alice);

    // connect: the link, then the user's part in Chromium, consenting at the provider.
    let link = rw.connect_link(alice).await;
    let walk_started = unix_now();
    let walk = rw
        .walk(alice, &link, Consent::Grant, "connect-consent.png")
        .await;
    let walk_ended = unix_now();
    assert_eq!(walk.status, 200, "{walk:#?}");
    assert!(walk.text.contains(COMPLETED_TEXT), "{walk:#?}");
    assert!(walk.window_close_called, "{walk:#?}");
    let query = url::Url::parse(&walk.final_url)
        .expect("the final URL parses")
        .query()
        .unwrap_or_default()
        .to_owned();
    assert!(query_value(&query, "code").is_some(), "{walk:#?}");
    assert_eq!(
        query_value(&query, "iss").as_deref(),
        Some(oidc.endpoints.issuer.as_str()),
        "RFC 9207: the provider names itself on the redirect"
    );
    // The plugin hands every query parameter to the app, `iss` included.
    let complete = mm.calls_to("/oauth2/complete");
    assert_eq!(complete.len(), 1);
    let mut keys: Vec<&String> = complete[0].request["values"]
        .as_object()
        .expect("values")
        .keys()
        .collect();
    keys.sort();
    assert_eq!(keys, ["code", "iss", "state"]);

    // The token is stored for alice, in the Go shape, and is alice's at the provider.
    let t0 = opened_token(mm, &rw.app.token_keys, alice).expect("a token is stored for alice");
    assert_eq!(t0["token_type"], "Bearer", "{}", t0["token_type"]);
    let (access0, refresh0) = (secret(&t0, "access_token"), secret(&t0, "refresh_token"));
    // The refresh token outlives the test, so it can be checked whatever the machine's pace.
    assert_active(oidc, &refresh0, "alice", "the first refresh token").await;
    let ttl = i64::try_from(ACCESS_TOKEN_TTL.as_secs()).expect("a small TTL");
    let stored_expiry = chrono::DateTime::parse_from_rfc3339(t0["expiry"].as_str().unwrap_or(""))
        .expect("the stored expiry is RFC 3339")
        .timestamp();
    assert!(
        walk_started + ttl - 1 <= stored_expiry && stored_expiry <= walk_ended + ttl + 1,
        "the stored expiry ({stored_expiry}) is the exchange time plus expires_in ({ttl} s, \
         exchanged between {walk_started} and {walk_ended})"
    );
    assert!(
        opened_token(mm, &rw.app.token_keys, &rw.bob).is_none()
            && opened_token(mm, &rw.app.token_keys, &rw.sam).is_none()
    );
    assert_eq!(
        mm.command_labels(alice, "hello-oauth2-rs").await,
        ["info", "disconnect", "help"]
    );
    oidc.wait_logged("POST /token -> 200", 1).await;

    // info: the identity the provider issued. The token expires within the app's refresh
    // margin, so it is refreshed first.
    let info = expect_ok(&rw.run(alice, &format!("{COMMAND} info")).await);
    assert!(
        info.contains(r"**Alice Example** (alice, alice@example\.test)"),
        "{info}"
    );
    assert!(info.contains("refreshed just now"), "{info}");
    assert!(
        !info.contains(&access0) && !info.contains(&refresh0),
        "{info}"
    );
    let t1 = opened_token(mm, &rw.app.token_keys, alice).expect("still connected");
    let (access1, refresh1) = (secret(&t1, "access_token"), secret(&t1, "refresh_token"));
    assert_ne!(access1, access0);
    assert_ne!(refresh1, refresh0, "the provider rotates refresh tokens");
    oidc.wait_logged("POST /token -> 200", 2).await;

    // Past the access token's lifetime: the provider itself says it is no longer active.
    // A margin for a busy machine (each check is a request to Node); far below the
    // provider's default lifetime of an hour.
    let deadline = ACCESS_TOKEN_TTL + Duration::from_secs(20);
    let expired = tokio::time::timeout(deadline, async {
        while oidc.introspect(&access1).await["active"] == true {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    assert!(
        expired.is_ok(),
        "the access token was still active {deadline:?} after it was issued"
    );

    // info with the expired token: refreshed, stored back, and it still works.
    let stores_before = mm.rest_calls_to("POST", "/oauth2/user").len();
    let info = expect_ok(&rw.run(alice, &format!("{COMMAND} info")).await);
    assert!(info.contains("Alice Example"), "{info}");
    assert!(info.contains(r"alice@example\.test"), "{info}");
    assert!(info.contains("refreshed just now"), "{info}");
    let info_call = mm.calls_to("/info").pop().expect("info was called");
    assert_eq!(
        open_token(
            &info_call.request["context"]["oauth2"]["user"],
            &rw.app.token_keys,
            &alice.id
        )
        .expect("a token")["access_token"],
        json!(access1),
        "the call carried the expired token"
    );
    let stores = mm.rest_calls_to("POST", "/oauth2/user");
    assert_eq!(stores.len(), stores_before + 1, "one store: the refresh");
    let store = stores.last().expect("a store");
    assert_eq!(store.status, 200);
    assert_eq!(store.user_id.as_deref(), Some(alice.id.as_str()));
    let t2 = opened_token(mm, &rw.app.token_keys, alice).expect("still connected");
    let (access2, refresh2) = (secret(&t2, "access_token"), secret(&t2, "refresh_token"));
    assert_ne!(access2, access1, "the stored token changed");
    assert_ne!(refresh2, refresh1, "the refresh token rotated");
    oidc.wait_logged("POST /token -> 200", 3).await;
    assert!(
        oauth_errors(oidc).is_empty(),
        "the provider saw bad requests: {:#?}",
        oidc.log()
    );

    // disconnect revokes at the provider. The last access token is alive until `exp2`, so a
    // refusal before then is the revocation, not the expiry.
    let exp2 = assert_active(oidc, &access2, "alice", "the last access token").await;
    assert_active(oidc, &refresh2, "alice", "the last refresh token").await;
    let text = expect_ok(&rw.run(alice, &format!("{COMMAND} disconnect")).await);
    assert!(text.contains("revoked"), "{text}");
    let (status, body) = oidc.userinfo(&access2).await;
    let refused_at = unix_now();
    assert_eq!(status, 401, "userinfo with the revoked token: {body}");
    assert_eq!(body["error"], "invalid_token", "{body}");
    assert!(
        refused_at < exp2,
        "too slow to tell revocation from expiry: refused at {refused_at}, expiring at {exp2}"
    );
    for (token, what) in [(&access2, "access"), (&refresh2, "refresh")] {
        let doc = oidc.introspect(token).await;
        assert_eq!(
            doc["active"], false,
            "the {what} token after disconnect: {doc}"
        );
    }
    oidc.wait_logged("POST /token/revocation -> 200", 2).await;
    assert!(
        opened_token(mm, &rw.app.token_keys, alice).is_none(),
        "cleared in Mattermost"
    );
    assert_eq!(
        mm.command_labels(alice, "hello-oauth2-rs").await,
        ["connect", "help"]
    );
    assert!(mm.dropped().is_empty(), "{:#?}", mm.dropped());
}

#[tokio::test]
async fn denying_consent_at_a_real_provider_shows_its_error_and_stores_nothing() {
    let rw = RealWorld::start().await;
    rw.configure_through_the_form().await;
    let (mm, oidc, bob) = (&rw.mm, &rw.oidc, &rw.bob);

    // status: the real discovery document and token endpoint pass the live checks (the
    // made-up code shows up in the provider's log as an invalid_grant).
    let status = expect_ok(&rw.run(&rw.sam, &format!("{COMMAND} status")).await);
    for check in [
        ":white_check_mark: Discovery: ",
        ":white_check_mark: Token endpoint: the client credentials are accepted",
    ] {
        assert!(status.contains(check), "{check} in\n{status}");
    }
    assert!(!status.contains(&oidc.client_secret), "{status}");
    oidc.wait_logged("POST /token -> 400", 1).await;
    let probes = oidc.logged("POST /token ->");

    let link = rw.connect_link(bob).await;
    let walk = rw.walk(bob, &link, Consent::Deny, "connect-deny.png").await;
    // The plugin serves the app's error response as a plain-text 500.
    assert_eq!(walk.status, 500, "{walk:#?}");
    assert!(
        walk.text
            .contains("Your account was not connected: the provider refused: access_denied"),
        "{walk:#?}"
    );
    assert!(walk.text.contains("access_denied"), "{walk:#?}");
    assert!(!walk.window_close_called, "{walk:#?}");
    let query = url::Url::parse(&walk.final_url)
        .expect("the final URL parses")
        .query()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        query_value(&query, "error").as_deref(),
        Some("access_denied")
    );
    assert!(query_value(&query, "code").is_none());

    // The app was told, answered with an error, and stored nothing.
    let complete = mm.calls_to("/oauth2/complete");
    assert_eq!(complete.len(), 1);
    assert_eq!(complete[0].request["values"]["error"], "access_denied");
    assert_eq!(
        complete[0].response.as_ref().map(|r| r["type"].clone()),
        Some(json!("error"))
    );
    assert!(
        opened_token(mm, &rw.app.token_keys, bob).is_none(),
        "nothing stored for bob"
    );
    assert!(
        mm.rest_calls_to("POST", "/oauth2/user").is_empty(),
        "{:#?}",
        mm.rest_calls()
    );
    assert_eq!(
        oidc.logged("POST /token ->"),
        probes,
        "no code was exchanged"
    );
    assert_eq!(
        mm.command_labels(bob, "hello-oauth2-rs").await,
        ["connect", "help"]
    );
}

#[tokio::test]
async fn a_replica_with_a_stale_token_does_not_spend_the_rotated_refresh_token() {
    // oidc-provider rotates refresh tokens and, like Auth0 or Okta with reuse detection,
    // answers a spent one by revoking the whole grant. Replica B holds a call whose context
    // carries the token replica A has just refreshed: if B refreshed with it, alice would
    // lose the token A stored too. (The fake provider only refuses the spent token.)
    let rw = RealWorld::start().await;
    rw.configure_through_the_form().await;
    let (mm, oidc, alice) = (&rw.mm, &rw.oidc, &rw.alice);
    let link = rw.connect_link(alice).await;
    let walk = rw
        .walk(alice, &link, Consent::Grant, "connect-replicas.png")
        .await;
    assert_eq!(walk.status, 200, "{walk:#?}");
    let t0 = opened_token(mm, &rw.app.token_keys, alice).expect("connected");

    let b = TestApp::spawn(&rw.app.secret).await;
    let info_call = json!({"path": "/info", "expand": {
        "acting_user": "id", "acting_user_access_token": "all", "oauth2_app": "all", "oauth2_user": "all"
    }});
    let stale = mm.build_request(Some(alice), &info_call, json!({}));
    assert_eq!(
        open_token(
            &stale["context"]["oauth2"]["user"],
            &rw.app.token_keys,
            &alice.id
        ),
        Some(t0.clone())
    );
    // A refreshes (the token expires within the app's margin) and stores the new token.
    let info = expect_ok(&rw.run(alice, &format!("{COMMAND} info")).await);
    assert!(info.contains("refreshed just now"), "{info}");
    let t1 = opened_token(mm, &rw.app.token_keys, alice).expect("still connected");
    assert_ne!(secret(&t1, "refresh_token"), secret(&t0, "refresh_token"));

    // B, with t0 in its context, still answers for alice, and alice stays connected.
    let (status, body) = within("info on replica B", mm.post_to(&b.root_url, &stale)).await;
    assert_eq!(status, 200);
    let response: Value = serde_json::from_str(&body).expect("a CallResponse");
    let info = expect_ok(&response);
    assert!(info.contains("Alice Example"), "{info}");
    let now = opened_token(mm, &rw.app.token_keys, alice).expect("alice is still connected");
    let access = secret(&now, "access_token");
    assert_ne!(access, secret(&t0, "access_token"));
    assert_active(
        oidc,
        &secret(&now, "refresh_token"),
        "alice",
        "the stored refresh token",
    )
    .await;
    assert!(
        oauth_errors(oidc).is_empty(),
        "the spent refresh token was presented: {:#?}",
        oidc.log()
    );
}
