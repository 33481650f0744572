//! Evaluation: from what was observed for one domain (its [`Plan`], the shared probe result
//! of every MX address, the policy fetch) to its `domains` row and `mx` rows. Pure: no I/O,
//! so every rule below is unit-tested on hand-made observations.
//!
//! The rules (the contract of docs/schema.md and of the testbed's ground truth):
//! - `dns_status` is about the domain's MX lookup and, when the domain has no MX (NODATA), its
//!   address lookup (RFC 5321 §5.1 implicit MX): no MX and no address is `no_mail_host`.
//!   A null MX (RFC 7505) is `ok` with `null_mx` and no mx rows.
//! - One mx row per (exchange, address); an exchange that does not resolve has no rows but is
//!   listed in `mx_hosts` and `mx_unresolved`.
//! - `mx.starttls` is null unless EHLO was answered; `mx.cert_status` is null unless the TLS
//!   handshake completed, and then judged for THIS exchange name.
//! - `starttls` / `cert_valid` aggregate over the mx rows whose value is not null
//!   ([`Coverage::of`]): all / some / none; `untested` when there are mx rows but no such
//!   value; `no_mx` when there are no mx rows.
//! - `sts_policy`: `not_fetched` unless the `_mta-sts` record is valid (RFC 8461 §3.1);
//!   `fetch_error` with its class; `invalid` when the body fails RFC 8461 §3.2; else `ok`.
//!   `sts_mx_unmatched`, `mx.sts_match` and `sts_delivery` (RFC 8461 §5) only for `ok`.

use mxscan_model::dns::LookupStatus;
use mxscan_model::observation::{DomainObs, HostView};
use mxscan_model::{
    CertStatus, Coverage, Delivery, Deviation, DomainRow, Mode, MxOutcome, MxRow, PolicyStatus,
    ProbeStatus, TxtStatus, mx_outcome,
};

use crate::plan::{Plan, txt_status};

