//! Row builders for what a probe captured: its `probes` row and the `certs` row of each new
//! certificate. Pure, beside [`crate::evaluate`] (which builds the `domains` and `mx` rows);
//! the scheduler only hands the rows to the sink.

use mxscan_model::{CertRow, ProbeRow, ProbeStatus, TimestampMs, TimestampS};
use mxscan_pki::{parse_cert, sha256_hex};
use mxscan_probe::smtp_probe::ProbeOutcome;

/// The `probes` row of one probe; `chain_completed` is the engine's (AIA or the pool of
/// known intermediates found the path the server's chain lacked; null without a chain).
pub fn probe_row(survey_id: &str, o: &ProbeOutcome, chain_completed: Option<bool>) -> ProbeRow {
    let tls = o.tls.as_ref();
    ProbeRow {
        survey_id: survey_id.to_string(),
        address: o.address.to_string(),
        port: o.port,
        sni: Some(o.sni.clone()),
        status: o.status,
        banner: o.banner.clone(),
        ehlo_keywords: o.ehlo_keywords.clone(),
        ehlo_keywords_tls: o.ehlo_keywords_tls.clone(),
        starttls_offered: o.starttls_offered,
        starttls_code: o.starttls_code,
        bytes_after_starttls: o.bytes_after_starttls,
        starttls_sample: (!o.after_starttls_sample.is_empty())
            .then(|| o.after_starttls_sample.clone()),
        tls_version: tls.and_then(|t| t.version.clone()),
        cipher_suite: tls.and_then(|t| t.cipher_suite.clone()),
        kx_group: tls.and_then(|t| t.kx_group.clone()),
        chain_sha256: tls
            .map(|t| t.chain.iter().map(|c| sha256_hex(c.as_ref())).collect())
            .unwrap_or_default(),
        tls_error: o.tls_error.clone(),
        tls_max_version: o.tls_max_version.map(|v| v.as_str().to_owned()),
        tls_failure: (o.status == ProbeStatus::TlsFailed)
            .then_some(o.tls_failure)
            .flatten(),
        modern_tls_failure: (o.status == ProbeStatus::TlsLegacy)
            .then_some(o.tls_failure)
            .flatten(),
        chain_completed,
        legacy_ms: o.legacy.as_ref().map(|l| l.total_ms),
        started_at: TimestampMs(o.started_at_ms),
        connect_ms: o.connect_ms,
        greeting_ms: o.greeting_ms,
        ehlo_ms: o.ehlo_ms,
        tls_ms: o.tls_ms,
        total_ms: Some(o.total_ms),
    }
}

/// The `certs` row of one certificate; `None` when it does not parse (its hash is still in
/// the probe's `chain_sha256`).
pub fn cert_row(survey_id: &str, der: &[u8]) -> Option<CertRow> {
    let info = parse_cert(der)?;
    Some(CertRow {
        survey_id: survey_id.to_string(),
        sha256: info.sha256,
        der: der.to_vec(),
        subject: info.subject,
        issuer: info.issuer,
        san_dns: info.san_dns,
        not_before: TimestampS(info.not_before),
        not_after: TimestampS(info.not_after),
        self_signed: info.self_signed,
        key_type: info.key_type,
        key_bits: info.key_bits,
        signature_algorithm: info.signature_algorithm,
    })
}
