//! The bot's direct messages on the real server: the confirmation after a connect, naming
//! the account, and the one message when a refresh that outlived its call is refused.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};
use url::Url;

use crate::client::Client;
use crate::connect::{revoke_grant, run, stored_token, walk, ACCESS_TOKEN_TTL};
use crate::story::{configure_values, expect_error, Story, APP_ID, COMMAND};
use crate::support::e2e::Consent;
use crate::support::proxy;
use crate::support::util::within;

/// The app's call deadline here: short, so a held refresh outlives its call quickly.
const CALL_DEADLINE: Duration = Duration::from_secs(5);

/// A relay in front of the provider's token endpoint that can hold each request until the
/// app's call has answered.
struct SlowToken {
    provider: String,
    slow: AtomicBool,
    http: reqwest::Client,
}

async fn slow_token(
    req: HttpRequest,
    body: web::Bytes,
    relay: web::Data<SlowToken>,
) -> HttpResponse {
    if relay.slow.load(Ordering::SeqCst) {
        // Longer than the call's deadline: the call answers "slow" first, then this goes on.
        tokio::time::sleep(CALL_DEADLINE + Duration::from_secs(2)).await;
    }
    match proxy::relay(&relay.http, &req, &body, &relay.provider).await {
        Ok(answer) => answer.reply(),
        Err(_) => HttpResponse::BadGateway().body("the provider is unreachable"),
    }
}

/// The bot's messages to `client`'s user, oldest first (read as that user).
async fn bot_messages(client: &Client) -> Vec<String> {
    let (status, bot) = client
        .request("GET", &format!("/api/v4/users/username/{APP_ID}"), None)
        .await;
    assert_eq!(status, 200, "the app's bot: {bot}");
    let pair = json!([client.user.id, bot["id"]]);
    let (status, dm) = client
        .request("POST", "/api/v4/channels/direct", Some(&pair))
        .await;
    assert!(status == 200 || status == 201, "{status}: {dm}");
    let channel = dm["id"].as_str().unwrap_or("");
    let (status, posts) = client
        .request("GET", &format!("/api/v4/channels/{channel}/posts"), None)
        .await;
    assert_eq!(status, 200, "{posts}");
    let order: Vec<&str> = posts["order"]
        .as_array()
        .map(|o| o.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    // `order` is newest first.
    order
        .iter()
        .rev()
        .filter(|id| posts["posts"][**id]["user_id"] == bot["id"])
        .filter_map(|id| posts["posts"][*id]["message"].as_str())
        .map(str::to_owned)
        .collect()
}

/// Waits (bounded) until the bot has sent `client`'s user `count` messages.
async fn wait_for_messages(client: &Client, count: usize) -> Vec<String> {
    within("the bot's direct messages", async {
        loop {
            let messages = bot_messages(client).await;
            if messages.len() >= count {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await
}

#[tokio::test]
async fn the_bot_confirms_a_connect_and_tells_once_of_a_refresh_refused_unseen() {
    let story = Story::installed_with(1, |s| {
        s.call_deadline = CALL_DEADLINE;
        // The held refresh must outlive the call, not time out at the provider.
        s.http_timeout = 4 * CALL_DEADLINE;
    })
    .await;
    let oidc = story.oidc(ACCESS_TOKEN_TTL).await;
    // The token endpoint behind the relay; everything else as the provider serves it.
    let token_url = Url::parse(&oidc.endpoints.token_endpoint).expect("a token URL");
    let relay = Arc::new(SlowToken {
        provider: token_url.origin().ascii_serialization(),
        slow: AtomicBool::new(false),
        http: proxy::client(),
    });
    let (relay_url, relay_handle) = proxy::serve(relay.clone(), slow_token);
    let form = story.configure_form(&story.admin).await;
    let mut values = configure_values(&form, &oidc);
    values["token_url"] = json!(format!("{relay_url}{}", token_url.path()));
    let configured = story.admin.submit(APP_ID, &form, values).await;
    crate::story::expect_ok(&configured);

    let erin = story.user("erin").await;
    let link = story.connect_link(&erin).await;
    let done = walk(&story, &erin, &link, Consent::Grant, "real-notices.png").await;
    assert_eq!(done.status, 200, "{done:#?}");
    let confirmed = wait_for_messages(&erin, 1).await;
    assert!(
        confirmed[0].contains("You are now connected to") && confirmed[0].contains("Example"),
        "{confirmed:?}"
    );
    let token = stored_token(&story, &erin).await.expect("connected");

    // The provider forgets the grant; the next refresh outlives its call and is refused.
    revoke_grant(&oidc, &token).await;
    relay.slow.store(true, Ordering::SeqCst);
    let text = expect_error(&run(&erin, "info").await);
    assert!(text.contains("The provider is slow"), "{text}");
    let messages = wait_for_messages(&erin, 2).await;
    assert!(
        messages[1].contains("no longer accepted by the provider"),
        "{messages:?}"
    );
    assert!(
        messages[1].contains(&format!("`{COMMAND} connect`")),
        "{messages:?}"
    );
    assert!(stored_token(&story, &erin).await.is_none(), "cleared");
    // Nothing more: the connection is gone, so no call refreshes it again.
    assert_eq!(erin.command_labels(APP_ID).await, ["connect", "help"]);
    assert_eq!(bot_messages(&erin).await.len(), 2, "{messages:?}");
    relay_handle.stop(false).await;
}
