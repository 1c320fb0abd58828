//! Facts for reports and metrics.
//!
//! [`Reports`] is what the rest of fireline calls; `sql_reports!` is its one SQL
//! implementation, instantiated for both backends by `crate::sql::impl_sql_store!`.

use crate::Result;
use async_trait::async_trait;
use jiff::Timestamp;

/// Facts for reports and metrics. Part of [`Store`](crate::Store).
#[async_trait]
pub trait Reports: Send + Sync {
    /// What the response report needs of each incident declared in `[since, until)`,
    /// gathered with indexed queries (no event log is folded).
    async fn report_facts(
        &self,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<fireline_core::report::IncidentFacts>>;

    /// Open incidents counted by severity.
    async fn open_incidents_by_severity(&self) -> Result<Vec<(String, u64)>>;
}

/// Implements [`Reports`] for `$store`, a backend whose `pool` is a `sqlx::Pool<$db>`.
macro_rules! sql_reports {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::Reports for $store {
            async fn report_facts(
                &self,
                since: jiff::Timestamp,
                until: jiff::Timestamp,
            ) -> $crate::Result<Vec<fireline_core::report::IncidentFacts>> {
                use $crate::rows::{micros, timestamp};
                // The first acknowledgement, kept through reopenings (the listing's
                // acknowledged time is the latest, and a reopen clears it).
                let rows: Vec<(i64, String, String, i64, Option<i64>, Option<i64>)> = sqlx::query_as(
                    "SELECT number, severity, service, declared_at_us, first_acknowledged_at_us, resolved_at_us \
                     FROM incidents WHERE declared_at_us >= $1 AND declared_at_us < $2 ORDER BY number",
                )
                .bind(micros(since))
                .bind(micros(until))
                .fetch_all(&self.pool)
                .await?;
                let mut facts = Vec::with_capacity(rows.len());
                let mut index = std::collections::HashMap::with_capacity(rows.len());
                for (number, severity, service, declared, acked, resolved) in rows {
                    index.insert(number, facts.len());
                    facts.push(fireline_core::report::IncidentFacts {
                        id: fireline_core::IncidentId(number as u64),
                        severity,
                        service,
                        declared_at: timestamp(declared)?,
                        acknowledged_at: acked.map(timestamp).transpose()?,
                        resolved_at: resolved.map(timestamp).transpose()?,
                        first_update_at: None,
                        updates: 0,
                        updates_missed: 0,
                        escalations: 0,
                        breaches: Vec::new(),
                        postmortem_late: 0,
                    });
                }
                // Only the kinds the report counts, through the (kind, incident) index.
                let events: Vec<(i64, String, i64, String)> = sqlx::query_as(
                    "SELECT e.incident, e.kind, e.at_us, \
                     CASE WHEN e.kind = 'sla_breached' THEN e.data ELSE '' END \
                     FROM incident_events e JOIN incidents i ON i.number = e.incident \
                     WHERE e.kind IN ('update_posted', 'update_due', 'escalated', 'sla_breached', 'postmortem_due') \
                     AND i.declared_at_us >= $1 AND i.declared_at_us < $2",
                )
                .bind(micros(since))
                .bind(micros(until))
                .fetch_all(&self.pool)
                .await?;
                for (incident, kind, at, data) in events {
                    let Some(f) = index.get(&incident).and_then(|&i| facts.get_mut(i)) else {
                        continue;
                    };
                    match kind.as_str() {
                        "update_posted" => {
                            f.updates += 1;
                            let at = timestamp(at)?;
                            if f.first_update_at.is_none_or(|first| at < first) {
                                f.first_update_at = Some(at);
                            }
                        }
                        "update_due" => f.updates_missed += 1,
                        "escalated" => f.escalations += 1,
                        "postmortem_due" => f.postmortem_late += 1,
                        _ => {
                            if let Ok(fireline_core::EventData::SlaBreached { clock, .. }) =
                                serde_json::from_str(&data)
                            {
                                if !f.breaches.contains(&clock) {
                                    f.breaches.push(clock);
                                }
                            }
                        }
                    }
                }
                Ok(facts)
            }

            async fn open_incidents_by_severity(&self) -> $crate::Result<Vec<(String, u64)>> {
                let rows: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT severity, COUNT(*) FROM incidents WHERE status <> 'resolved' \
                     GROUP BY severity ORDER BY severity",
                )
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(|(s, n)| (s, n as u64)).collect())
            }
        }
    };
}

pub(crate) use sql_reports;
