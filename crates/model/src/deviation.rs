//! [`Deviation`]: the closed vocabulary of RFC 8461 deviations (the `sts_deviations` column).
//!
//! One enum covers the `_mta-sts` TXT record (RFC 8461 §3.1, prefix `txt_`), the policy body
//! (RFC 8461 §3.2) and the HTTP response that carried it (RFC 8461 §3.3). Each value is either a
//! *note* (recorded, the record/policy stays usable) or *invalidating* (a sender treats the
//! domain as having no usable policy); [`Deviation::invalidates`] says which. The positions are
//! fixed: the testbed's ground truth and the notebooks depend on them. Where senders differ, the
//! deviation is always recorded so that an analysis can apply the other reading.

use crate::vocabulary;

vocabulary! {
    /// A deviation from RFC 8461 found in a `_mta-sts` TXT record, a policy body or the policy's
    /// HTTP response. Serialized as its snake_case [`as_str`](Deviation::as_str) value.
    ///
    /// Lists of deviations are kept sorted in canonical order ([`Deviation::ALL`]) and free of
    /// duplicates (see [`Deviation::normalize`]).
    pub enum Deviation {
        TxtStrayRecords = "txt_stray_records",
            "Note (RFC 8461 §3.1). At least one TXT record at `_mta-sts` did not begin with \
             `v=STSv1` and was discarded (SPF records, hostnames left by a CNAME-style setup, \
             empty records, wrong-case versions). Recorded whatever the number of STSv1 records \
             that remain.";
        TxtMultipleRecords = "txt_multiple_records",
            "Invalidating (RFC 8461 §3.1). More than one record begins with `v=STSv1`; senders \
             assume the domain has no policy. The record status is `multiple`.";
        TxtVersionCase = "txt_version_case",
            "Note (RFC 8461 §3.1). A record begins with `v=STSv1` in another letter case \
             (`V=stsv1`). The ABNF spells the tag `%s\"v=STSv1\"` (RFC 7405: case-sensitive), so \
             mxscan does NOT accept it: the record is discarded like any stray record (and \
             `txt_stray_records` is recorded too). This deviation lets an analysis apply the \
             case-insensitive reading.";
        TxtMissingId = "txt_missing_id",
            "Invalidating (RFC 8461 §3.1). The STSv1 record has no `id=` field (`id` is \
             case-sensitive: `ID=` is an unknown field).";
        TxtInvalidId = "txt_invalid_id",
            "Invalidating (RFC 8461 §3.1). The `id` value is not 1 to 32 ALPHA / DIGIT \
             characters (empty, too long, punctuation such as `-` or `.`, non-ASCII).";
        TxtDuplicateField = "txt_duplicate_field",
            "Note (RFC 8461 §3.1). A field name occurs more than once; the first occurrence \
             wins.";
        TxtUnknownField = "txt_unknown_field",
            "Note (RFC 8461 §3.1). A syntactically valid extension field other than `v` and \
             `id`; ignored as the RFC requires.";
        TxtSyntax = "txt_syntax",
            "Note (RFC 8461 §3.1). Other text outside the ABNF: an empty field between two `;`, \
             a field without `=`, an extension name or value with forbidden characters, \
             non-ASCII or control bytes, the version tag followed by something other than `;`. \
             Position: senders split on `;` and use only `v` and `id`, so as long as those two \
             are well-formed the record stays `valid`; a strict-ABNF analysis treats this \
             deviation as invalidating.";
        NotUtf8 = "not_utf8",
            "Invalidating (RFC 8461 §3.2). The policy body is not valid UTF-8. The fields are \
             still extracted from a lossy decoding for diagnosis, but `valid` is false.";
        EmptyBody = "empty_body",
            "Invalidating (RFC 8461 §3.2). The body is empty or whitespace only (after a BOM). \
             No other field deviation (`missing_version` …) is recorded for such a body.";
        Bom = "bom",
            "Note (RFC 8461 §3.2). The body starts with a UTF-8 byte order mark; it is stripped \
             before parsing.";
        LfLineEndings = "lf_line_endings",
            "Note (RFC 8461 §3.2, erratum 6253). Every line ends in a bare LF. The ABNF's \
             `sts-policy-term = LF / CRLF` allows it and most real policies use it; never held \
             against a policy.";
        MixedLineEndings = "mixed_line_endings",
            "Note (RFC 8461 §3.2, erratum 6253). Some lines end in CRLF and others in bare LF. \
             Recorded instead of `lf_line_endings` (the two are exclusive).";
        MissingFinalNewline = "missing_final_newline",
            "Note (RFC 8461 §3.2). The last line has no line ending (the ABNF makes the final \
             `sts-policy-term` optional; recorded because it breaks naive line readers).";
        BlankLine = "blank_line",
            "Note (RFC 8461 §3.2). An empty or whitespace-only line (including a trailing empty \
             line, e.g. a body ending in two newlines). The ABNF has no empty lines; ignored.";
        LeadingWhitespace = "leading_whitespace",
            "Note (RFC 8461 §3.2). A `key: value` line is indented. The ABNF has no whitespace \
             before a key; position: accepted (the key counts).";
        SpaceBeforeColon = "space_before_colon",
            "Note (RFC 8461 §3.2). Whitespace between a key and its colon (`mode : enforce`). \
             The ABNF has none; position: accepted like an indented key (the key counts).";
        KeyCase = "key_case",
            "Note (RFC 8461 §3.2). A key that is `version`, `mode`, `max_age` or `mx` in another \
             letter case (`Mode: enforce`). Keys are case-sensitive, so the line is ignored like \
             an unknown key (only this deviation is recorded for it, not `unknown_key`), which \
             usually leaves a required key missing.";
        UnknownKey = "unknown_key",
            "Note (RFC 8461 §3.2). A well-formed `name: value` line with a name that is not a \
             policy key (extension, `max-age` for `max_age`, …); ignored as the RFC requires.";
        DuplicateKey = "duplicate_key",
            "Note (RFC 8461 §3.2). `version`, `mode` or `max_age` appears more than once; the \
             first occurrence wins (as an early draft said), later ones are ignored.";
        TrailingGarbage = "trailing_garbage",
            "Note (RFC 8461 §3.2). A line that is not `key: value` at all, wherever it is: HTML, \
             prose, `#` comments, a key that is not an ABNF `sts-policy-ext-name`. Ignored.";
        HtmlBody = "html_body",
            "Note (RFC 8461 §3.3). The body looks like HTML (contains `<html`, `<!doctype`, \
             `<head` or `<body`, any case): typically an error page served with status 200. It \
             lacks the required keys, so it is invalid through those deviations.";
        MissingVersion = "missing_version",
            "Invalidating (RFC 8461 §3.2). No `version` line.";
        InvalidVersion = "invalid_version",
            "Invalidating (RFC 8461 §3.2). The (first) `version` value is not exactly `STSv1`.";
        VersionNotFirst = "version_not_first",
            "Note (RFC 8461 §3.2). The first `version` line is not line 1. Field order is free \
             in the ABNF; recorded because some parsers expect it first.";
        MissingMode = "missing_mode",
            "Invalidating (RFC 8461 §3.2). No `mode` line.";
        UnknownMode = "unknown_mode",
            "Invalidating (RFC 8461 §3.2). The (first) `mode` value is not `enforce`, `testing` \
             or `none` (case-sensitive; `Enforce`, `report`, `enforce # comment`, empty).";
        MissingMaxAge = "missing_max_age",
            "Invalidating (RFC 8461 §3.2). No `max_age` line.";
        InvalidMaxAge = "invalid_max_age",
            "Invalidating (RFC 8461 §3.2). The (first) `max_age` value is not 1 to 10 DIGITs \
             (empty, sign, letters, unit suffix, 11 or more digits).";
        MaxAgeOutOfRange = "max_age_out_of_range",
            "Invalidating (RFC 8461 §3.2). `max_age` is larger than 31557600 (\"up to \
             31557600\"). The value is still reported in `max_age`.";
        MissingMx = "missing_mx",
            "Invalidating (RFC 8461 §3.2). No valid `mx` pattern remains and the mode is not \
             `none` (also recorded when the mode is missing or unknown).";
        InvalidMxPattern = "invalid_mx_pattern",
            "Note (RFC 8461 §3.2, §4.1). An `mx` value that is neither a hostname (LDH labels of \
             at most 63 octets, at most 253 in all) nor `*.` + hostname: U-labels, `*example.com`, \
             several names on one line, IP-literal brackets, empty. The pattern is dropped (the \
             line reads as an ignorable extension); `missing_mx` follows if none remain.";
        MxTrailingDot = "mx_trailing_dot",
            "Note (RFC 8461 §3.2). An `mx` pattern ends in a dot (`mail.example.com.`). Outside \
             the ABNF, but many senders strip it; position: accepted with the dot stripped.";
        DuplicateMx = "duplicate_mx",
            "Note (RFC 8461 §3.2). The same pattern (after lowercasing and trailing-dot \
             stripping) is listed twice; kept once.";
        ContentTypeNotTextPlain = "content_type_not_text_plain",
            "Note (RFC 8461 §3.3). The policy's HTTP media type is not `text/plain` (any \
             parameters and letter case are fine) or is missing. Senders use the policy anyway.";
    }
}

