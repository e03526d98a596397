//! Sealed at rest, proven on the real server: after connect, a refresh and configure, the
//! Apps plugin's rows in Mattermost's own database (`PluginKeyValueStore`, read with
//! `psql`) hold no access token, refresh token or client secret in any encoding; the app
//! still works after a restart with the same key, and after a key rotation.

use hello_oauth2_rs::seal::KeyRing;
use url::Url;

use crate::connect::{configured, field, run, stored_token, wait_expired, walk};
use crate::stack::stack;
use crate::story::{expect_ok, Story};
use crate::support::app::{token_key_for, TestApp};
use crate::support::e2e::Consent;
use crate::support::leaks::find_leak;
use crate::support::util::within;

/// The plugin whose rows are read.
const PLUGIN_ID: &str = "com.mattermost.apps";

/// The answer of `psql` to `query` on the server's database (unaligned, tab-separated).
async fn psql(query: &str) -> String {
    let pg = &stack().postgres;
    let output = within(
        "psql",
        tokio::process::Command::new(&pg.psql)
            .env("PGPASSWORD", &pg.password)
            .args(["-X", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1"])
            .args(["-h", &pg.host, "-p", &pg.port.to_string()])
            .args(["-U", &pg.user, "-d", &pg.database, "-c", query])
            .kill_on_drop(true)
            .output(),
    )
    .await
    .unwrap_or_else(|e| panic!("psql did not run ({}): {e}", pg.psql));
    assert!(
        output.status.success(),
        "psql failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Every KV row of the Apps plugin: its key and its value (as text, bytes that are not
/// UTF-8 replaced), straight from PostgreSQL.
async fn kv_rows() -> Vec<(String, String)> {
    let query = format!(
        "SELECT pkey, encode(pvalue, 'hex') FROM pluginkeyvaluestore \
         WHERE pluginid = '{PLUGIN_ID}' ORDER BY pkey"
    );
    psql(&query)
        .await
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .map(|(key, hex)| {
            let bytes: Vec<u8> = (0..hex.len() / 2)
                .filter_map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok())
                .collect();
            (key.to_owned(), String::from_utf8_lossy(&bytes).into_owned())
        })
        .collect()
}

/// How many rows are sealed with the key `kid`, counted with the query docs/INSTALL.md
/// gives operators before they drop a key (a token row holds `"kid":"…"`; the app record
/// holds the sealed secret as a JSON string, `\"kid\":\"…\"`).
async fn sealed_with(kid: &str) -> usize {
    let query = format!(
        "SELECT count(*) FROM pluginkeyvaluestore \
         WHERE pluginid = '{PLUGIN_ID}' \
           AND (convert_from(pvalue, 'UTF8') LIKE '%\"kid\":\"{kid}\"%' \
             OR convert_from(pvalue, 'UTF8') LIKE '%\\\\\"kid\\\\\":\\\\\"{kid}\\\\\"%')"
    );
    let count = psql(&query).await;
    count
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("psql counted {count:?}: {e}"))
}

/// Restarts the app behind the story's tap with the same JWT secret and the key ring `keys`.
async fn restart(story: &mut Story, keys: &str) {
    let ring = KeyRing::parse(keys).expect("the key ring parses");
    let tap_url = story.tap.url.clone();
    let app = TestApp::spawn_with(&story.app.secret, |settings| {
        settings.root_url = Url::parse(&tap_url).expect("the tap's URL parses");
        settings.token_keys = ring;
    })
    .await;
    story.tap.forward_to(&app.root_url);
    story.app = app;
}

#[tokio::test]
async fn the_servers_database_holds_no_token_or_secret_and_the_key_can_be_rotated() {
    let (mut story, oidc) = configured().await;
    let alice = story.user("alice").await;
    let link = story.connect_link(&alice).await;
    let done = walk(&story, &alice, &link, Consent::Grant, "real-sealed.png").await;
    assert_eq!(done.status, 200, "{done:#?}");
    let t0 = stored_token(&story, &alice).await.expect("connected");
    // A refresh stores a second pair; configure stores the secret again.
    wait_expired(&oidc, &field(&t0, "access_token")).await;
    let info = expect_ok(&run(&alice, "info").await);
    assert!(info.contains("refreshed just now"), "{info}");
    let t1 = stored_token(&story, &alice).await.expect("still connected");
    story.configure(&oidc).await;

    let secrets: Vec<(String, String)> = [
        ("the first access token", field(&t0, "access_token")),
        ("the first refresh token", field(&t0, "refresh_token")),
        ("the refreshed access token", field(&t1, "access_token")),
        ("the refreshed refresh token", field(&t1, "refresh_token")),
        ("the client secret", oidc.client_secret.clone()),
    ]
    .into_iter()
    .map(|(what, value)| (what.to_owned(), value))
    .collect();
    let rows = kv_rows().await;
    for (key, value) in &rows {
        assert_eq!(find_leak(value, &secrets), None, "row {key}: {value}");
    }
    // The rows read are the right ones: the app record (its client ID is not sealed) and
    // alice's token, both sealed with the app's key.
    let client_id = vec![("the client ID".to_owned(), oidc.client_id.clone())];
    assert!(
        rows.iter().any(|(_, v)| find_leak(v, &client_id).is_some()),
        "no row holds the app record: {rows:?}"
    );
    let kid = token_key_for(&story.app.secret)
        .split_once(':')
        .map(|(id, _)| id.to_owned())
        .expect("an id");
    assert_eq!(sealed_with(&kid).await, 2, "{rows:?}");

    // A restart with the same key: everything still opens.
    let old = token_key_for(&story.app.secret);
    restart(&mut story, &old).await;
    let info = expect_ok(&run(&alice, "info").await);
    assert!(info.contains("You are connected"), "{info}");

    // Rotation: a new key first, the old one second. Both open; what is stored next (the
    // refresh, configure) is sealed with the new key, after which the old key can go.
    let new = KeyRing::generate_text("rotated").expect("rng").to_string();
    restart(&mut story, &format!("{new},{old}")).await;
    let status = expect_ok(&run(&story.admin, "status").await);
    assert!(status.contains("credentials are accepted"), "{status}");
    let t2 = stored_token(&story, &alice).await.expect("still connected");
    wait_expired(&oidc, &field(&t2, "access_token")).await;
    let info = expect_ok(&run(&alice, "info").await);
    assert!(info.contains("refreshed just now"), "{info}");
    story.configure(&oidc).await;
    let rows = kv_rows().await;
    assert_eq!(sealed_with(&kid).await, 0, "{rows:?}");
    assert_eq!(sealed_with("rotated").await, 2, "{rows:?}");

    restart(&mut story, &new).await;
    let info = expect_ok(&run(&alice, "info").await);
    assert!(info.contains("You are connected"), "{info}");
    let status = expect_ok(&run(&story.admin, "status").await);
    assert!(status.contains("credentials are accepted"), "{status}");
}
