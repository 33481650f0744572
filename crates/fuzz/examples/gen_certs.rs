//! Writes the fixed testbed PKI of the certificate fuzz targets (`testdata/root.der`,
//! `intermediate.der`, `intermediate.key.pem`) and their seed chains
//! (`corpus/cert_facts/*`). Run once from `crates/fuzz`:
//!
//! ```sh
//! cargo run --example gen_certs
//! ```
//!
//! Every run makes new keys: run it only to replace the PKI, and commit the files together.
//! The chains are valid around `mxscan_fuzz::cert::AT` (2026-12-01), so the seeds cover every
//! verdict whenever the fuzzers run.

use std::fs;
use std::path::Path;

use mxscan_fuzz::cert::{ca_params, leaf_params};
use rcgen::{
    CertifiedIssuer, KeyPair, PKCS_ECDSA_P256_SHA256, PKCS_ECDSA_P384_SHA384, PKCS_ED25519,
};

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let key = |alg| KeyPair::generate_for(alg).unwrap();
    let root =
        CertifiedIssuer::self_signed(ca_params(false), key(&PKCS_ECDSA_P256_SHA256)).unwrap();
    let inter_key = key(&PKCS_ECDSA_P256_SHA256);
    let inter_pem = inter_key.serialize_pem();
    let inter = CertifiedIssuer::signed_by(ca_params(true), inter_key, &root).unwrap();
    let mut rogue_params = ca_params(false);
    rogue_params
        .distinguished_name
        .push(rcgen::DnType::OrganizationalUnitName, "rogue");
    let rogue = CertifiedIssuer::self_signed(rogue_params, key(&PKCS_ECDSA_P256_SHA256)).unwrap();

    fs::write(dir.join("testdata/root.der"), root.der()).unwrap();
    fs::write(dir.join("testdata/intermediate.der"), inter.der()).unwrap();
    fs::write(dir.join("testdata/intermediate.key.pem"), inter_pem).unwrap();

    let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let leaf = |sans: &[&str], from, to| leaf_params(&names(sans), from, to).unwrap();
    let p256 = key(&PKCS_ECDSA_P256_SHA256);
    let mut seeds: Vec<(&str, u8, Vec<Vec<u8>>)> = Vec::new();
    let good = leaf(&["mx.example.com", "*.mail.example.net"], -30, 60);
    let good_leaf = good.signed_by(&p256, &inter).unwrap();
    seeds.push((
        "valid",
        1,
        vec![good_leaf.der().to_vec(), inter.der().to_vec()],
    ));
    seeds.push((
        "valid-with-root",
        1,
        vec![
            good_leaf.der().to_vec(),
            inter.der().to_vec(),
            root.der().to_vec(),
        ],
    ));
    seeds.push((
        "valid-no-anchor",
        0,
        vec![good_leaf.der().to_vec(), inter.der().to_vec()],
    ));
    seeds.push(("incomplete-chain", 1, vec![good_leaf.der().to_vec()]));
    let expired = leaf(&["mx.example.com"], -400, -30)
        .signed_by(&p256, &inter)
        .unwrap();
    seeds.push((
        "expired",
        1,
        vec![expired.der().to_vec(), inter.der().to_vec()],
    ));
    let future = leaf(&["mx.example.com"], 30, 120)
        .signed_by(&p256, &inter)
        .unwrap();
    seeds.push((
        "not-yet-valid",
        1,
        vec![future.der().to_vec(), inter.der().to_vec()],
    ));
    let selfsigned = leaf(&["mx.example.com"], -30, 60)
        .self_signed(&p256)
        .unwrap();
    seeds.push(("self-signed", 1, vec![selfsigned.der().to_vec()]));
    let rogue_leaf = leaf(&["mx.example.com"], -30, 60)
        .signed_by(&p256, &rogue)
        .unwrap();
    seeds.push((
        "unknown-issuer",
        1,
        vec![rogue_leaf.der().to_vec(), rogue.der().to_vec()],
    ));
    let ed = leaf(&["ed.example.org", "192.0.2.7"], -30, 60)
        .signed_by(&key(&PKCS_ED25519), &inter)
        .unwrap();
    seeds.push((
        "ed25519-ip-san",
        1,
        vec![ed.der().to_vec(), inter.der().to_vec()],
    ));
    let p384 = leaf(&["MX.Upper.Example", "*.example.org"], -30, 60)
        .signed_by(&key(&PKCS_ECDSA_P384_SHA384), &inter)
        .unwrap();
    seeds.push((
        "p384-upper-san",
        1,
        vec![p384.der().to_vec(), inter.der().to_vec()],
    ));
    seeds.push(("ca-as-leaf", 1, vec![inter.der().to_vec()]));

    let out = dir.join("corpus/cert_facts");
    fs::create_dir_all(&out).unwrap();
    for (name, store, chain) in seeds {
        // byte 0: trust store; byte 1: survey time offset in weeks (0 = AT).
        let mut bytes = vec![store, 0];
        bytes.extend(chain.concat());
        fs::write(out.join(name), bytes).unwrap();
    }
    println!("wrote testdata/ and corpus/cert_facts/");
}
