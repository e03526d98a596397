//! Google Calendar: the user's calendar list (read-only scope), which `info` shows as the
//! official Go example does, with the same token and the same error handling as userinfo.

use serde::Deserialize;
use url::Url;

use super::error::ProviderError;
use super::http::get_as_user;
use crate::markdown::escape;
use crate::metrics::{self, ProviderRequest};
use mattermost_apps::secret::SecretString;

/// The most calendars listed.
pub const MAX_CALENDARS: usize = 10;

/// One entry of the list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Calendar {
    /// The calendar's name.
    #[serde(default)]
    pub summary: String,
    /// The name the user gave it, if any.
    #[serde(default, rename = "summaryOverride")]
    pub summary_override: Option<String>,
    /// The user's own calendar.
    #[serde(default)]
    pub primary: bool,
}

/// The list as read: at most [`MAX_CALENDARS`], and whether there are more.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendars {
    /// The calendars, in the API's order.
    pub items: Vec<Calendar>,
    /// The API has another page.
    pub more: bool,
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    items: Vec<Calendar>,
    #[serde(default, rename = "nextPageToken")]
    next_page_token: Option<String>,
}

/// Reads the first page of the user's calendars, with userinfo's error handling
/// (`get_as_user` in `super::http`).
pub async fn list(
    http: &reqwest::Client,
    url: &Url,
    access_token: &SecretString,
) -> Result<Calendars, ProviderError> {
    let mut url = url.clone();
    url.query_pairs_mut()
        .append_pair("maxResults", &MAX_CALENDARS.to_string());
    let body = get_as_user(http, url, access_token, "the calendar list");
    let body = metrics::provider(ProviderRequest::Calendar, body).await?;
    let page: Page = serde_json::from_slice(&body)
        .map_err(|_| ProviderError::BadResponse("the calendar list is not JSON".into()))?;
    let more = page.items.len() > MAX_CALENDARS || page.next_page_token.is_some();
    let mut items = page.items;
    items.truncate(MAX_CALENDARS);
    Ok(Calendars { items, more })
}

impl Calendars {
    /// Markdown: a heading line and one escaped, capped line per calendar.
    pub fn describe(&self) -> String {
        if self.items.is_empty() {
            return "You have no calendars.".into();
        }
        let mut text = String::from("Your calendars:");
        for calendar in &self.items {
            let name = calendar
                .summary_override
                .as_deref()
                .filter(|s| !s.trim().is_empty())
                .unwrap_or(&calendar.summary);
            let name = match name.trim() {
                "" => "(unnamed)".to_owned(),
                name => escape(name, 100),
            };
            text.push_str(&format!("\n- {name}"));
            if calendar.primary {
                text.push_str(" (primary)");
            }
        }
        if self.more {
            text.push_str(&format!("\n- … (only the first {MAX_CALENDARS} are shown)"));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendars_are_listed_escaped_and_capped() {
        let calendars = Calendars {
            items: vec![
                Calendar {
                    summary: "ada@example.com".into(),
                    primary: true,
                    ..Calendar::default()
                },
                Calendar {
                    summary: "ignored".into(),
                    summary_override: Some("[Verify](https://x.example) @all".into()),
                    primary: false,
                },
                Calendar {
                    summary: "x".repeat(300),
                    ..Calendar::default()
                },
            ],
            more: true,
        };
        let text = calendars.describe();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "Your calendars:");
        assert_eq!(lines[1], "- ada@example\\.com (primary)");
        assert_eq!(
            lines[2],
            "- \\[\u{200B}Verify\\]\\(https:\u{200B}//x\\.example\\) @\u{200B}all"
        );
        assert_eq!(lines[3], format!("- {}…", "x".repeat(99)));
        assert!(lines[4].contains("only the first 10"));
        assert_eq!(Calendars::default().describe(), "You have no calendars.");
    }

    /// Anyone who owns a calendar the user subscribes to controls its title.
    #[test]
    fn a_calendar_title_cannot_start_a_heading() {
        let calendars = Calendars {
            items: vec![Calendar {
                summary: "\u{2424}SECURITY NOTICE\u{2424}===\u{2424}".into(),
                ..Calendar::default()
            }],
            more: false,
        };
        let text = calendars.describe();
        assert_eq!(
            text,
            "Your calendars:\n- &#9252;SECURITY NOTICE&#9252;===&#9252;"
        );
    }
}
