//! Reading the form bodies chat and telephony providers post (Slack, Mattermost,
//! Twilio), once for all of them.

/// The first value of field `name` in a parsed form.
pub(super) fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}
