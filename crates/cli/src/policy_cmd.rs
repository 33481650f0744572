//! `mxscan policy …`: offline checks of MTA-STS policy bodies, `_mta-sts` TXT records and
//! `_smtp._tls` TLS-RPT records, each printed as one JSON object on stdout.

use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;

use crate::UsageError;

/// Exit status 0 whenever the input was read, whatever the verdict; 2 for unusable arguments.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Parse an mta-sts.txt policy body (RFC 8461 §3.2) and print
    /// {"valid", "version", "mode", "max_age", "mx", "deviations", "errors"}.
    Parse {
        /// The policy file; `-` (the default) reads standard input.
        #[arg(default_value = "-")]
        file: PathBuf,
    },
    /// Discover an MTA-STS policy id from the TXT records at `_mta-sts.<domain>`
    /// (RFC 8461 §3.1) and print {"status", "id", "deviations"}.
    Txt {
        /// Each argument is one TXT record as DNS returned it (its strings already joined).
        #[arg(required = true, value_name = "RECORD")]
        records: Vec<String>,
    },
    /// Parse the TXT records at `_smtp._tls.<domain>` (RFC 8460 §3) and print
    /// {"status", "rua", "deviations"}.
    Tlsrpt {
        /// Each argument is one TXT record as DNS returned it (its strings already joined).
        #[arg(required = true, value_name = "RECORD")]
        records: Vec<String>,
    },
}

/// Policy bodies beyond this are not policies (RFC 8461 §3.3 suggests a 64 KiB fetch cap);
/// reading stops here so `policy parse /dev/zero` cannot exhaust memory.
const MAX_BODY_BYTES: u64 = 16 * 1024 * 1024;

pub fn run(cmd: PolicyCommand) -> anyhow::Result<()> {
    let json = match cmd {
        PolicyCommand::Parse { file } => {
            let body = read_input(&file)?;
            serde_json::to_string(&mxscan_policy::parse_policy(&body))?
        }
        PolicyCommand::Txt { records } => {
            serde_json::to_string(&mxscan_policy::parse_sts_txt(&records))?
        }
        PolicyCommand::Tlsrpt { records } => {
            serde_json::to_string(&mxscan_policy::parse_tlsrpt_txt(&records))?
        }
    };
    println!("{json}");
    Ok(())
}

fn read_input(path: &PathBuf) -> anyhow::Result<Vec<u8>> {
    let mut body = Vec::new();
    let reader: Box<dyn Read> =
        if path.as_os_str() == "-" {
            Box::new(std::io::stdin().lock())
        } else {
            Box::new(std::fs::File::open(path).map_err(|e| {
                UsageError(format!("cannot open policy file {}: {e}", path.display()))
            })?)
        };
    reader
        .take(MAX_BODY_BYTES + 1)
        .read_to_end(&mut body)
        .with_context(|| format!("reading {}", path.display()))?;
    if body.len() as u64 > MAX_BODY_BYTES {
        return Err(UsageError(format!(
            "{} is larger than {} MiB: not a policy file",
            path.display(),
            MAX_BODY_BYTES / (1024 * 1024)
        ))
        .into());
    }
    Ok(body)
}
