//! The two Mattermost v4 calls an app makes to send a direct message, as the real server
//! (7.7, `api4/channel.go` `createDirectChannel`, `api4/post.go` `createPost`) answers
//! them: `POST /api/v4/channels/direct` (a body of two user IDs, one of them the token's
//! user; the same channel every time for the same pair) and `POST /api/v4/posts` (only in a
//! channel the token's user belongs to). Any session token is accepted (an app's bot
//! session, a personal access token, a browser login); errors are v4 error objects. Every
//! post is recorded; tests read the direct messages a user received.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::{Inner, Mattermost, User};
use crate::util::new_id;

/// Path of Mattermost's own REST API.
pub const V4_PATH: &str = "/api/v4";

/// A direct message channel between two users.
#[derive(Debug, Clone)]
pub struct DirectChannel {
    /// The channel ID.
    pub id: String,
    /// The two members' IDs, sorted (as in the channel's name, `<a>__<b>`).
    pub members: [String; 2],
}

/// One post created through `POST /api/v4/posts`.
#[derive(Debug, Clone)]
pub struct PostRecord {
    /// The post's ID.
    pub id: String,
    /// The author (the token's user).
    pub user_id: String,
    /// The channel.
    pub channel_id: String,
    /// The text.
    pub message: String,
}

fn error(status: u16, id: &str, message: &str) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).expect("a valid status"))
        .json(json!({
            "id": id, "message": message, "detailed_error": "",
            "request_id": new_id(), "status_code": status,
        }))
}

fn forbidden() -> HttpResponse {
    error(
        403,
        "api.context.permissions.app_error",
        "You do not have the appropriate permissions.",
    )
}

/// Every request under `/api/v4`.
pub(crate) async fn handle(
    req: HttpRequest,
    body: web::Bytes,
    inner: web::Data<Inner>,
) -> HttpResponse {
    let path = req.path().strip_prefix(V4_PATH).unwrap_or("");
    let token = req
        .headers()
        .get("Authorization")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_owned());
    let mut st = inner.lock();
    let user = token
        .as_deref()
        .and_then(|t| st.sessions.get(t))
        .and_then(|s| st.users.get(&s.user_id))
        .cloned();
    let Some(user) = user else {
        return error(
            401,
            "api.context.session_expired.app_error",
            "Invalid or expired session, please login again.",
        );
    };
    if req.method() != actix_web::http::Method::POST {
        return error(405, "api.context.method_not_allowed", "Method not allowed.");
    }
    if st.v4_down {
        st.records.v4_refused += 1;
        return error(500, "injected", "injected outage: posting is down");
    }
    match path {
        "/channels/direct" => {
            // Not a list of IDs: the same answer as a wrong list.
            let ids: Vec<String> = serde_json::from_slice(&body).unwrap_or_default();
            if ids.len() != 2 || ids.iter().any(|id| !st.users.contains_key(id)) {
                return error(
                    400,
                    "api.context.invalid_body_param.app_error",
                    "Invalid or missing user_ids in request body.",
                );
            }
            if !ids.contains(&user.id) && !user.is_system_admin() {
                return forbidden();
            }
            let mut members = [ids[0].clone(), ids[1].clone()];
            members.sort();
            let channel = match st.direct_channels.iter().find(|c| c.members == members) {
                Some(channel) => channel.clone(),
                None => {
                    let channel = DirectChannel {
                        id: new_id(),
                        members,
                    };
                    st.direct_channels.push(channel.clone());
                    channel
                }
            };
            HttpResponse::Created().json(json!({
                "id": channel.id, "type": "D", "team_id": "", "display_name": "",
                "name": channel.members.join("__"), "creator_id": user.id,
                "create_at": 1_700_000_000_000_i64, "update_at": 1_700_000_000_000_i64,
                "delete_at": 0, "header": "", "purpose": "",
            }))
        }
        "/posts" => {
            let post: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let channel_id = post["channel_id"].as_str().unwrap_or("");
            let message = post["message"].as_str().unwrap_or("");
            let member = st
                .direct_channels
                .iter()
                .any(|c| c.id == channel_id && c.members.contains(&user.id));
            if !member {
                return forbidden();
            }
            let record = PostRecord {
                id: new_id(),
                user_id: user.id.clone(),
                channel_id: channel_id.to_owned(),
                message: message.to_owned(),
            };
            st.records.posts.push(record.clone());
            HttpResponse::Created().json(json!({
                "id": record.id, "user_id": record.user_id, "channel_id": record.channel_id,
                "message": record.message, "root_id": "", "type": "", "props": {},
                "create_at": 1_700_000_000_000_i64, "update_at": 1_700_000_000_000_i64,
                "edit_at": 0, "delete_at": 0, "is_pinned": false,
            }))
        }
        _ => error(
            404,
            "api.context.404.app_error",
            "Sorry, we could not find the page.",
        ),
    }
}

impl Mattermost {
    /// The direct messages `user` received, oldest first (posts by the other member of a
    /// direct channel they belong to).
    pub fn direct_messages_to(&self, user: &User) -> Vec<PostRecord> {
        let st = self.inner.lock();
        st.records
            .posts
            .iter()
            .filter(|p| p.user_id != user.id)
            .filter(|p| {
                st.direct_channels
                    .iter()
                    .any(|c| c.id == p.channel_id && c.members.contains(&user.id))
            })
            .cloned()
            .collect()
    }

    /// Makes every v4 call fail with a 500 (`down`), or work again.
    pub fn set_posting_down(&self, down: bool) {
        self.inner.lock().v4_down = down;
    }

    /// How many v4 calls were refused by [`Mattermost::set_posting_down`].
    pub fn posting_refused(&self) -> usize {
        self.inner.lock().records.v4_refused
    }
}
