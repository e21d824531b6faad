//! The minimal consumer refuses to start without its configuration, naming what is missing.
//! (Its login runs end to end in `end2end/tests/minimal.spec.js`; this test also makes
//! `cargo test` build the binary those tests run.)

use std::process::Command;

#[test]
fn without_configuration_it_names_the_missing_variables_and_exits_1() {
    let output = Command::new(env!("CARGO_BIN_EXE_minimal"))
        .env_clear()
        .output()
        .expect("the binary runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for variable in ["AUTHGEAR_DOMAIN", "AUTHGEAR_CLIENT_ID", "APP_SECRET_KEY"] {
        assert!(stderr.contains(variable), "{stderr}");
    }
}