impl Deviation {
    /// Whether this deviation alone makes the record or policy unusable: a sender behaves as if
    /// the domain had no (valid) record / policy. Notes return `false`.
    #[must_use]
    pub const fn invalidates(self) -> bool {
        match self {
            Deviation::TxtMultipleRecords
            | Deviation::TxtMissingId
            | Deviation::TxtInvalidId
            | Deviation::NotUtf8
            | Deviation::EmptyBody
            | Deviation::MissingVersion
            | Deviation::InvalidVersion
            | Deviation::MissingMode
            | Deviation::UnknownMode
            | Deviation::MissingMaxAge
            | Deviation::InvalidMaxAge
            | Deviation::MaxAgeOutOfRange
            | Deviation::MissingMx => true,
            Deviation::TxtStrayRecords
            | Deviation::TxtVersionCase
            | Deviation::TxtDuplicateField
            | Deviation::TxtUnknownField
            | Deviation::TxtSyntax
            | Deviation::Bom
            | Deviation::LfLineEndings
            | Deviation::MixedLineEndings
            | Deviation::MissingFinalNewline
            | Deviation::BlankLine
            | Deviation::LeadingWhitespace
            | Deviation::SpaceBeforeColon
            | Deviation::KeyCase
            | Deviation::UnknownKey
            | Deviation::DuplicateKey
            | Deviation::TrailingGarbage
            | Deviation::HtmlBody
            | Deviation::VersionNotFirst
            | Deviation::InvalidMxPattern
            | Deviation::MxTrailingDot
            | Deviation::DuplicateMx
            | Deviation::ContentTypeNotTextPlain => false,
        }
    }

    /// Whether this deviation is about the `_mta-sts` TXT record (RFC 8461 §3.1) rather than the
    /// policy body or its HTTP response.
    #[must_use]
    pub const fn is_record_deviation(self) -> bool {
        matches!(
            self,
            Deviation::TxtStrayRecords
                | Deviation::TxtMultipleRecords
                | Deviation::TxtVersionCase
                | Deviation::TxtMissingId
                | Deviation::TxtInvalidId
                | Deviation::TxtDuplicateField
                | Deviation::TxtUnknownField
                | Deviation::TxtSyntax
        )
    }

    /// Sorts a list into canonical order ([`Deviation::ALL`]) and removes duplicates. Use it
    /// after concatenating record, policy and content-type deviations for `sts_deviations`.
    pub fn normalize(list: &mut Vec<Deviation>) {
        list.sort_unstable();
        list.dedup();
    }
}
