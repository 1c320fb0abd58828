//! The HTTP API as a client sees it, on SQLite and (when `FIRELINE_TEST_DATABASE_URL`
//! is set) PostgreSQL. One test binary: each module is one area of behaviour.

mod authorization;
mod bad_input;
mod comms;
mod concurrency;
mod inbound_acks;
mod lifecycle;
mod listing;
mod mattermost_app;
mod mutations;
mod oncall;
mod openapi;
mod postmortems;
mod probe_edge;
mod prometheus;
mod receivers;
mod reports;
mod runbooks;
mod schema_conformance;
mod seed_walk;
mod seed_walk_chat;
mod server;
mod slack_app;
mod status_page;
mod subscribers;
mod support;
mod tokens;
mod ui;
mod ui_admin;
mod ui_push;