/// Build the domain's rows from its plan and observations.
pub fn evaluate(survey_id: &str, plan: &Plan, obs: &DomainObs) -> (DomainRow, Vec<MxRow>) {
    let hosts = &plan.hosts;

    // mx rows.
    let mut mx_rows: Vec<MxRow> = Vec::new();
    let mut unresolved: Vec<String> = Vec::new();
    for ex in &obs.exchanges {
        if ex.hosts.is_empty() {
            unresolved.push(ex.exchange.clone());
        }
        for (addr, view) in &ex.hosts {
            let (smtp_status, starttls, chain) = match view {
                HostView::Blocked => (ProbeStatus::Blocked, None, None),
                HostView::Probed(h) => (h.status, h.starttls, h.chain.as_ref()),
            };
            mx_rows.push(MxRow {
                survey_id: survey_id.to_string(),
                domain: obs.domain.clone(),
                exchange: ex.exchange.clone(),
                preference: ex.preference,
                address: addr.to_string(),
                blocked: matches!(view, HostView::Blocked),
                smtp_status,
                starttls,
                cert_status: chain.map(|c| c.status_for(&ex.exchange)),
                sts_match: None,
                cert_matches_domain: chain.map(|c| c.valid_for(&obs.domain)),
            });
        }
    }
    let starttls = Coverage::of(mx_rows.len(), mx_rows.iter().filter_map(|r| r.starttls));
    let cert_valid = Coverage::of(
        mx_rows.len(),
        mx_rows
            .iter()
            .filter_map(|r| r.cert_status.map(|s| s == CertStatus::Valid)),
    );

    // MTA-STS record (RFC 8461 §3.1), parsed once by the plan.
    let sts_record = plan.sts_status;
    let mut deviations: Vec<Deviation> = if obs.sts_txt.status == LookupStatus::Ok {
        plan.sts.deviations.clone()
    } else {
        Vec::new()
    };
    // The id of a valid record only (an invalid one's problem is in the deviations).
    let sts_id = if sts_record == TxtStatus::Valid {
        plan.sts.id.clone()
    } else {
        None
    };

    // Policy (RFC 8461 §3.2, §3.3).
    let mut sts_policy = PolicyStatus::NotFetched;
    let (mut sts_fetch_error, mut sts_http_status, mut sts_content_type) = (None, None, None);
    let (mut sts_mode, mut sts_max_age, mut sts_mx) = (None, None, Vec::new());
    let mut policy_mode: Option<Mode> = None;
    if plan.fetch_policy()
        && let Some(fetch) = &obs.fetch
    {
        sts_http_status = fetch.http_status.map(i32::from);
        sts_content_type = fetch.content_type.clone();
        if let Some(err) = fetch.error {
            sts_policy = PolicyStatus::FetchError;
            sts_fetch_error = Some(err);
        } else {
            let report = mxscan_policy::parse_policy(&fetch.body);
            deviations.extend(report.deviations.iter().copied());
            deviations.extend(mxscan_policy::content_type_deviation(
                fetch.content_type.as_deref(),
            ));
            sts_mode = report.mode;
            sts_max_age = report.max_age.and_then(|a| i64::try_from(a).ok());
            sts_mx = report.mx.clone();
            if report.valid {
                sts_policy = PolicyStatus::Ok;
                policy_mode = report.mode;
            } else {
                sts_policy = PolicyStatus::Invalid;
            }
        }
    }
    Deviation::normalize(&mut deviations);

    // Verdict (RFC 8461 §4.1, §5).
    let mut sts_mx_unmatched = Vec::new();
    let mut sts_delivery = Delivery::NoPolicy;
    if let Some(mode) = policy_mode {
        let names: Vec<&str> = hosts.exchanges.iter().map(|(e, _)| e.as_str()).collect();
        sts_mx_unmatched = mxscan_policy::unmatched(&sts_mx, &names)
            .into_iter()
            .map(str::to_string)
            .collect();
        for row in &mut mx_rows {
            row.sts_match = Some(mxscan_policy::matches_any(&sts_mx, &row.exchange));
        }
        let outcomes: Vec<(&str, MxOutcome)> = mx_rows
            .iter()
            .map(|r| {
                (
                    r.exchange.as_str(),
                    mx_outcome(r.smtp_status, r.cert_status),
                )
            })
            .collect();
        sts_delivery = mxscan_policy::delivery(mode, &sts_mx, &outcomes);
    }

    // TLS-RPT (RFC 8460 §3).
    let tlsrpt = mxscan_policy::parse_tlsrpt_records(&obs.tlsrpt_txt.records);
    let tlsrpt_record = txt_status(&obs.tlsrpt_txt, tlsrpt.status);
    let tlsrpt_ok = obs.tlsrpt_txt.status == LookupStatus::Ok;

    let domain = DomainRow {
        survey_id: survey_id.to_string(),
        rank: obs.rank,
        domain: obs.domain.clone(),
        dns_status: hosts.dns_status,
        null_mx: hosts.null_mx,
        implicit_mx: hosts.implicit_mx,
        mx_hosts: hosts.exchanges.iter().map(|(e, _)| e.clone()).collect(),
        mx_unresolved: unresolved,
        starttls,
        cert_valid,
        sts_record,
        sts_id,
        sts_policy,
        sts_fetch_error,
        sts_http_status,
        sts_content_type,
        sts_mode,
        sts_max_age,
        sts_mx,
        sts_deviations: deviations.iter().map(|d| d.as_str().to_string()).collect(),
        sts_mx_unmatched,
        sts_delivery,
        tlsrpt_record,
        tlsrpt_rua: if tlsrpt_record == TxtStatus::Valid {
            tlsrpt.rua.clone()
        } else {
            Vec::new()
        },
        tlsrpt_deviations: if tlsrpt_ok {
            tlsrpt
                .deviations
                .iter()
                .map(|d| d.as_str().to_string())
                .collect()
        } else {
            Vec::new()
        },
        elapsed_ms: obs.elapsed_ms,
    };
    (domain, mx_rows)
}
